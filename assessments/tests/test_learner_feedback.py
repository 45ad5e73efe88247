"""What a learner is told while taking a quiz (issue #11): autosave per question, the hand-in
summary, results that do not look like success when they are not, scores as people write
them, one-click start from the lesson, and the course-complete certificate link."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django_tenants.utils import schema_context

from assessments.models import Answer, Attempt, AttemptStatus, Certificate, CertificateSettings, QuestionKind
from assessments.services import attempt_start
from courses.models import Lesson
from enrollments.services import enrollment_create, lesson_complete
from tests.fixtures import client_for

from .factories import answers_for, make_assessed_course


@pytest.fixture
def learner(in_tenant):
    return get_user_model().objects.get(email="learner@acme.test")


@pytest.fixture
def quiz(in_tenant, learner):
    course, lesson, assessment = make_assessed_course(slug="feedback-quiz", attempts_allowed=3)
    enrollment_create(user=learner, course=course)
    return course, lesson, assessment


def _started(client, course, assessment) -> Attempt:
    client.post(f"/assessments/{course.slug}/lessons/{assessment.lesson_id}/start/")
    return Attempt.objects.get(assessment=assessment, status=AttemptStatus.IN_PROGRESS)


def _autosave(client, course, attempt, answers):
    return client.post(
        f"/assessments/{course.slug}/attempts/{attempt.pk}/answers/",
        json.dumps({"answers": answers}),
        content_type="application/json",
    )


def _fieldset(page: str, question_id: int) -> str:
    match = re.search(rf'<fieldset[^>]*data-question="{question_id}".*?</fieldset>', page, re.S)
    assert match, f"no fieldset for question {question_id}"
    return match.group(0)


def test_a_bad_number_in_one_question_never_discards_the_good_answer_of_another(quiz, in_tenant):
    course, _, assessment = quiz
    client = client_for(in_tenant, as_role="learner")
    attempt = _started(client, course, assessment)
    short = assessment.questions.get(kind=QuestionKind.SHORT)
    numeric = assessment.questions.get(kind=QuestionKind.NUMERIC)
    response = _autosave(
        client, course, attempt, {str(short.pk): {"text": "Paris"}, str(numeric.pk): {"value": "2,,7"}}
    )
    assert response.status_code == 422
    body = response.json()
    assert body["saved_ids"] == [short.pk] and body["saved"] == 1
    assert list(body["errors"]) == [str(numeric.pk)] and "Enter a number" in body["errors"][str(numeric.pk)]
    # A reload shows the good answer, and the bad one as typed with its error at its question.
    page = client.get(f"/assessments/{course.slug}/attempts/{attempt.pk}/").content.decode()
    assert 'value="Paris"' in _fieldset(page, short.pk)
    bad = _fieldset(page, numeric.pk)
    assert (
        'value="2,,7"' in bad and 'aria-invalid="true"' in bad and "Enter a number, e.g. 3.14 or 3,14." in bad
    )
    assert "Enter a number" not in _fieldset(page, short.pk)


def test_a_decimal_comma_is_accepted_as_a_decimal_point(quiz, in_tenant):
    course, _, assessment = quiz
    client = client_for(in_tenant, as_role="learner")
    attempt = _started(client, course, assessment)
    numeric = assessment.questions.get(kind=QuestionKind.NUMERIC)
    response = _autosave(client, course, attempt, {str(numeric.pk): {"value": "2,7"}})
    assert response.status_code == 200 and response.json()["saved_ids"] == [numeric.pk]
    assert Decimal(Answer.objects.get(attempt=attempt, question=numeric).response["value"]) == Decimal("2.7")
    page = client.get(f"/assessments/{course.slug}/attempts/{attempt.pk}/").content.decode()
    assert 'value="2,7"' in _fieldset(page, numeric.pk)  # shown back as the learner wrote it


def test_handing_in_asks_first_with_the_unanswered_count_and_the_attempts_left(quiz, in_tenant):
    course, _, assessment = quiz
    client = client_for(in_tenant, as_role="learner")
    attempt = _started(client, course, assessment)
    single = assessment.questions.get(kind=QuestionKind.SINGLE)
    right = single.choices.get(is_correct=True)
    summary = client.post(
        f"/assessments/{course.slug}/attempts/{attempt.pk}/submit/",
        {"form": "attempt", f"q{single.pk}": right.pk},
    )
    page = summary.content.decode()
    assert summary.status_code == 200
    assert 'data-unanswered="4"' in page and "4 of 5 questions are not answered" in page
    assert "After this one you have 2 attempts left." in page
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.IN_PROGRESS  # nothing handed in yet
    assert Answer.objects.get(attempt=attempt, question=single).response == {"choice": right.pk}
    done = client.post(f"/assessments/{course.slug}/attempts/{attempt.pk}/submit/", {"confirm": "1"})
    assert done.status_code == 302
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.GRADED


def test_the_last_attempt_is_announced_before_handing_in(in_tenant, learner):
    course, _, assessment = make_assessed_course(slug="last-try", attempts_allowed=1)
    enrollment_create(user=learner, course=course)
    client = client_for(in_tenant, as_role="learner")
    attempt = _started(client, course, assessment)
    page = client.post(f"/assessments/{course.slug}/attempts/{attempt.pk}/submit/", {"form": "attempt"})
    assert "This is your last attempt" in page.content.decode()


def test_a_bad_number_in_the_hand_in_form_hands_nothing_in_and_keeps_the_other_answers(quiz, in_tenant):
    course, _, assessment = quiz
    client = client_for(in_tenant, as_role="learner")
    attempt = _started(client, course, assessment)
    short = assessment.questions.get(kind=QuestionKind.SHORT)
    numeric = assessment.questions.get(kind=QuestionKind.NUMERIC)
    response = client.post(
        f"/assessments/{course.slug}/attempts/{attempt.pk}/submit/",
        {"form": "attempt", f"q{short.pk}": "Paris", f"q{numeric.pk}": "two"},
        follow=True,
    )
    page = response.content.decode()
    assert "Nothing was handed in" in page and "Your other answers are saved." in page
    assert 'value="Paris"' in _fieldset(page, short.pk) and "Enter a number" in _fieldset(page, numeric.pk)
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.IN_PROGRESS


def _hand_in(client, course, assessment, answers: dict) -> str:
    attempt = _started(client, course, assessment)
    from assessments.services import answers_save

    answers_save(user=attempt.user, attempt=attempt, answers=answers)
    done = client.post(
        f"/assessments/{course.slug}/attempts/{attempt.pk}/submit/", {"confirm": "1"}, follow=True
    )
    return done.content.decode()


def test_a_failed_result_is_a_warning_never_the_green_success(quiz, in_tenant):
    course, _, assessment = quiz
    client = client_for(in_tenant, as_role="learner")
    page = _hand_in(client, course, assessment, answers_for(assessment, right=False))
    message = re.search(r'<li class="message ([^"]*)">([^<]*did not pass[^<]*)</li>', page)
    assert message, page
    assert "success" not in message.group(1) and "warning" in message.group(1)
    assert "You have 2 attempts left." in message.group(2)
    assert 'class="result result-failed"' in page and "result-passed" not in page
    assert "Not passed" in page


def test_scores_read_7_of_10_without_needless_decimals(in_tenant, learner):
    course, _, assessment = make_assessed_course(
        slug="seven-of-ten", max_score=Decimal("10"), passing_score=Decimal("6")
    )
    points = {QuestionKind.SINGLE: 3, QuestionKind.MULTIPLE: 2, QuestionKind.TRUE_FALSE: 2}
    for question in assessment.questions.all():
        question.points = Decimal(points.get(question.kind, 1.5))
        question.save()
    enrollment_create(user=learner, course=course)
    right, wrong = answers_for(assessment, right=True), answers_for(assessment, right=False)
    answers = {
        q: (right if q_kind in points else wrong)[q]
        for q, q_kind in assessment.questions.values_list("pk", "kind")
    }
    client = client_for(in_tenant, as_role="learner")
    page = _hand_in(client, course, assessment, answers)
    assert "You passed with 7 of 10." in page and "data-score>7 of 10<" in page
    assert ".00" not in re.sub(r"<script.*?</script>", "", page, flags=re.S)
    overview = client.get(f"/assessments/{course.slug}/lessons/{assessment.lesson_id}/").content.decode()
    assert "7 of 10 · <strong>passed</strong>" in overview and "pass with 6 of 10" in overview


def test_a_quiz_starts_in_one_click_from_its_lesson(quiz, in_tenant, django_assert_max_num_queries):
    course, lesson, assessment = quiz
    client = client_for(in_tenant, as_role="learner")
    url = f"/learning/{course.slug}/lessons/{lesson.pk}/"
    client.get(url)
    with django_assert_max_num_queries(14):
        page = client.get(url).content.decode()
    form = re.search(
        r'<form method="post" action="([^"]+)">\s*<input type="hidden" name="csrfmiddlewaretoken"', page
    )
    assert form and form.group(1) == f"/assessments/{course.slug}/lessons/{lesson.pk}/start/"
    assert ">Start the quiz</button>" in page and "3 attempts left" in page
    started = client.post(form.group(1))
    attempt = Attempt.objects.get(assessment=assessment)
    assert started["Location"] == f"/assessments/{course.slug}/attempts/{attempt.pk}/"
    again = client.get(url).content.decode()
    assert "Continue your attempt" in again and f"/attempts/{attempt.pk}/" in again


def test_passing_the_last_required_item_says_the_course_is_complete_and_links_the_certificate(
    quiz, in_tenant, learner, django_capture_on_commit_callbacks
):
    course, lesson, assessment = quiz
    CertificateSettings.objects.create(course=course)
    reading = Lesson.objects.get(module__course=course, kind="text")
    lesson_complete(user=learner, course=course, lesson_id=reading.pk)
    client = client_for(in_tenant, as_role="learner")
    attempt = attempt_start(user=learner, course=course, assessment=assessment)
    from assessments.services import answers_save

    answers_save(user=learner, attempt=attempt, answers=answers_for(assessment))
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(f"/assessments/{course.slug}/attempts/{attempt.pk}/submit/", {"confirm": "1"})
    certificate = Certificate.objects.get(user=learner, course=course)
    try:
        page = client.get(done["Location"]).content.decode()
        assert "data-course-complete" in page and "You have completed Feedback Quiz." in page
        assert f'href="/certificates/{certificate.code}/download/" data-certificate-link' in page
        lesson_page = client.get(f"/learning/{course.slug}/lessons/{lesson.pk}/").content.decode()
        assert "You have completed Feedback Quiz" in lesson_page
        assert f"/certificates/{certificate.code}/download/" in lesson_page
    finally:
        default_storage.delete(certificate.file.name)


def test_the_autosave_of_another_tenant_is_404(quiz, in_tenant, other_tenant):
    course, _, assessment = quiz
    client = client_for(in_tenant, as_role="learner")
    attempt = _started(client, course, assessment)
    with schema_context(other_tenant.schema_name):
        intruder = client_for(other_tenant, as_role="learner")
        response = intruder.post(
            f"/assessments/{course.slug}/attempts/{attempt.pk}/answers/",
            json.dumps({"answers": {}}),
            content_type="application/json",
        )
        summary = intruder.post(
            f"/assessments/{course.slug}/attempts/{attempt.pk}/submit/", {"form": "attempt"}
        )
    assert response.status_code == 404 and summary.status_code == 404


def test_the_timers_hand_in_after_the_deadline_skips_the_summary(in_tenant, learner):
    from datetime import timedelta

    from django.utils import timezone

    course, _, assessment = make_assessed_course(slug="ran-out", time_limit_minutes=1)
    enrollment_create(user=learner, course=course)
    attempt = attempt_start(
        user=learner, course=course, assessment=assessment, now=timezone.now() - timedelta(minutes=2)
    )
    client = client_for(in_tenant, as_role="learner")
    done = client.post(f"/assessments/{course.slug}/attempts/{attempt.pk}/submit/", {"form": "attempt"})
    assert done.status_code == 302
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.GRADED and attempt.submitted_at == attempt.deadline
