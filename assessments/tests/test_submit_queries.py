"""Handing in the attempt form with its answers: one transaction, few queries, the same checks."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from assessments.models import Answer, Attempt, AttemptStatus, QuestionKind
from assessments.tests.factories import make_assessed_course
from assessments.tests.test_views import _form_data
from enrollments.models import LessonProgress
from enrollments.services import enrollment_create
from tests.fixtures import client_for

# 20 in a test, where the two outer transactions are savepoints; the code before this work
# made 30 (two transactions each locking the attempt and loading its questions, two UPDATEs
# of the attempt, and three more queries for the result's sentence). Plus 2 since webhooks
# (ADR 0160): the hand-in emits quiz.graded and lesson.completed, and each asks which
# endpoints listen, in the transaction. 12 since quizfast (ADR 0116, Update): the door's
# find is the lock, the questions come with their correct choices, no stored answers are
# read back when every question was sent, and the lesson's completion is one upsert (no
# savepoints, no get_or_create, no recount). 10 since hooklisten (ADR 0201): which endpoints
# listen is known in the process, validated by a version read with the routing token, so the
# two emits ask no query (a process that has not read the tenant's map yet pays one).
# 7 since ADR 0202: the answers and the grade are one statement, the progress upsert also
# updates the enrollment, and the door's locking find brings the questions.
HAND_IN_QUERIES = 7


@pytest.fixture
def started(in_tenant):
    course, lesson, assessment = make_assessed_course(slug="hand-in", attempts_allowed=3)
    enrollment_create(user=get_user_model().objects.get(email="learner@acme.test"), course=course)
    client = client_for(in_tenant, as_role="learner")
    client.post(f"/assessments/{course.slug}/lessons/{lesson.pk}/start/")
    attempt = Attempt.objects.get(user__email="learner@acme.test", assessment=assessment)
    return client, course, lesson, assessment, attempt


def test_handing_in_the_form_costs_a_fixed_number_of_queries(started, django_assert_max_num_queries):
    client, course, lesson, assessment, attempt = started
    form = {**_form_data(assessment), "confirm": "1"}
    with django_assert_max_num_queries(HAND_IN_QUERIES):
        done = client.post(f"/assessments/{course.slug}/attempts/{attempt.pk}/submit/", form)
    assert done.status_code == 302
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.GRADED and attempt.passed and attempt.submitted_at
    assert Answer.objects.filter(attempt=attempt, correct=True).count() == assessment.questions.count()
    assert LessonProgress.objects.get(lesson_id=lesson.pk, user=attempt.user).status == "completed"
    result = client.get(done["Location"]).content.decode()
    assert "Handed in. You passed with 100 of 100 (5 of 5 points)." in result


def test_a_refused_answer_hands_nothing_in_and_keeps_the_others(started):
    client, course, _, assessment, attempt = started
    form = {**_form_data(assessment), "confirm": "1"}
    numeric = assessment.questions.get(kind=QuestionKind.NUMERIC)
    form[f"q{numeric.pk}"] = "forty-two"
    done = client.post(f"/assessments/{course.slug}/attempts/{attempt.pk}/submit/", form)
    assert done.status_code == 302
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.IN_PROGRESS and attempt.submitted_at is None
    saved = Answer.objects.filter(attempt=attempt)
    assert saved.count() == assessment.questions.count()  # four answers, and the typed number kept
    assert saved.get(question=numeric).response == {"typed": "forty-two"}
    page = client.get(done["Location"]).content.decode()
    assert "Nothing was handed in" in page


def test_another_tenants_learner_cannot_hand_in_the_attempt(started, other_tenant):
    _, course, _, assessment, attempt = started
    form = {**_form_data(assessment), "confirm": "1"}
    stranger = client_for(other_tenant, as_role="learner")
    answer = stranger.post(f"/assessments/{course.slug}/attempts/{attempt.pk}/submit/", form)
    assert answer.status_code == 404
    connection.set_schema("acme")
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.IN_PROGRESS


def test_an_attempt_id_no_row_can_have_is_not_found(started):
    """The door's locking find is plain SQL: an id beyond bigint answers 404, as the ORM did."""
    client, course, _, assessment, attempt = started
    form = {**_form_data(assessment), "confirm": "1"}
    for attempt_id in (2**63, 10**30):
        answer = client.post(f"/assessments/{course.slug}/attempts/{attempt_id}/submit/", form)
        assert answer.status_code == 404
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.IN_PROGRESS


def test_an_essay_waits_for_a_person_with_its_answers_written_by_the_hand_in(in_tenant):
    """A quiz with an essay is handed in (answers and status in one statement) and not graded."""
    from assessments.models import Question

    course, lesson, assessment = make_assessed_course(slug="essay-hand-in")
    Question.objects.create(assessment=assessment, kind=QuestionKind.ESSAY, prompt="Why?", position=9)
    enrollment_create(user=get_user_model().objects.get(email="learner@acme.test"), course=course)
    client = client_for(in_tenant, as_role="learner")
    client.post(f"/assessments/{course.slug}/lessons/{lesson.pk}/start/")
    attempt = Attempt.objects.get(user__email="learner@acme.test", assessment=assessment)
    essay = assessment.questions.get(kind=QuestionKind.ESSAY)
    form = {**_form_data(assessment), f"q{essay.pk}": "Because.", "confirm": "1"}
    done = client.post(f"/assessments/{course.slug}/attempts/{attempt.pk}/submit/", form)
    assert done.status_code == 302
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.SUBMITTED and attempt.submitted_at and attempt.score is None
    saved = {a.question_id: a for a in Answer.objects.filter(attempt=attempt)}
    assert len(saved) == assessment.questions.count()
    assert saved[essay.pk].response == {"text": "Because."} and saved[essay.pk].correct is None
    assert all(a.correct for pk, a in saved.items() if pk != essay.pk)
    assert not LessonProgress.objects.filter(
        lesson_id=lesson.pk, user=attempt.user, status="completed"
    ).exists()
