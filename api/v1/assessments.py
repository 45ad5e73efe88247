"""Quizzes (start, save answers, hand in, result) and certificates (mine, verify).

The lesson door decides first (`access_quiz`: 404 outside the course, 403 with the reason
while locked), attempts are the caller's own (`access_attempt`), and the services grade.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from ninja import Router, Schema, Status

from assessments.access import access_attempt, access_quiz
from assessments.certificates import certificate_verify
from assessments.models import AttemptStatus, Certificate
from assessments.selectors import answers_visible, attempt_items, attempts_of
from assessments.services import (
    answers_save,
    assignment_submit,
    assignment_upload_finish,
    assignment_upload_get,
    assignment_upload_start,
    attempt_start,
    attempt_submit,
    attempts_left,
)
from core.errors import Conflict, DomainError, InvalidRequest, NotFound
from courses.selectors import course_get_published

from ..gate import need, problem
from .base import PROBLEMS, Problem

router = Router(tags=["assessments"])
MAX_ANSWERS = 500


class AttemptSummary(Schema):
    id: int
    number: int
    status: str
    started_at: datetime
    deadline: datetime | None
    submitted_at: datetime | None
    score: Decimal | None
    max_score: Decimal | None
    passed: bool | None


class QuizOut(Schema):
    lesson_id: int
    kind: str
    instructions: str
    passing_score: Decimal | None
    time_limit_minutes: int | None
    attempts_allowed: int | None
    attempts_left: int | None
    available_from: datetime | None
    available_until: datetime | None
    attempts: list[AttemptSummary]


class ChoiceOut(Schema):
    id: int
    text: str
    is_correct: bool | None


class QuestionOut(Schema):
    id: int
    number: int
    kind: str
    prompt: str
    points: Decimal
    choices: list[ChoiceOut]
    response: dict
    points_awarded: Decimal | None


class AttemptOut(AttemptSummary):
    questions: list[QuestionOut]
    answers_shown: bool


class AnswersIn(Schema):
    answers: dict[str, object]


class AnswersOut(Schema):
    saved_ids: list[int]


class AnswersRefused(Problem):
    """422: the body was read and the other answers are saved; these were not."""

    saved_ids: list[int] | None = None
    answer_errors: dict[str, str] | None = None


class UploadIn(Schema):
    filename: str
    content_type: str
    size: int


class UploadTicket(Schema):
    """Where to send the file: a presigned POST (`url`, `fields`) straight to storage."""

    asset: str
    method: str
    max_bytes: int
    url: str | None = None
    fields: dict[str, str] | None = None
    part_size: int | None = None
    part_count: int | None = None


class UploadOut(Schema):
    asset: str
    status: str
    reason: str
    size: int | None
    filename: str


class SubmissionIn(Schema):
    text: str = ""
    asset: str | None = None


class CertificateOut(Schema):
    code: str
    course_title: str
    learner_name: str
    issued_at: datetime
    revoked_at: datetime | None
    download_url: str | None


class VerifyOut(Schema):
    code: str
    valid: bool
    learner_name: str
    course_title: str
    issued_at: datetime
    revoked_at: datetime | None


def _summary(attempt) -> dict:
    return {
        "id": attempt.pk,
        "number": attempt.number,
        "status": attempt.status,
        "started_at": attempt.started_at,
        "deadline": attempt.deadline,
        "submitted_at": attempt.submitted_at,
        "score": attempt.score,
        "max_score": attempt.max_score,
        "passed": attempt.passed,
    }


def _attempt(request, attempt) -> dict:
    attempts = attempts_of(user=request.user, assessment=attempt.assessment)
    shown = attempt.status != AttemptStatus.IN_PROGRESS and answers_visible(attempt, attempts)
    questions = []
    for item in attempt_items(attempt):
        questions.append(
            {
                "id": item.question.pk,
                "number": item.number,
                "kind": item.question.kind,
                "prompt": item.question.prompt,
                "points": item.question.points,
                "choices": [
                    {"id": c.pk, "text": c.text, "is_correct": (c.pk in item.correct_ids) if shown else None}
                    for c in item.choices
                ],
                "response": item.response,
                "points_awarded": item.answer.points if (item.answer and shown) else None,
            }
        )
    return {**_summary(attempt), "questions": questions, "answers_shown": shown}


@router.get("/courses/{slug}/lessons/{lesson_id}/quiz", response={200: QuizOut, **PROBLEMS}, summary="A quiz")
def quiz_detail(request: HttpRequest, slug: str, lesson_id: int):
    """The quiz or assignment of a lesson and the caller's attempts; 403 with the reason while locked."""
    need(request, "assessments:read")
    quiz = access_quiz(user=request.user, course_slug=slug, lesson_id=lesson_id, need_assessment=True)
    assessment = quiz.assessment
    attempts = attempts_of(user=request.user, assessment=assessment)
    return {
        "lesson_id": quiz.lesson.id,
        "kind": assessment.kind,
        "instructions": assessment.instructions,
        "passing_score": assessment.passing_score,
        "time_limit_minutes": assessment.time_limit_minutes,
        "attempts_allowed": assessment.attempts_allowed,
        "attempts_left": attempts_left(assessment, len(attempts)),
        "available_from": assessment.available_from,
        "available_until": assessment.available_until,
        "attempts": [_summary(a) for a in attempts],
    }


@router.post(
    "/courses/{slug}/lessons/{lesson_id}/attempts", response={201: AttemptOut, **PROBLEMS}, summary="Start"
)
def attempt_begin(request: HttpRequest, slug: str, lesson_id: int):
    """Start an attempt (or get back the one in progress): the questions as drawn for the caller."""
    need(request, "assessments:write")
    quiz = access_quiz(user=request.user, course_slug=slug, lesson_id=lesson_id, need_assessment=True)
    attempt = attempt_start(user=request.user, course=quiz.course, assessment=quiz.assessment)
    return Status(201, _attempt(request, attempt))


def _own_attempt(request, slug: str, attempt_id: int):
    course = course_get_published(slug=slug)
    return access_attempt(user=request.user, course=course, attempt_id=attempt_id)


@router.get("/courses/{slug}/attempts/{attempt_id}", response={200: AttemptOut, **PROBLEMS}, summary="Result")
def attempt_detail(request: HttpRequest, slug: str, attempt_id: int):
    """The caller's attempt: the answers so far, or the result once handed in."""
    need(request, "assessments:read")
    attempt = _own_attempt(request, slug, attempt_id)
    if attempt.status == AttemptStatus.IN_PROGRESS and attempt.deadline and timezone.now() > attempt.deadline:
        attempt, _ = attempt_submit(user=request.user, attempt=attempt)  # graded as of the deadline
    return _attempt(request, attempt)


@router.put(
    "/courses/{slug}/attempts/{attempt_id}/answers",
    response={200: AnswersOut, **PROBLEMS, 422: AnswersRefused},
    summary="Save answers",
)
def attempt_answers(request: HttpRequest, slug: str, attempt_id: int, body: AnswersIn):
    """Save answers `{question id: response}`; each is saved on its own. 422 lists the ones refused."""
    need(request, "assessments:write")
    attempt = _own_attempt(request, slug, attempt_id)
    if len(body.answers) > MAX_ANSWERS:
        raise InvalidRequest(f"Send at most {MAX_ANSWERS} answers at once.", field="answers")
    if attempt.status != AttemptStatus.IN_PROGRESS:
        raise Conflict("This attempt was handed in; its answers can no longer change.", code="attempt_closed")
    result = answers_save(user=request.user, attempt=attempt, answers=body.answers)
    if result.errors:
        errors = {str(k): v for k, v in result.errors.items()}
        refused = DomainError(next(iter(errors.values())), code="answers_refused", status=422)
        return problem(refused, saved_ids=result.saved, answer_errors=errors)
    return {"saved_ids": result.saved}


@router.post(
    "/courses/{slug}/attempts/{attempt_id}/submit", response={200: AttemptOut, **PROBLEMS}, summary="Hand in"
)
def attempt_hand_in(request: HttpRequest, slug: str, attempt_id: int):
    """Hand the attempt in and grade it; handing in twice returns the same result."""
    need(request, "assessments:write")
    attempt = _own_attempt(request, slug, attempt_id)
    attempt, _ = attempt_submit(user=request.user, attempt=attempt)
    return _attempt(request, attempt)


@router.get("/me/certificates", response={200: list[CertificateOut], **PROBLEMS}, summary="My certificates")
def certificates_mine(request: HttpRequest):
    need(request, "assessments:read")
    certificates = Certificate.objects.filter(user=request.user).order_by("-issued_at")
    return [
        {
            "code": c.code,
            "course_title": c.course_title,
            "learner_name": c.learner_name,
            "issued_at": c.issued_at,
            "revoked_at": c.revoked_at,
            "download_url": reverse("certificates:download", kwargs={"code": c.code}) if c.file else None,
        }
        for c in certificates
    ]


@router.get(
    "/certificates/{code}/verify", response={200: VerifyOut, **PROBLEMS}, auth=None, summary="Verify a code"
)
def certificate_check(request: HttpRequest, code: str):
    """Public: whether a certificate code was issued here, to whom, for what, and if it was revoked."""
    certificate = certificate_verify(code[:64])
    if certificate is None:
        raise NotFound("No certificate has this code here.")
    return {
        "code": certificate.code,
        "valid": certificate.revoked_at is None,
        "learner_name": certificate.learner_name,
        "course_title": certificate.course_title,
        "issued_at": certificate.issued_at,
        "revoked_at": certificate.revoked_at,
    }


# --- assignments: upload a file straight to storage, then hand in ----------------------------


def _assignment(request, slug: str, lesson_id: int):
    quiz = access_quiz(user=request.user, course_slug=slug, lesson_id=lesson_id, need_assessment=True)
    if not quiz.assessment.is_assignment:
        raise NotFound("This lesson has no assignment.")
    return quiz.course, quiz.assessment


def _upload(asset) -> dict:
    return {
        "asset": str(asset.pk),
        "status": asset.status,
        "reason": asset.reason,
        "size": asset.size,
        "filename": asset.filename,
    }


@router.post(
    "/courses/{slug}/lessons/{lesson_id}/uploads",
    response={201: UploadTicket, **PROBLEMS},
    summary="Start an assignment upload",
)
def assignment_upload_begin(request: HttpRequest, slug: str, lesson_id: int, body: UploadIn):
    """A presigned POST for one file of this assignment: send the file to `url` with `fields`,
    then call `finish`. The server picks the storage key; size and type are checked twice."""
    need(request, "assessments:write")
    course, assessment = _assignment(request, slug, lesson_id)
    ticket = assignment_upload_start(
        user=request.user,
        course=course,
        assessment=assessment,
        filename=body.filename[:255],
        content_type=body.content_type[:100],
        size=body.size,
    )
    return Status(201, ticket.as_json() | {"max_bytes": assessment.max_file_bytes})


@router.post(
    "/courses/{slug}/lessons/{lesson_id}/uploads/{asset_id}/finish",
    response={200: UploadOut, **PROBLEMS},
    summary="Finish an upload",
)
def assignment_upload_done(request: HttpRequest, slug: str, lesson_id: int, asset_id: uuid.UUID):
    """Verify the file that arrived in storage: status `ready`, or `rejected` with the reason."""
    need(request, "assessments:write")
    _, assessment = _assignment(request, slug, lesson_id)
    asset = assignment_upload_get(user=request.user, assessment=assessment, asset_id=asset_id)
    asset = assignment_upload_finish(user=request.user, asset=asset)
    return _upload(asset)


@router.post(
    "/courses/{slug}/lessons/{lesson_id}/submission",
    response={201: AttemptSummary, **PROBLEMS},
    summary="Hand in an assignment",
)
def assignment_hand_in(request: HttpRequest, slug: str, lesson_id: int, body: SubmissionIn):
    """Hand in text and/or a finished upload; it waits for a grader (status `submitted`)."""
    need(request, "assessments:write")
    course, assessment = _assignment(request, slug, lesson_id)
    asset_id = None
    if body.asset:
        try:
            asset_id = uuid.UUID(body.asset)
        except ValueError:
            raise InvalidRequest("asset is the id an upload returned.", field="asset") from None
    attempt = assignment_submit(
        user=request.user, course=course, assessment=assessment, text=body.text[:100_000], asset_id=asset_id
    )
    return Status(201, _summary(attempt))
