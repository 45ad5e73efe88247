"""Authoring assessments in the tenant admin: who sees what, questions with choices, certificates."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from assessments.models import Certificate, Question, QuestionKind
from tests.fixtures import client_for

from .factories import make_assessed_course

User = get_user_model()


@pytest.fixture
def two_quizzes(in_tenant):
    mine, _, my_quiz = make_assessed_course(slug="taught-quiz")
    mine.instructors.add(User.objects.get(email="instructor@acme.test"))
    _, _, other_quiz = make_assessed_course(slug="untaught-quiz")
    return my_quiz, other_quiz


def test_admin_and_instructor_author_assessments_of_their_courses_only(in_tenant, two_quizzes):
    my_quiz, other_quiz = two_quizzes
    admin = client_for(in_tenant, as_role="admin")
    index = admin.get("/admin/").content.decode()
    assert "/admin/assessments/assessment/" in index and "/admin/assessments/certificate/" in index
    listing = admin.get("/admin/assessments/assessment/").content.decode()
    assert "Taught Quiz" in listing and "Untaught Quiz" in listing
    change = admin.get(f"/admin/assessments/assessment/{my_quiz.pk}/change/")
    assert change.status_code == 200 and "Capital of France?" in change.content.decode()

    instructor = client_for(in_tenant, as_role="instructor")
    listing = instructor.get("/admin/assessments/assessment/").content.decode()
    assert "Taught Quiz" in listing and "Untaught Quiz" not in listing
    assert instructor.get(f"/admin/assessments/assessment/{other_quiz.pk}/change/").status_code == 404
    other_question = other_quiz.questions.first()
    assert instructor.get(f"/admin/assessments/question/{other_question.pk}/change/").status_code == 404
    assert client_for(in_tenant, as_role="learner").get("/admin/assessments/assessment/").status_code == 302


def test_instructor_adds_a_single_choice_question_with_its_choices(in_tenant, two_quizzes):
    my_quiz, _ = two_quizzes
    instructor = client_for(in_tenant, as_role="instructor")
    form = instructor.get(f"/admin/assessments/question/add/?assessment={my_quiz.pk}")
    assert form.status_code == 200
    data = {
        "assessment": my_quiz.pk,
        "kind": QuestionKind.SINGLE,
        "prompt": "Which colour is the sky?",
        "points": "2",
        "position": "9",
        "tolerance": "0",
        "choices-TOTAL_FORMS": "2",
        "choices-INITIAL_FORMS": "0",
        "choices-MIN_NUM_FORMS": "0",
        "choices-MAX_NUM_FORMS": "1000",
        "choices-0-text": "Blue",
        "choices-0-is_correct": "on",
        "choices-0-position": "0",
        "choices-1-text": "Green",
        "choices-1-position": "1",
    }
    response = instructor.post("/admin/assessments/question/add/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    question = Question.objects.get(prompt="Which colour is the sky?")
    assert [(c.text, c.is_correct) for c in question.choices.all()] == [("Blue", True), ("Green", False)]


def test_admin_revokes_a_certificate_with_the_list_action(in_tenant):
    from django.utils import timezone

    course, _, _ = make_assessed_course(slug="revocable")
    learner = User.objects.get(email="learner@acme.test")
    certificate = Certificate.objects.create(
        user=learner,
        course=course,
        code="ABCD-EFGH-JKLM",
        learner_name="L",
        course_title="C",
        issued_at=timezone.now(),
    )
    instructor = client_for(in_tenant, as_role="instructor")
    instructor.post(
        "/admin/assessments/certificate/", {"action": "revoke_selected", "_selected_action": [certificate.pk]}
    )
    certificate.refresh_from_db()
    assert certificate.revoked_at is None
    admin = client_for(in_tenant, as_role="admin")
    response = admin.post(
        "/admin/assessments/certificate/",
        {"action": "revoke_selected", "_selected_action": [certificate.pk]},
        follow=True,
    )
    assert "1 certificate(s) revoked." in response.content.decode()
    certificate.refresh_from_db()
    assert certificate.revoked_at is not None
