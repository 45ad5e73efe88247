"""Taking quizzes: attempts, answers saved as you go, deadlines, attempt limits, grading, events."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.utils import timezone

from assessments.models import Answer, AssessmentKind, Attempt, AttemptStatus, QuestionKind, QuestionPool
from assessments.services import (
    AssessmentError,
    answers_save,
    attempt_grade,
    attempt_start,
    attempt_submit,
)
from assessments.signals import quiz_graded, quiz_submitted
from enrollments.models import EnrollmentStatus, LessonProgress, ProgressStatus
from enrollments.services import enrollment_create

from .factories import add_question, answers_for, make_assessed_course


@pytest.fixture
def learner(in_tenant):
    return get_user_model().objects.get(email="learner@acme.test")


@pytest.fixture
def quiz(in_tenant, learner):
    course, lesson, assessment = make_assessed_course(slug="quiz-course", passing_score=Decimal("60"))
    enrollment_create(user=learner, course=course)
    return course, lesson, assessment


@pytest.fixture
def events():
    seen = []

    def on_submitted(sender, **kwargs):
        seen.append(("quiz.submitted", {k: v for k, v in kwargs.items() if k != "signal"}))

    def on_graded(sender, **kwargs):
        seen.append(("quiz.graded", {k: v for k, v in kwargs.items() if k != "signal"}))

    quiz_submitted.connect(on_submitted, dispatch_uid="test-submitted")
    quiz_graded.connect(on_graded, dispatch_uid="test-graded")
    yield seen
    quiz_submitted.disconnect(dispatch_uid="test-submitted")
    quiz_graded.disconnect(dispatch_uid="test-graded")


def test_passing_a_quiz_grades_it_completes_the_lesson_and_sends_both_events_once(
    quiz, learner, events, django_capture_on_commit_callbacks
):
    course, lesson, assessment = quiz
    with django_capture_on_commit_callbacks(execute=True):
        attempt = attempt_start(user=learner, course=course, assessment=assessment)
        answers_save(user=learner, attempt=attempt, answers=answers_for(assessment))
        attempt, submitted = attempt_submit(user=learner, attempt=attempt)
    assert submitted
    assert attempt.status == AttemptStatus.GRADED
    assert attempt.score == Decimal("100.00") and attempt.passed is True
    progress = LessonProgress.objects.get(user=learner, lesson=lesson)
    assert progress.status == ProgressStatus.COMPLETED
    names = [name for name, _ in events]
    assert names == ["quiz.submitted", "quiz.graded"]
    submitted_payload, graded_payload = events[0][1], events[1][1]
    ids = {
        "course_id": course.pk,
        "lesson_id": lesson.pk,
        "assessment_id": assessment.pk,
        "attempt_id": attempt.pk,
        "user_id": learner.pk,
    }
    assert submitted_payload == ids
    assert {k: graded_payload[k] for k in ids} == ids
    assert graded_payload["score"] == 100.0 and graded_payload["max_score"] == 100.0
    assert graded_payload["passed"] is True
    assert len(graded_payload["questions"]) == 5
    assert all(q["correct"] and q["points"] == q["max_points"] == 1.0 for q in graded_payload["questions"])
    assert {q["question_id"] for q in graded_payload["questions"]} == set(attempt.question_ids)


def test_failing_a_quiz_does_not_complete_the_lesson(quiz, learner):
    course, lesson, assessment = quiz
    attempt = attempt_start(user=learner, course=course, assessment=assessment)
    attempt, _ = attempt_submit(user=learner, attempt=attempt, answers=answers_for(assessment, right=False))
    assert attempt.score == Decimal("0.00") and attempt.passed is False
    assert not LessonProgress.objects.filter(
        user=learner, lesson=lesson, status=ProgressStatus.COMPLETED
    ).exists()


def test_start_records_the_question_set_and_returns_the_open_attempt_again(quiz, learner):
    course, _, assessment = quiz
    first = attempt_start(user=learner, course=course, assessment=assessment)
    again = attempt_start(user=learner, course=course, assessment=assessment)
    assert again.pk == first.pk
    assert sorted(first.question_ids) == sorted(assessment.questions.values_list("pk", flat=True))
    assert first.started_at is not None and first.deadline is None


def test_answers_survive_a_reload_and_can_be_changed_until_submission(quiz, learner):
    course, _, assessment = quiz
    attempt = attempt_start(user=learner, course=course, assessment=assessment)
    single = assessment.questions.get(kind=QuestionKind.SINGLE)
    wrong, right = single.choices.filter(is_correct=False).first(), single.choices.get(is_correct=True)
    answers_save(user=learner, attempt=attempt, answers={single.pk: {"choice": wrong.pk}})
    answers_save(user=learner, attempt=attempt, answers={str(single.pk): {"choice": right.pk}})
    assert Answer.objects.get(attempt=attempt, question=single).response == {"choice": right.pk}


@pytest.mark.parametrize(
    "bad",
    [
        "question of another attempt",
        "choice of another question",
        "not a question id",
    ],
)
def test_bad_answers_are_refused_and_change_nothing(quiz, learner, bad):
    course, _, assessment = quiz
    attempt = attempt_start(user=learner, course=course, assessment=assessment)
    single = assessment.questions.get(kind=QuestionKind.SINGLE)
    multiple = assessment.questions.get(kind=QuestionKind.MULTIPLE)
    stranger = add_question(
        pool=QuestionPool.objects.create(course=course, title="Bank"), choices=[("x", True)]
    )
    answers = {
        "question of another attempt": {stranger.pk: {"choice": stranger.choices.get().pk}},
        "choice of another question": {single.pk: {"choice": multiple.choices.first().pk}},
        "not a question id": {"drop table": {"choice": 1}},
    }[bad]
    result = answers_save(user=learner, attempt=attempt, answers=answers)
    assert result.saved == [] and list(result.errors) == [str(next(iter(answers)))]
    assert not Answer.objects.filter(attempt=attempt).exists()


def test_one_unreadable_number_never_discards_the_other_answers(quiz, learner):
    """Each question is saved on its own: the good answers of the same save are kept, and the
    number that cannot be read is kept as typed with its error (a reload shows both)."""
    course, _, assessment = quiz
    attempt = attempt_start(user=learner, course=course, assessment=assessment)
    short = assessment.questions.get(kind=QuestionKind.SHORT)
    numeric = assessment.questions.get(kind=QuestionKind.NUMERIC)
    result = answers_save(
        user=learner,
        attempt=attempt,
        answers={str(short.pk): {"text": "Paris"}, str(numeric.pk): {"value": "3,,14"}},
    )
    assert result.saved == [short.pk]
    number = attempt.question_ids.index(numeric.pk) + 1
    assert result.errors == {str(numeric.pk): f"Question {number}: Enter a number, e.g. 3.14 or 3,14."}
    assert Answer.objects.get(attempt=attempt, question=short).response == {"text": "Paris"}
    assert Answer.objects.get(attempt=attempt, question=numeric).response == {"typed": "3,,14"}
    # Graded as unanswered if handed in as it is; a decimal comma is read as the number it is.
    answers_save(user=learner, attempt=attempt, answers={numeric.pk: {"value": "3,14"}})
    assert Answer.objects.get(attempt=attempt, question=numeric).response == {
        "value": "3.14",
        "typed": "3,14",
    }
    attempt, _ = attempt_submit(user=learner, attempt=attempt)
    assert Answer.objects.get(attempt=attempt, question=numeric).correct is True


def test_someone_elses_attempt_is_refused(quiz, learner):
    course, _, assessment = quiz
    attempt = attempt_start(user=learner, course=course, assessment=assessment)
    other = get_user_model().objects.get(email="instructor@acme.test")
    with pytest.raises(AssessmentError):
        answers_save(user=other, attempt=attempt, answers={})
    with pytest.raises(AssessmentError):
        attempt_submit(user=other, attempt=attempt)
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.IN_PROGRESS


def test_time_limit_is_enforced_on_the_server_with_a_fixed_clock(in_tenant, learner):
    course, _, assessment = make_assessed_course(slug="timed", time_limit_minutes=10)
    enrollment_create(user=learner, course=course)
    start = timezone.now()
    attempt = attempt_start(user=learner, course=course, assessment=assessment, now=start)
    assert attempt.deadline == start + timedelta(minutes=10)
    answers = answers_for(assessment)
    single = assessment.questions.get(kind=QuestionKind.SINGLE)
    answers_save(
        user=learner,
        attempt=attempt,
        answers={single.pk: answers[single.pk]},
        now=start + timedelta(minutes=9),
    )
    late = start + timedelta(minutes=11)
    with pytest.raises(AssessmentError, match="Time is up"):
        answers_save(user=learner, attempt=attempt, answers=answers, now=late)
    # Submitted late with every answer right: only the one saved in time counts.
    attempt, submitted = attempt_submit(user=learner, attempt=attempt, answers=answers, now=late)
    assert submitted
    assert attempt.submitted_at == attempt.deadline
    assert attempt.score == Decimal("20.00")
    assert Answer.objects.filter(attempt=attempt, correct=True).count() == 1


def test_an_attempt_left_open_past_its_deadline_is_graded_when_the_next_one_starts(in_tenant, learner):
    course, _, assessment = make_assessed_course(slug="timed-away", time_limit_minutes=5)
    enrollment_create(user=learner, course=course)
    start = timezone.now() - timedelta(hours=1)
    first = attempt_start(user=learner, course=course, assessment=assessment, now=start)
    second = attempt_start(user=learner, course=course, assessment=assessment)
    first.refresh_from_db()
    assert second.pk != first.pk and second.number == 2
    assert first.status == AttemptStatus.GRADED and first.submitted_at == first.deadline


def test_attempts_beyond_the_limit_are_refused(in_tenant, learner):
    course, _, assessment = make_assessed_course(slug="limited", attempts_allowed=2)
    enrollment_create(user=learner, course=course)
    for _ in range(2):
        attempt = attempt_start(user=learner, course=course, assessment=assessment)
        attempt_submit(user=learner, attempt=attempt, answers=answers_for(assessment, right=False))
    with pytest.raises(AssessmentError, match="used all 2 attempt"):
        attempt_start(user=learner, course=course, assessment=assessment)
    assert Attempt.objects.filter(assessment=assessment, user=learner).count() == 2


def test_submitting_twice_grades_once_and_the_score_never_changes(
    quiz, learner, events, django_capture_on_commit_callbacks
):
    course, _, assessment = quiz
    with django_capture_on_commit_callbacks(execute=True):
        attempt = attempt_start(user=learner, course=course, assessment=assessment)
        first, submitted = attempt_submit(
            user=learner, attempt=attempt, answers=answers_for(assessment, right=False)
        )
        second, again = attempt_submit(user=learner, attempt=attempt, answers=answers_for(assessment))
    assert submitted and not again
    assert first.score == second.score == Decimal("0.00")
    attempt.refresh_from_db()
    assert attempt.score == Decimal("0.00")
    assert [name for name, _ in events] == ["quiz.submitted", "quiz.graded"]


def test_auditing_learners_cannot_start_graded_work(in_tenant, learner):
    course, _, assessment = make_assessed_course(slug="audited")
    enrollment = enrollment_create(user=learner, course=course)
    enrollment.status = EnrollmentStatus.AUDITING
    enrollment.save()
    with pytest.raises(AssessmentError, match="auditing"):
        attempt_start(user=learner, course=course, assessment=assessment)
    assert not Attempt.objects.exists()


def test_availability_window_is_respected(in_tenant, learner):
    course, _, assessment = make_assessed_course(
        slug="windowed", available_from=timezone.now() + timedelta(days=1)
    )
    enrollment_create(user=learner, course=course)
    with pytest.raises(AssessmentError, match="opens on"):
        attempt_start(user=learner, course=course, assessment=assessment)


def test_question_bank_draws_n_random_questions(in_tenant, learner):
    course, _, assessment = make_assessed_course(slug="banked", questions=False)
    pool = QuestionPool.objects.create(course=course, title="Bank")
    bank = [add_question(pool=pool, choices=[("a", True), ("b", False)], prompt=f"Q{n}") for n in range(6)]
    assessment.draws.create(pool=pool, count=3)
    enrollment_create(user=learner, course=course)
    attempt = attempt_start(user=learner, course=course, assessment=assessment)
    assert len(attempt.question_ids) == 3
    assert set(attempt.question_ids) <= {q.pk for q in bank}


def test_essay_waits_for_a_grader_who_scores_it_and_the_learner_gets_an_email(
    in_tenant, learner, django_capture_on_commit_callbacks
):
    course, lesson, assessment = make_assessed_course(
        slug="essayed", questions=False, passing_score=Decimal("50")
    )
    essay = add_question(assessment, kind=QuestionKind.ESSAY, points="4", prompt="Explain.")
    enrollment_create(user=learner, course=course)
    attempt = attempt_start(user=learner, course=course, assessment=assessment)
    attempt, _ = attempt_submit(user=learner, attempt=attempt, answers={essay.pk: {"text": "Because."}})
    assert attempt.status == AttemptStatus.SUBMITTED and attempt.score is None
    instructor = get_user_model().objects.get(email="instructor@acme.test")
    with pytest.raises(AssessmentError, match="staff"):
        attempt_grade(actor=instructor, attempt=attempt, question_points={str(essay.pk): "3"})
    course.instructors.add(instructor)
    instructor = get_user_model().objects.get(pk=instructor.pk)
    with pytest.raises(AssessmentError, match="between 0 and 4"):
        attempt_grade(actor=instructor, attempt=attempt, question_points={str(essay.pk): "5"})
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        attempt = attempt_grade(
            actor=instructor, attempt=attempt, question_points={str(essay.pk): "3"}, comment="Good start."
        )
    assert attempt.score == Decimal("75.00") and attempt.passed and attempt.graded_by == instructor
    assert LessonProgress.objects.get(user=learner, lesson=lesson).status == ProgressStatus.COMPLETED
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["learner@acme.test"]
    assert "Score: 75 of 100 (passed)" in message.body and "Good start." in message.body
    assert f"/assessments/essayed/attempts/{attempt.pk}/" in message.body
    with pytest.raises(AssessmentError, match="already graded"):
        attempt_grade(actor=instructor, attempt=attempt, question_points={str(essay.pk): "0"})


def test_assignment_graded_with_a_rubric(in_tenant, learner, django_capture_on_commit_callbacks):
    from assessments.services import assignment_submit

    course, lesson, assessment = make_assessed_course(
        slug="assigned", kind=AssessmentKind.ASSIGNMENT, passing_score=Decimal("50")
    )
    clarity = assessment.rubric.create(title="Clarity", points=Decimal("6"))
    depth = assessment.rubric.create(title="Depth", points=Decimal("4"))
    enrollment_create(user=learner, course=course)
    with pytest.raises(AssessmentError, match="Write your answer"):
        assignment_submit(user=learner, course=course, assessment=assessment, text="  ")
    attempt = assignment_submit(user=learner, course=course, assessment=assessment, text="My essay.")
    with pytest.raises(AssessmentError, match="waiting for a grade"):
        assignment_submit(user=learner, course=course, assessment=assessment, text="Another.")
    admin = get_user_model().objects.get(email="admin@acme.test")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        attempt = attempt_grade(
            actor=admin,
            attempt=attempt,
            rubric={str(clarity.pk): "5", str(depth.pk): "1"},
            comment="More depth.",
        )
    assert attempt.score == Decimal("60.00") and attempt.passed
    assert attempt.rubric_scores == {str(clarity.pk): "5.00", str(depth.pk): "1.00"}
    assert LessonProgress.objects.get(user=learner, lesson=lesson).status == ProgressStatus.COMPLETED
    assert len(mail.outbox) == 1 and "More depth." in mail.outbox[0].body


def test_passing_a_quiz_opens_the_lesson_that_requires_it(in_tenant, learner):
    from courses.models import Lesson, LessonKind
    from courses.selectors import outline_for
    from courses.services import course_publish, lesson_set_prerequisites
    from enrollments.access import lesson_decision
    from enrollments.selectors import completed_lesson_ids

    course, lesson, assessment = make_assessed_course(slug="gated", publish=False)
    admin = get_user_model().objects.get(email="admin@acme.test")
    after = Lesson.objects.create(
        module=lesson.module, title="After the quiz", kind=LessonKind.TEXT, body="x", position=9
    )
    lesson_set_prerequisites(actor=admin, lesson=after, prerequisites=[lesson])
    course_publish(actor=admin, course=course)
    course.refresh_from_db()
    enrollment = enrollment_create(user=learner, course=course)

    def opens() -> bool:
        outline = outline_for(course)
        return lesson_decision(
            user=learner,
            course=course,
            lesson=outline.lesson(after.pk),
            enrollment=enrollment,
            completed=completed_lesson_ids(user=learner, course=course),
        ).allowed

    assert not opens()
    attempt = attempt_start(user=learner, course=course, assessment=assessment)
    attempt_submit(user=learner, attempt=attempt, answers=answers_for(assessment, right=False))
    assert not opens()  # failing does not unlock it
    attempt = attempt_start(user=learner, course=course, assessment=assessment)
    attempt_submit(user=learner, attempt=attempt, answers=answers_for(assessment))
    assert opens()


def test_two_hand_ins_racing_for_the_same_attempt_number_refuse_the_second(in_tenant, learner, monkeypatch):
    from assessments import services
    from assessments.models import Attempt

    course, _, assessment = make_assessed_course(slug="racing", kind=AssessmentKind.ASSIGNMENT)
    enrollment_create(user=learner, course=course)
    first = services.assignment_submit(user=learner, course=course, assessment=assessment, text="Tab one.")
    # The second tab read "no attempts yet" before the first one committed.
    monkeypatch.setattr(services, "_require_open_assignment", lambda **kwargs: [])
    with pytest.raises(AssessmentError, match="just handed in from another tab"):
        services.assignment_submit(user=learner, course=course, assessment=assessment, text="Tab two.")
    assert list(Attempt.objects.filter(assessment=assessment, user=learner)) == [first]
