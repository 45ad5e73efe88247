"""Question banks, draws, rubrics, grading and certificates: every write is a service with its audit
row (ADR 0170), a refusal changes nothing and leaves no audit row, another tenant's objects
are not found."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from accounts.models import AuditEntry
from assessments.authoring import (
    bank_add_question,
    bank_create,
    bank_delete,
    bank_remove_question,
    bank_update,
)
from assessments.certificates import CertificateError, certificate_revoke
from assessments.models import (
    Answer,
    AssessmentKind,
    Attempt,
    AttemptStatus,
    Certificate,
    CertificateSettings,
    PoolDraw,
    Question,
    QuestionKind,
    QuestionPool,
    RubricCriterion,
)
from assessments.services import AssessmentError, assignment_submit, attempt_grade
from core.errors import NotFound
from enrollments.services import enrollment_create
from tests.fixtures import client_for

from .factories import add_question, make_assessed_course

User = get_user_model()


@pytest.fixture
def instructor(in_tenant):
    return User.objects.get(email="instructor@acme.test")


@pytest.fixture
def learner(in_tenant):
    return User.objects.get(email="learner@acme.test")


@pytest.fixture
def quiz(in_tenant, instructor):
    course, _, assessment = make_assessed_course(slug="banked-quiz", publish=False)
    course.instructors.add(instructor)
    return assessment


def _audit(action: str, target) -> AuditEntry:
    rows = AuditEntry.objects.filter(action=action, target_id=str(target.pk))
    assert rows.count() == 1, f"expected one {action} row, found {rows.count()}"
    return rows.get()


def _state(*models) -> dict:
    return {
        model._meta.label: sorted(map(repr, model.objects.values_list())) for model in (*models, AuditEntry)
    }


# --- question banks -------------------------------------------------------------------


def test_bank_create_update_and_delete_are_audited(quiz, instructor):
    course = quiz.lesson.module.course
    bank = bank_create(actor=instructor, course=course, title="  Capitals ")
    assert bank.title == "Capitals"
    assert _audit("bank.created", bank).after == {"course": course.pk, "title": "Capitals"}
    bank_update(actor=instructor, bank=bank, title="World capitals")
    row = _audit("bank.updated", bank)
    assert row.before == {"title": "Capitals"} and row.after == {"title": "World capitals"}
    add_question(pool=bank, kind=QuestionKind.ESSAY, prompt="Why Canberra?")
    bank_delete(actor=instructor, bank=bank)
    assert not QuestionPool.objects.filter(pk=bank.pk).exists()
    assert not Question.objects.filter(prompt="Why Canberra?").exists()
    assert len(_audit("bank.deleted", bank).before["questions"]) == 1


def test_bank_refusals_change_nothing_and_leave_no_audit_row(quiz, instructor):
    course = quiz.lesson.module.course
    other, _, _ = make_assessed_course(slug="not-my-bank", publish=False)
    bank = QuestionPool.objects.create(course=course, title="Drawn from")
    PoolDraw.objects.create(assessment=quiz, pool=bank, count=1)
    theirs = QuestionPool.objects.create(course=other, title="Theirs")
    before = _state(QuestionPool, PoolDraw)
    with pytest.raises(AssessmentError) as refused:
        bank_create(actor=instructor, course=course, title="  ")
    assert refused.value.field == "title"
    with pytest.raises(AssessmentError) as refused:
        bank_create(actor=instructor, course=other, title="Planted")
    assert refused.value.field == "course"
    with pytest.raises(AssessmentError):
        bank_update(actor=instructor, bank=theirs, title="Mine now")
    with pytest.raises(AssessmentError) as refused:
        bank_delete(actor=instructor, bank=bank)
    assert refused.value.status == 409
    other.instructors.add(instructor)
    instructor = User.objects.get(pk=instructor.pk)
    with pytest.raises(AssessmentError):  # drawn from by this course's quiz: it stays here
        bank_update(actor=instructor, bank=bank, course=other)
    assert bank.course == course  # the object is put back too
    assert _state(QuestionPool, PoolDraw) == before


def test_questions_move_into_a_bank_and_out_again_audited(quiz, instructor):
    course = quiz.lesson.module.course
    bank = bank_create(actor=instructor, course=course, title="Spare")
    question = quiz.questions.get(kind=QuestionKind.SHORT)
    bank_add_question(actor=instructor, bank=bank, question=question)
    question.refresh_from_db()
    assert (question.assessment_id, question.pool_id) == (None, bank.pk)
    assert _audit("bank.question_added", bank).before == {"assessment": quiz.pk, "pool": None}

    bank_remove_question(actor=instructor, bank=bank, question=question, assessment=quiz)
    question.refresh_from_db()
    assert (question.assessment_id, question.pool_id) == (quiz.pk, None)
    banked = add_question(pool=bank, kind=QuestionKind.ESSAY, prompt="Gone soon?")
    bank_remove_question(actor=instructor, bank=bank, question=banked)
    assert not Question.objects.filter(pk=banked.pk).exists()
    actions = AuditEntry.objects.filter(target_id=str(bank.pk)).values_list("action", flat=True)
    assert sorted(actions) == [
        "bank.created",
        "bank.question_added",
        "bank.question_removed",
        "bank.question_removed",
    ]


def test_moving_questions_refuses_another_course_or_bank(quiz, instructor):
    course = quiz.lesson.module.course
    _, _, their_quiz = make_assessed_course(slug="their-bank-course", publish=False)
    bank = QuestionPool.objects.create(course=course, title="Mine")
    theirs = QuestionPool.objects.create(course=their_quiz.lesson.module.course, title="Theirs")
    mine = quiz.questions.first()
    before = _state(Question, QuestionPool)
    with pytest.raises(AssessmentError) as refused:
        bank_add_question(actor=instructor, bank=theirs, question=mine)
    assert refused.value.field == "pool"
    with pytest.raises(AssessmentError):
        bank_add_question(actor=instructor, bank=bank, question=their_quiz.questions.first())
    with pytest.raises(NotFound):
        bank_remove_question(actor=instructor, bank=bank, question=mine)  # not in this bank
    banked = add_question(pool=bank, kind=QuestionKind.ESSAY, prompt="Stays?")
    before = _state(Question, QuestionPool)
    with pytest.raises(AssessmentError) as refused:
        bank_remove_question(actor=instructor, bank=bank, question=banked, assessment=their_quiz)
    assert refused.value.field == "assessment"
    assert _state(Question, QuestionPool) == before


def test_the_bank_admin_writes_through_the_services(in_tenant, quiz):
    course = quiz.lesson.module.course
    client = client_for(in_tenant, as_role="instructor")
    response = client.post(
        "/admin/assessments/questionpool/add/", {"course": course.pk, "title": "Admin bank"}
    )
    assert response.status_code == 302
    bank = QuestionPool.objects.get(title="Admin bank")
    assert _audit("bank.created", bank).actor.email == "instructor@acme.test"
    PoolDraw.objects.create(assessment=quiz, pool=bank, count=1)
    response = client.post(f"/admin/assessments/questionpool/{bank.pk}/delete/", {"post": "yes"}, follow=True)
    assert "remove those draws first" in response.content.decode()
    assert QuestionPool.objects.filter(pk=bank.pk).exists()
    assert not AuditEntry.objects.filter(action="bank.deleted").exists()


def test_draws_and_rubric_rows_saved_in_the_assessment_admin_are_audited(in_tenant, instructor):
    course, _, assignment = make_assessed_course(
        slug="rubric-admin", kind=AssessmentKind.ASSIGNMENT, publish=False
    )
    course.instructors.add(instructor)
    bank = QuestionPool.objects.create(course=course, title="Extra")
    data = {
        "lesson": assignment.lesson_id,
        "kind": "assignment",
        "instructions": "",
        "max_score": "100",
        "passing_score": "60",
        "grade_policy": "best",
        "show_answers": "after_last",
        "accepts_text": "on",
        "max_file_mb": "20",
        "draws-TOTAL_FORMS": "1",
        "draws-INITIAL_FORMS": "0",
        "draws-0-pool": bank.pk,
        "draws-0-count": "2",
        "rubric-TOTAL_FORMS": "1",
        "rubric-INITIAL_FORMS": "0",
        "rubric-0-title": "Clarity",
        "rubric-0-description": "",
        "rubric-0-points": "5",
        "rubric-0-position": "0",
    }
    client = client_for(in_tenant, as_role="instructor")
    response = client.post(f"/admin/assessments/assessment/{assignment.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    draw = PoolDraw.objects.get(assessment=assignment)
    assert _audit("draw.created", draw).after == {"assessment": assignment.pk, "pool": bank.pk, "count": 2}
    criterion = RubricCriterion.objects.get(assessment=assignment)
    assert _audit("rubric.created", criterion).after["title"] == "Clarity"
    assert _audit("assessment.updated", assignment).after == {"accepts_file": False}


def test_certificate_settings_saved_in_the_admin_are_audited(in_tenant, quiz):
    course = quiz.lesson.module.course
    client = client_for(in_tenant, as_role="instructor")
    response = client.post(
        "/admin/assessments/certificatesettings/add/",
        {"course": course.pk, "enabled": "on", "signature_name": "Dean"},
    )
    assert response.status_code == 302
    settings = CertificateSettings.objects.get(course=course)
    assert _audit("certificate_settings.created", settings).after == {
        "course": course.pk,
        "enabled": True,
        "signature_name": "Dean",
    }


# --- grading -------------------------------------------------------------------------------


@pytest.fixture
def submission(in_tenant, learner, instructor):
    course, _, assignment = make_assessed_course(
        slug="graded-writes", kind=AssessmentKind.ASSIGNMENT, passing_score=Decimal("50")
    )
    course.instructors.add(instructor)
    criterion = assignment.rubric.create(title="Argument", points=Decimal("10"))
    enrollment_create(user=learner, course=course)
    attempt = assignment_submit(user=learner, course=course, assessment=assignment, text="My argument.")
    return attempt, criterion


def test_grading_is_audited_with_before_and_after(submission, instructor, django_capture_on_commit_callbacks):
    attempt, criterion = submission
    instructor = User.objects.get(pk=instructor.pk)
    with django_capture_on_commit_callbacks(execute=True):
        attempt_grade(actor=instructor, attempt=attempt, rubric={str(criterion.pk): "7"}, comment="Solid.")
    row = _audit("attempt.graded", attempt)
    assert row.actor == instructor
    assert row.before["status"] == AttemptStatus.SUBMITTED and row.before["score"] is None
    assert row.after["status"] == AttemptStatus.GRADED and row.after["score"] == "70.00"
    assert row.after["comment"] == "Solid." and row.after["rubric_scores"] == {str(criterion.pk): "7.00"}


def test_a_refused_grade_changes_nothing_and_leaves_no_audit_row(submission, in_tenant):
    attempt, criterion = submission
    learner = User.objects.get(email="learner@acme.test")
    before = _state(Attempt, Answer)
    with pytest.raises(AssessmentError) as refused:
        attempt_grade(
            actor=User.objects.get(email="instructor@acme.test"),
            attempt=attempt,
            rubric={str(criterion.pk): "11"},
        )
    assert refused.value.field == f"c{criterion.pk}"
    with pytest.raises(AssessmentError) as refused:
        attempt_grade(actor=learner, attempt=attempt, rubric={str(criterion.pk): "5"})
    assert refused.value.status == 403
    response = client_for(in_tenant, as_role="instructor").post(
        f"/assessments/grading/{attempt.pk}/", {f"c{criterion.pk}": "abc"}
    )
    assert response.status_code == 400 and "enter a number of points" in response.content.decode()
    assert _state(Attempt, Answer) == before


def test_another_tenants_submission_cannot_be_graded_here(tenant, other_tenant):
    connection.set_tenant(tenant)
    highest = Attempt.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    connection.set_tenant(other_tenant)
    learner = User.objects.get(email="learner@globex.test")
    n = 0
    while True:
        n += 1
        course, _, assignment = make_assessed_course(
            slug=f"their-grading-{n}", kind=AssessmentKind.ASSIGNMENT
        )
        enrollment_create(user=learner, course=course)
        theirs = assignment_submit(user=learner, course=course, assessment=assignment, text="Theirs.")
        if theirs.pk > highest:
            break
    connection.set_schema_to_public()
    admin = client_for(tenant, as_role="admin")
    assert admin.get(f"/assessments/grading/{theirs.pk}/").status_code == 404
    assert admin.post(f"/assessments/grading/{theirs.pk}/", {"score": "100"}).status_code == 404
    connection.set_tenant(other_tenant)
    theirs.refresh_from_db()
    assert (
        theirs.status == AttemptStatus.SUBMITTED
        and not AuditEntry.objects.filter(action="attempt.graded").exists()
    )


# --- certificates ----------------------------------------------------------------------------


def _certificate(course, user, code="ABCD-EFGH-JKLM") -> Certificate:
    return Certificate.objects.create(
        user=user, course=course, code=code, learner_name="L", course_title="C", issued_at=timezone.now()
    )


def test_certificate_revoke_is_audited_and_refusals_change_nothing(quiz, learner, instructor):
    certificate = _certificate(quiz.lesson.module.course, learner)
    before = _state(Certificate)
    with pytest.raises(CertificateError) as refused:
        certificate_revoke(actor=instructor, certificate=certificate, reason="Not mine to revoke")
    assert refused.value.status == 403
    assert _state(Certificate) == before
    admin = User.objects.get(email="admin@acme.test")
    certificate_revoke(actor=admin, certificate=certificate, reason="Issued by mistake")
    row = _audit("certificate.revoked", certificate)
    assert row.before == {"revoked_at": None, "reason": ""} and row.after["reason"] == "Issued by mistake"
    before = _state(Certificate)
    with pytest.raises(CertificateError) as refused:
        certificate_revoke(actor=admin, certificate=certificate)
    assert refused.value.status == 409
    assert _state(Certificate) == before


def test_another_tenants_certificate_is_not_revoked_from_here(tenant, other_tenant):
    connection.set_tenant(tenant)
    highest = Certificate.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    connection.set_tenant(other_tenant)
    course, _, _ = make_assessed_course(slug="their-certified", publish=False)
    learner = User.objects.get(email="learner@globex.test")
    theirs = _certificate(course, learner, code="THEI-RSXX-CERT")
    while theirs.pk <= highest:
        theirs.delete()
        theirs = _certificate(course, learner, code="THEI-RSXX-CERT")
    connection.set_schema_to_public()
    admin = client_for(tenant, as_role="admin")
    admin.post(
        "/admin/assessments/certificate/", {"action": "revoke_selected", "_selected_action": [theirs.pk]}
    )
    assert admin.get(f"/admin/assessments/certificate/{theirs.pk}/change/").status_code == 404
    connection.set_tenant(other_tenant)
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    assert not AuditEntry.objects.filter(action="certificate.revoked").exists()


# --- the inline rows and certificate settings: refusals leave no trace ---------------------------


def test_draw_rubric_and_certificate_settings_refusals_change_nothing(quiz, instructor):
    from assessments.authoring import rubric_criterion_delete, rubric_criterion_save
    from assessments.services import (
        certificate_settings_delete,
        certificate_settings_save,
        pool_draw_delete,
        pool_draw_save,
    )

    course = quiz.lesson.module.course
    other, _, their_quiz = make_assessed_course(slug="not-my-rubric", publish=False)
    their_bank = QuestionPool.objects.create(course=other, title="Theirs")
    their_draw = PoolDraw.objects.create(assessment=their_quiz, pool=their_bank, count=1)
    their_criterion = their_quiz.rubric.create(title="Theirs", points=Decimal("1"))
    their_settings = CertificateSettings.objects.create(course=other)
    models = (PoolDraw, RubricCriterion, CertificateSettings)
    before = _state(*models)
    with pytest.raises(AssessmentError):
        pool_draw_save(actor=instructor, draw=PoolDraw(assessment=quiz, pool=their_bank, count=1))
    with pytest.raises(AssessmentError):
        pool_draw_delete(actor=instructor, draw=their_draw)
    with pytest.raises(AssessmentError) as refused:
        rubric_criterion_save(
            actor=instructor,
            criterion=RubricCriterion(assessment=quiz, title="Clarity", points=Decimal("-1")),
        )
    assert refused.value.field == "points"
    with pytest.raises(AssessmentError):
        rubric_criterion_save(
            actor=instructor,
            criterion=RubricCriterion(assessment=their_quiz, title="Planted", points=Decimal("1")),
        )
    with pytest.raises(AssessmentError):
        rubric_criterion_delete(actor=instructor, criterion=their_criterion)
    with pytest.raises(AssessmentError):
        certificate_settings_save(actor=instructor, settings=CertificateSettings(course=other))
    with pytest.raises(AssessmentError):
        certificate_settings_delete(actor=instructor, settings=their_settings)
    assert _state(*models) == before

    mine = certificate_settings_save(actor=instructor, settings=CertificateSettings(course=course))
    mine.signature_name = "Dean"
    certificate_settings_save(actor=instructor, settings=mine)
    assert _audit("certificate_settings.updated", mine).after == {"signature_name": "Dean"}
    certificate_settings_delete(actor=instructor, settings=mine)
    assert not CertificateSettings.objects.filter(course=course).exists()
    assert _audit("certificate_settings.deleted", mine).before["signature_name"] == "Dean"


def test_revoking_with_the_admin_action_is_audited(in_tenant, quiz, learner):
    certificate = _certificate(quiz.lesson.module.course, learner)
    response = client_for(in_tenant, as_role="admin").post(
        "/admin/assessments/certificate/",
        {"action": "revoke_selected", "_selected_action": [certificate.pk]},
        follow=True,
    )
    assert "1 certificate(s) revoked." in response.content.decode()
    assert _audit("certificate.revoked", certificate).actor.email == "admin@acme.test"
