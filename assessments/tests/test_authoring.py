"""The authoring services of assessments (ADR 0170): each writes its audit row with before and
after, a refusal changes nothing and leaves no audit row, and the admin writes through them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from accounts.models import AuditEntry
from assessments.authoring import (
    assessment_create,
    assessment_delete,
    assessment_update,
    question_create,
    question_delete,
    question_reorder,
    question_update,
)
from assessments.models import Assessment, Attempt, Choice, Question, QuestionKind, QuestionPool
from assessments.services import AssessmentError
from core.errors import NotFound
from courses.models import Lesson, LessonKind
from tests.fixtures import client_for

from .factories import add_question, make_assessed_course

User = get_user_model()


@pytest.fixture
def admin(in_tenant):
    return User.objects.get(email="admin@acme.test")


@pytest.fixture
def instructor(in_tenant):
    return User.objects.get(email="instructor@acme.test")


@pytest.fixture
def quiz(in_tenant, instructor):
    course, _, assessment = make_assessed_course(slug="authoring-quiz", publish=False)
    course.instructors.add(instructor)
    return assessment


def _audit(action: str, target) -> AuditEntry:
    rows = AuditEntry.objects.filter(action=action, target_id=str(target.pk))
    assert rows.count() == 1, f"expected one {action} row, found {rows.count()}"
    return rows.get()


def _state(*models) -> dict:
    """Every row of the given models and of the audit log, to compare before and after a refusal."""
    return {
        model._meta.label: sorted(map(repr, model.objects.values_list())) for model in (*models, AuditEntry)
    }


def _spare_quiz_lesson(assessment: Assessment, title: str = "Second quiz") -> Lesson:
    module = assessment.lesson.module
    return Lesson.objects.create(module=module, title=title, kind=LessonKind.QUIZ, position=9)


# --- assessments ----------------------------------------------------------------------


def test_assessment_create_update_and_delete_are_audited(quiz, instructor):
    lesson = _spare_quiz_lesson(quiz)
    created = assessment_create(
        actor=instructor, lesson=lesson, max_score=Decimal("10"), passing_score=Decimal("5")
    )
    row = _audit("assessment.created", created)
    assert row.actor == instructor and row.after["lesson"] == lesson.pk and row.after["max_score"] == "10"

    created.time_limit_minutes = 30  # a form would have set it on the object already
    assessment_update(actor=instructor, assessment=created, time_limit_minutes=30, shuffle_questions=False)
    row = _audit("assessment.updated", created)
    assert row.before == {"time_limit_minutes": None} and row.after == {"time_limit_minutes": 30}

    assessment_delete(actor=instructor, assessment=created)
    assert not Assessment.objects.filter(pk=created.pk).exists()
    assert _audit("assessment.deleted", created).before["lesson"] == lesson.pk


def test_assessment_refusals_change_nothing_and_leave_no_audit_row(quiz, instructor):
    lesson = _spare_quiz_lesson(quiz)
    _, _, theirs = make_assessed_course(slug="not-taught", publish=False)
    before = _state(Assessment)
    with pytest.raises(AssessmentError) as refused:
        assessment_create(
            actor=instructor, lesson=lesson, max_score=Decimal("10"), passing_score=Decimal("20")
        )
    assert refused.value.field == "passing_score"
    with pytest.raises(AssessmentError) as refused:
        assessment_create(actor=instructor, lesson=quiz.lesson)  # it has its assessment already
    assert refused.value.field == "lesson"
    with pytest.raises(AssessmentError) as refused:
        assessment_create(actor=instructor, lesson=lesson, lesson_id=1)
    assert refused.value.field == "lesson_id"
    with pytest.raises(AssessmentError):
        assessment_update(actor=instructor, assessment=theirs, instructions="Mine now")
    with pytest.raises(AssessmentError) as refused:
        assessment_update(actor=instructor, assessment=quiz, max_file_mb=0)
    assert refused.value.field == "max_file_mb" and quiz.max_file_mb == 20  # the object is put back
    with pytest.raises(AssessmentError):
        assessment_delete(actor=instructor, assessment=theirs)
    assert _state(Assessment) == before


def test_an_assessment_with_attempts_is_not_deleted(quiz, instructor):
    learner = User.objects.get(email="learner@acme.test")
    Attempt.objects.create(assessment=quiz, user=learner, number=1, started_at=quiz.created_at)
    before = _state(Assessment, Question, Attempt)
    with pytest.raises(AssessmentError) as refused:
        assessment_delete(actor=instructor, assessment=quiz)
    assert refused.value.status == 409
    assert _state(Assessment, Question, Attempt) == before


# --- questions ------------------------------------------------------------------------


def test_question_create_with_choices_update_and_delete_are_audited(quiz, instructor):
    question = question_create(
        actor=instructor,
        assessment=quiz,
        kind=QuestionKind.SINGLE,
        prompt="Largest planet?",
        choices=[{"text": "Jupiter", "is_correct": True}, {"text": "Mars"}],
    )
    assert question.position == 6  # after the five standard questions (positions 1..5)
    assert [(c.text, c.is_correct, c.position) for c in question.choices.all()] == [
        ("Jupiter", True, 0),
        ("Mars", False, 1),
    ]
    row = _audit("question.created", question)
    assert row.after["prompt"] == "Largest planet?" and row.after["choices"][0] == {
        "text": "Jupiter",
        "is_correct": True,
    }

    jupiter, mars = question.choices.all()
    question_update(
        actor=instructor,
        question=question,
        prompt="Largest planet of the solar system?",
        choices=[
            {"id": mars.pk, "text": "Mars"},
            {"id": jupiter.pk, "text": "Jupiter", "is_correct": True},
            {"text": "Earth"},
        ],
    )
    assert [c.text for c in question.choices.all()] == ["Mars", "Jupiter", "Earth"]
    assert question.choices.get(text="Jupiter").pk == jupiter.pk  # kept, not re-created
    row = _audit("question.updated", question)
    assert row.before["prompt"] == "Largest planet?"
    assert [c["text"] for c in row.after["choices"]] == ["Mars", "Jupiter", "Earth"]

    question_delete(actor=instructor, question=question)
    assert not Question.objects.filter(pk=question.pk).exists()
    assert not Choice.objects.filter(pk=jupiter.pk).exists()
    assert _audit("question.deleted", question).before["prompt"] == "Largest planet of the solar system?"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": QuestionKind.SINGLE, "choices": [{"text": "A"}, {"text": "B"}]}, "choices"),
        (
            {"kind": QuestionKind.SINGLE, "choices": [{"text": "A", "is_correct": True}] * 2},
            "choices",
        ),
        ({"kind": QuestionKind.MULTIPLE, "choices": [{"text": "A"}, {"text": "B"}]}, "choices"),
        ({"kind": QuestionKind.MULTIPLE, "choices": [{"text": "A", "is_correct": True}]}, "choices"),
        (
            {"kind": QuestionKind.MULTIPLE, "choices": [{"text": " ", "is_correct": True}, {"text": "B"}]},
            "choices",
        ),
        ({"kind": QuestionKind.ESSAY, "choices": [{"text": "A", "is_correct": True}]}, "choices"),
        (
            {"kind": QuestionKind.NUMERIC, "numeric_answer": Decimal("1"), "tolerance": Decimal("-1")},
            "tolerance",
        ),
        ({"kind": QuestionKind.NUMERIC}, "numeric_answer"),
        ({"kind": QuestionKind.TRUE_FALSE}, "correct_true"),
        ({"kind": QuestionKind.SHORT, "accepted_answers": "  "}, "accepted_answers"),
        ({"kind": QuestionKind.ESSAY, "points": Decimal("-1")}, "points"),
        ({"kind": QuestionKind.ESSAY, "prompt": ""}, "prompt"),
    ],
)
def test_question_create_refuses_a_question_that_cannot_be_answered(quiz, instructor, fields, field):
    before = _state(Question, Choice)
    fields = {"prompt": "Refused?", **fields}
    with pytest.raises(AssessmentError) as refused:
        question_create(actor=instructor, assessment=quiz, **fields)
    assert refused.value.field == field
    assert _state(Question, Choice) == before


def test_question_update_refusals_change_nothing(quiz, instructor):
    single = quiz.questions.get(kind=QuestionKind.SINGLE)
    numeric = quiz.questions.get(kind=QuestionKind.NUMERIC)
    _, _, theirs = make_assessed_course(slug="not-taught-q", publish=False)
    before = _state(Question, Choice)
    with pytest.raises(AssessmentError) as refused:
        question_update(
            actor=instructor,
            question=single,
            choices=[{"id": c.pk, "text": c.text} for c in single.choices.all()],
        )
    assert refused.value.field == "choices"
    with pytest.raises(AssessmentError) as refused:
        question_update(actor=instructor, question=single, kind=QuestionKind.MULTIPLE, choices=[])
    assert refused.value.field == "choices" and single.kind == QuestionKind.SINGLE
    with pytest.raises(AssessmentError) as refused:
        question_update(actor=instructor, question=numeric, tolerance=Decimal("-0.5"))
    assert refused.value.field == "tolerance" and numeric.tolerance == Decimal("0.01")
    other = theirs.questions.get(kind=QuestionKind.SINGLE)
    with pytest.raises(AssessmentError) as refused:
        question_update(
            actor=instructor,
            question=single,
            choices=[{"id": c.pk, "text": c.text, "is_correct": True} for c in other.choices.all()[:1]]
            + [{"text": "B"}],
        )
    assert refused.value.field == "choices"
    with pytest.raises(AssessmentError):
        question_update(actor=instructor, question=other, prompt="Mine now")
    with pytest.raises(AssessmentError):
        question_update(actor=instructor, question=single, assessment=theirs)
    with pytest.raises(AssessmentError):
        question_delete(actor=instructor, question=other)
    assert _state(Question, Choice) == before


def test_question_reorder_is_audited_and_refuses_a_partial_or_foreign_list(quiz, instructor):
    ids = list(quiz.questions.order_by("position", "id").values_list("pk", flat=True))
    wanted = list(reversed(ids))
    assert question_reorder(actor=instructor, assessment=quiz, question_ids=wanted) == wanted
    assert list(quiz.questions.order_by("position", "id").values_list("pk", flat=True)) == wanted
    row = _audit("assessment.questions_reordered", quiz)
    assert row.before == ids and row.after == wanted

    _, _, theirs = make_assessed_course(slug="not-mine-order", publish=False)
    before = _state(Question)
    with pytest.raises(AssessmentError) as refused:
        question_reorder(actor=instructor, assessment=quiz, question_ids=wanted[1:])
    assert refused.value.field == "question_ids"
    with pytest.raises(AssessmentError):
        question_reorder(
            actor=instructor, assessment=quiz, question_ids=[*wanted, theirs.questions.first().pk]
        )
    with pytest.raises(NotFound):
        question_reorder(actor=instructor, assessment=quiz, question_ids=[*wanted, 10**9])
    with pytest.raises(AssessmentError):
        question_reorder(
            actor=instructor,
            assessment=theirs,
            question_ids=list(theirs.questions.values_list("pk", flat=True)),
        )
    assert _state(Question) == before


def test_the_services_refuse_a_learner(quiz):
    learner = User.objects.get(email="learner@acme.test")
    before = _state(Assessment, Question)
    with pytest.raises(AssessmentError):
        assessment_create(actor=learner, lesson=_spare_quiz_lesson(quiz))
    with pytest.raises(AssessmentError):
        question_create(actor=learner, assessment=quiz, kind=QuestionKind.ESSAY, prompt="Mine?")
    with pytest.raises(AssessmentError):
        assessment_update(actor=learner, assessment=quiz, instructions="Mine")
    assert _state(Assessment, Question) == before


# --- the admin writes through them ---------------------------------------------------------


def _choice_rows(rows, initial: int = 0) -> dict:
    data = {
        "choices-TOTAL_FORMS": str(len(rows)),
        "choices-INITIAL_FORMS": str(initial),
        "choices-MIN_NUM_FORMS": "0",
        "choices-MAX_NUM_FORMS": "1000",
    }
    for n, row in enumerate(rows):
        data.update({f"choices-{n}-{k}": v for k, v in row.items()})
    return data


def _question_form(quiz, **fields) -> dict:
    return {
        "assessment": quiz.pk,
        "kind": QuestionKind.SINGLE,
        "prompt": "Which colour is the sky?",
        "points": "1",
        "position": "9",
        "tolerance": "0",
        **fields,
    }


def test_adding_a_question_in_the_admin_writes_through_the_service(in_tenant, quiz):
    client = client_for(in_tenant, as_role="instructor")
    rows = [
        {"text": "Blue", "is_correct": "on", "position": "0"},
        {"text": "Green", "position": "1"},
        {"text": "", "position": "0"},  # an extra row left as shown is not a choice
    ]
    response = client.post("/admin/assessments/question/add/", {**_question_form(quiz), **_choice_rows(rows)})
    assert response.status_code == 302
    question = Question.objects.get(prompt="Which colour is the sky?")
    assert [(c.text, c.is_correct) for c in question.choices.all()] == [("Blue", True), ("Green", False)]
    row = _audit("question.created", question)
    assert row.actor.email == "instructor@acme.test" and len(row.after["choices"]) == 2


def test_a_question_refused_by_the_service_is_a_form_error_and_nothing_is_saved(in_tenant, quiz):
    client = client_for(in_tenant, as_role="instructor")
    rows = [{"text": "Blue", "position": "0"}, {"text": "Green", "position": "1"}]
    before = _state(Question, Choice)
    response = client.post("/admin/assessments/question/add/", {**_question_form(quiz), **_choice_rows(rows)})
    assert response.status_code == 200
    assert "Mark exactly one choice as correct." in response.content.decode()
    assert 'value="Blue"' in response.content.decode()  # what was typed is kept
    assert _state(Question, Choice) == before


def test_changing_a_question_in_the_admin_is_audited_with_its_choices(in_tenant, quiz):
    question = quiz.questions.get(kind=QuestionKind.SINGLE)
    three, four, five = question.choices.all()
    rows = [
        {"id": three.pk, "question": question.pk, "text": "3", "position": "0"},
        {"id": four.pk, "question": question.pk, "text": "Four", "is_correct": "on", "position": "1"},
        {"id": five.pk, "question": question.pk, "text": "5", "position": "2", "DELETE": "on"},
    ]
    data = {**_question_form(quiz, prompt=question.prompt, position="1"), **_choice_rows(rows, initial=3)}
    response = client_for(in_tenant, as_role="instructor").post(
        f"/admin/assessments/question/{question.pk}/change/", data
    )
    assert response.status_code == 302
    assert [c.text for c in question.choices.all()] == ["3", "Four"]
    row = _audit("question.updated", question)
    assert [c["text"] for c in row.before["choices"]] == ["3", "4", "5"]
    assert [c["text"] for c in row.after["choices"]] == ["3", "Four"]


def test_saving_and_deleting_an_assessment_in_the_admin_is_audited(in_tenant, quiz):
    client = client_for(in_tenant, as_role="instructor")
    page = client.get(f"/admin/assessments/assessment/{quiz.pk}/change/")
    assert page.status_code == 200
    data = {
        "lesson": quiz.lesson_id,
        "kind": "quiz",
        "instructions": "Take your time.",
        "max_score": "100",
        "passing_score": "60",
        "grade_policy": "best",
        "show_answers": "after_last",
        "accepts_text": "on",
        "accepts_file": "on",
        "max_file_mb": "20",
        "draws-TOTAL_FORMS": "0",
        "draws-INITIAL_FORMS": "0",
        "rubric-TOTAL_FORMS": "0",
        "rubric-INITIAL_FORMS": "0",
    }
    response = client.post(f"/admin/assessments/assessment/{quiz.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    row = _audit("assessment.updated", quiz)
    assert row.before == {"instructions": ""} and row.after == {"instructions": "Take your time."}

    learner = User.objects.get(email="learner@acme.test")
    Attempt.objects.create(assessment=quiz, user=learner, number=1, started_at=quiz.created_at)
    response = client.post(f"/admin/assessments/assessment/{quiz.pk}/delete/", {"post": "yes"}, follow=True)
    assert "erase their grades" in response.content.decode()
    assert Assessment.objects.filter(pk=quiz.pk).exists()
    Attempt.objects.filter(assessment=quiz).delete()
    response = client.post(f"/admin/assessments/assessment/{quiz.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302 and not Assessment.objects.filter(pk=quiz.pk).exists()
    assert _audit("assessment.deleted", quiz)


def test_deleting_a_question_in_the_admin_is_audited(in_tenant, quiz):
    question = quiz.questions.first()
    response = client_for(in_tenant, as_role="instructor").post(
        f"/admin/assessments/question/{question.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 302 and not Question.objects.filter(pk=question.pk).exists()
    assert _audit("question.deleted", question)


# --- another tenant's objects ------------------------------------------------------------------


def _beyond_ours(tenant, other_tenant):
    """A quiz, its question and a bank in `other_tenant` whose ids are all unknown in `tenant`."""
    connection.set_tenant(tenant)
    highest = {
        model: model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        for model in (Assessment, Question, QuestionPool)
    }
    connection.set_tenant(other_tenant)
    n = 0
    while True:
        n += 1
        course, _, quiz = make_assessed_course(slug=f"theirs-{n}", publish=False)
        question = quiz.questions.first()
        bank = QuestionPool.objects.create(course=course, title="Their bank")
        add_question(pool=bank, kind=QuestionKind.ESSAY, prompt="Their banked question?")
        if (
            quiz.pk > highest[Assessment]
            and question.pk > highest[Question]
            and bank.pk > highest[QuestionPool]
        ):
            return {"assessment": quiz, "question": question, "questionpool": bank}


@pytest.mark.parametrize("model", ["assessment", "question", "questionpool"])
@pytest.mark.parametrize("page", ["change", "delete"])
def test_another_tenants_quiz_question_or_bank_is_not_found(tenant, other_tenant, model, page):
    theirs = _beyond_ours(tenant, other_tenant)[model]
    connection.set_schema_to_public()
    response = client_for(tenant, as_role="admin").post(
        f"/admin/assessments/{model}/{theirs.pk}/{page}/",
        {"post": "yes", "title": "Planted", "prompt": "Planted"},
    )
    assert response.status_code == 404
    connection.set_tenant(other_tenant)
    assert type(theirs).objects.filter(pk=theirs.pk).exists()
    assert not AuditEntry.objects.filter(target_id=str(theirs.pk), action__endswith="deleted").exists()
