"""Every write about assessments: start an attempt, save answers, submit, grade, assignments.

Who may do what is asked of `enrollments.access` (taking: lesson_decision; grading:
grading_decision). Times are passed in as `now` so the deadline rules can be tested
with a fixed clock; views pass nothing and get timezone.now().
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.http import Http404
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.audit import audit_record
from accounts.events import person_data
from accounts.tasks import email_send_task
from core.celery import enqueue_on_commit
from core.errors import DomainError
from core.events import emit
from courses.events import course_data
from courses.models import Course, Lesson
from enrollments.access import editing_decision, grading_decision
from enrollments.services import lesson_complete_graded
from media_delivery.models import AssetKind, AssetStatus, MediaAsset
from media_delivery.services import (
    UploadAlreadyFinished,
    UploadRefused,
    UploadTicket,
    asset_discard,
    upload_abort,
    upload_finish,
    upload_start,
)
from tenants.context import require_tenant, tenant_url

from .access import access_attempt, take_decision
from .certificates import certificates_known
from .grading import CENT, AnswerError, clean_response, grade, scaled
from .models import (
    MAX_QUESTIONS_PER_ATTEMPT,
    Answer,
    Assessment,
    AssignmentUpload,
    Attempt,
    AttemptStatus,
    CertificateSettings,
    Choice,
    PoolDraw,
    Question,
    QuestionKind,
    QuestionPool,
)
from .rows import (
    AnswerRow,
    GradingQuestion,
    answers_stored,
    answers_write,
    attempt_write,
    questions_for_grading,
)
from .signals import quiz_graded, quiz_submitted, send_on_commit

# Assignment files: the content types a learner may declare; media_delivery checks that the
# first bytes are that type (ADR 0041). Office documents are not accepted: a DOCX, XLSX and
# PPTX are all ZIP files by their first bytes, so they cannot be told apart cheaply.
SUBMISSION_CONTENT_TYPES = frozenset(
    {"application/pdf", "image/png", "image/jpeg", "image/webp", "text/plain"}
)
SUBMISSION_TYPES_TEXT = "PDF, PNG, JPEG, WebP or plain text"
# A request that takes this long to arrive after the deadline is still "on time" (network).
DEADLINE_GRACE = timedelta(seconds=5)


class AssessmentError(DomainError):
    """A refused assessment action, with a sentence for the learner or grader."""


# --- Who may take it -------------------------------------------------------------------------


def _require_taking(*, user, course: Course, assessment: Assessment) -> None:
    decision = take_decision(user=user, course=course, assessment=assessment)
    if not decision.allowed:
        raise AssessmentError(decision.reason)


def availability_refusal(assessment: Assessment, now: datetime) -> str | None:
    if assessment.available_from and now < assessment.available_from:
        return f"This opens on {timezone.localtime(assessment.available_from):%d %B %Y at %H:%M}."
    if assessment.available_until and now >= assessment.available_until:
        return f"This closed on {timezone.localtime(assessment.available_until):%d %B %Y at %H:%M}."
    return None


def attempts_left(assessment: Assessment, used: int) -> int | None:
    return None if assessment.attempts_allowed is None else max(0, assessment.attempts_allowed - used)


# --- Starting --------------------------------------------------------------------------------


def draw_questions(assessment: Assessment, rng: random.Random | None = None) -> list[dict]:
    """The question set of a new attempt: the assessment's own questions plus N from each bank."""
    rng = rng or random.SystemRandom()
    own = list(assessment.questions.order_by("position", "id").values_list("id", flat=True))
    drawn = []
    for draw in assessment.draws.select_related("pool"):
        pool_ids = list(draw.pool.questions.values_list("id", flat=True))
        drawn.extend(rng.sample(pool_ids, min(draw.count, len(pool_ids))))
    ids = (own + drawn)[:MAX_QUESTIONS_PER_ATTEMPT]
    if assessment.shuffle_questions:
        rng.shuffle(ids)
    choices: dict[int, list[int]] = {}
    for question_id, choice_id in Choice.objects.filter(question_id__in=ids).values_list("question_id", "id"):
        choices.setdefault(question_id, []).append(choice_id)
    items = []
    for question_id in ids:
        order = choices.get(question_id, [])
        if assessment.shuffle_choices:
            rng.shuffle(order)
        items.append({"id": question_id, "choices": order})
    return items


@transaction.atomic
def attempt_start(*, user, course: Course, assessment: Assessment, now: datetime | None = None) -> Attempt:
    """Open a new attempt (or return the one still open), recording the start and the questions drawn."""
    now = now or timezone.now()
    if assessment.is_assignment:
        raise AssessmentError("Assignments are handed in with the submission form.")
    _require_taking(user=user, course=course, assessment=assessment)
    # Serialize this learner's starts: lock their existing attempts of this assessment.
    mine = list(
        Attempt.objects.select_for_update().filter(assessment=assessment, user=user).order_by("number")
    )
    open_attempt = next((a for a in mine if a.status == AttemptStatus.IN_PROGRESS), None)
    if open_attempt is not None:
        if open_attempt.deadline is None or now <= open_attempt.deadline + DEADLINE_GRACE:
            return open_attempt
        _finish(open_attempt, now=now)  # ran out of time while away: graded as of its deadline
    refusal = availability_refusal(assessment, now)
    if refusal:
        raise AssessmentError(refusal)
    if attempts_left(assessment, len(mine)) == 0:
        raise AssessmentError(
            f"You have used all {assessment.attempts_allowed} attempt(s) allowed for this "
            f"{assessment.get_kind_display().lower()}."
        )
    questions = draw_questions(assessment)
    if not questions:
        raise AssessmentError("This quiz has no questions yet.")
    deadline = (
        now + timedelta(minutes=assessment.time_limit_minutes) if assessment.time_limit_minutes else None
    )
    if deadline and assessment.available_until:
        deadline = min(deadline, assessment.available_until)
    try:
        with transaction.atomic():
            return Attempt.objects.create(
                assessment=assessment,
                user=user,
                number=len(mine) + 1,
                started_at=now,
                deadline=deadline,
                questions=questions,
            )
    except IntegrityError:  # another tab started one between our read and write
        return Attempt.objects.get(assessment=assessment, user=user, status=AttemptStatus.IN_PROGRESS)


def _course_of(attempt: Attempt) -> Course:
    """The attempt's course: the one the door found it by (access_attempt with `lock`), else
    through its lesson's module."""
    course = getattr(attempt, "door_course", None)
    return course if course is not None else attempt.assessment.lesson.module.course


def _attempt_event(attempt: Attempt) -> dict:
    """What every quiz event says about its attempt (assessments.signals' payload, plus the user)."""
    assessment = attempt.assessment
    return {
        "course_id": _course_of(attempt).pk,
        "lesson_id": assessment.lesson_id,
        "assessment_id": assessment.pk,
        "attempt_id": attempt.pk,
        "user_id": attempt.user_id,
    }


# --- Answering ------------------------------------------------------------------------------


def _questions_of(attempt: Attempt) -> dict[int, Question]:
    """The attempt's questions by id, as model instances (grading by hand keys its rows by them)."""
    return {q.pk: q for q in Question.objects.filter(pk__in=attempt.question_ids)}


def _grading_questions(attempt: Attempt) -> dict[int, GradingQuestion]:
    """The attempt's questions by id, with their correct choices, as plain values (ADR 0202):
    read by the door's locking find when it found the attempt, else now."""
    found = getattr(attempt, "door_questions", None)
    return found if found is not None else questions_for_grading(attempt.question_ids)


def _offered(attempt: Attempt) -> dict[int, list[int]]:
    """{question id: the ids of the choices it was offered with}, made once per attempt instance
    (a scan of the attempt's questions for each answer grew with the square of their number)."""
    offered = getattr(attempt, "_offered_choices", None)
    if offered is None:
        offered = {item["id"]: item["choices"] for item in attempt.questions}
        attempt._offered_choices = offered
    return offered


def _clean_one(
    attempt: Attempt, questions: dict[int, GradingQuestion], key, raw
) -> tuple[GradingQuestion, dict]:
    """(question, stored response) for one answer sent by the learner; AssessmentError if it is bad."""
    try:
        question = questions[int(key)]
    except (KeyError, ValueError, TypeError):
        raise AssessmentError("That question is not part of this attempt.") from None
    choice_ids = _offered(attempt)[question.pk]
    try:
        return question, clean_response(kind=question.kind, raw=raw, choice_ids=choice_ids)
    except AnswerError as exc:
        raise AssessmentError(f"Question {attempt.question_ids.index(question.pk) + 1}: {exc}") from exc


def _cleaned(attempt: Attempt, questions: dict[int, GradingQuestion], answers: dict) -> dict[int, dict]:
    """{question id: stored response} for answers sent by the learner; AssessmentError if any is bad."""
    cleaned = {}
    for key, raw in answers.items():
        question, response = _clean_one(attempt, questions, key, raw)
        cleaned[question.pk] = response
    return cleaned


def _upsert(attempt: Attempt, answers: list[AnswerRow]) -> None:
    """Write answers in one statement (one row per attempt and question)."""
    answers_write(attempt.pk, answers)


def _lock_open(attempt: Attempt, user) -> Attempt:
    attempt = (
        Attempt.objects.select_for_update(of=("self",))
        .select_related("assessment__lesson__module__course")
        .get(pk=attempt.pk)
    )
    if attempt.user_id != user.pk:
        raise AssessmentError("This attempt is not yours.")
    attempt.user = user
    return attempt


@dataclass(frozen=True)
class AnswersSaved:
    """What one autosave stored: each question is saved on its own (ADR 0085)."""

    #: ids of the questions whose answers were stored as given
    saved: list[int] = field(default_factory=list)
    #: question id (or the key sent, when it names no question of the attempt) -> the sentence to
    #: show at that question; a number that could not be read is kept as typed, not as an answer
    errors: dict[str, str] = field(default_factory=dict)


def _unreadable(question: GradingQuestion, raw) -> dict | None:
    """What is kept of a refused answer so a reload shows it with its error: the text the
    learner typed into a numeric field. Other refusals (a choice not offered) come from a
    tampered page, not from typing, and keep nothing."""
    if question.kind != QuestionKind.NUMERIC or not isinstance(raw, dict):
        return None
    typed = raw.get("value")
    return {"typed": typed[:40]} if isinstance(typed, str) and typed.strip() else None


@transaction.atomic
def answers_save(*, user, attempt: Attempt, answers: dict, now: datetime | None = None) -> AnswersSaved:
    """Save some answers of an open attempt as the learner goes ({question id: response}).

    Each answer stands alone: one that cannot be stored is reported under its question and
    never keeps the others from being saved. Refusals of the whole attempt (submitted, time
    up, someone else's) raise AssessmentError and change nothing.
    """
    now = now or timezone.now()
    attempt = _lock_open(attempt, user)
    if attempt.status != AttemptStatus.IN_PROGRESS:
        raise AssessmentError("This attempt was already submitted; its answers can no longer change.")
    if attempt.deadline and now > attempt.deadline + DEADLINE_GRACE:
        raise AssessmentError("Time is up: answers given after the deadline are not saved.")
    questions = _grading_questions(attempt)
    rows, result = _answer_rows(attempt, questions, answers, now)
    _upsert(attempt, rows)
    return result


def _answer_rows(
    attempt: Attempt, questions: dict[int, GradingQuestion], answers: dict, now: datetime
) -> tuple[list[AnswerRow], AnswersSaved]:
    """The rows to store for answers sent by the learner, each checked on its own."""
    rows, saved, errors = [], [], {}
    for key, raw in answers.items():
        try:
            question, response = _clean_one(attempt, questions, key, raw)
        except AssessmentError as exc:
            errors[str(key)] = str(exc)
            question = questions.get(int(key)) if str(key).isdigit() else None
            kept = _unreadable(question, raw) if question is not None else None
            if kept is not None:
                rows.append(AnswerRow(question.pk, kept, now))
            continue
        rows.append(AnswerRow(question.pk, response, now))
        saved.append(question.pk)
    return rows, AnswersSaved(saved=saved, errors=errors)


def answers_from_fields(fields, questions) -> dict:
    """A form's fields q<id> (q<id> repeated for multiple choice) as {question id: response}.

    `fields` is a QueryDict (or anything with `getlist`); `questions` maps question ids to
    their questions or their kinds."""
    answers = {}
    for question_id, question in questions.items():
        kind = getattr(question, "kind", question)
        name = f"q{question_id}"
        if kind == QuestionKind.MULTIPLE:
            answers[question_id] = {"choices": fields.getlist(name)}
        elif name not in fields:
            continue
        elif kind == QuestionKind.SINGLE:
            answers[question_id] = {"choice": fields[name]}
        elif kind in (QuestionKind.TRUE_FALSE, QuestionKind.NUMERIC):
            answers[question_id] = {"value": fields[name]}
        else:
            answers[question_id] = {"text": fields[name]}
    return answers


@dataclass(frozen=True)
class HandIn:
    """What attempt_hand_in did."""

    attempt: Attempt
    #: False when the attempt was already handed in, or when an answer was refused
    submitted_now: bool
    #: the answers' check when some were refused (the others are saved, nothing handed in)
    refused: AnswersSaved | None = None


@transaction.atomic
def attempt_hand_in(
    *,
    user,
    fields,
    attempt: Attempt | None = None,
    course: Course | None = None,
    attempt_id: int | None = None,
    now: datetime | None = None,
) -> HandIn:
    """Save the answers of the attempt form and hand in, in one transaction and one row lock.

    The same checks as answers_save followed by attempt_submit: each answer is checked on its
    own; if any is refused, the others are saved and nothing is handed in. After the deadline
    (and its grace) the form's answers are dropped and the attempt is graded as of its
    deadline; an attempt already handed in is returned unchanged.

    Either `attempt` (found by the door already; locked again here) or `course` and
    `attempt_id`: the door (access_attempt, Http404 for anyone else's) then finds and locks
    it in one statement.
    """
    now = now or timezone.now()
    if attempt is None:
        attempt = access_attempt(user=user, course=course, attempt_id=attempt_id, lock=True)
        attempt.user = user
    else:
        attempt = _lock_open(attempt, user)
    if attempt.status != AttemptStatus.IN_PROGRESS:
        return HandIn(attempt, False)
    questions = _grading_questions(attempt)
    if attempt.deadline and now > attempt.deadline + DEADLINE_GRACE:
        _finish(attempt, now=now, questions=questions)
        return HandIn(attempt, True)
    rows, checked = _answer_rows(attempt, questions, answers_from_fields(fields, questions), now)
    if checked.errors:
        _upsert(attempt, rows)
        return HandIn(attempt, False, checked)
    _finish(attempt, now=now, questions=questions, fresh={row.question_id: row.response for row in rows})
    return HandIn(attempt, True)


def answer_error(question: Question | GradingQuestion, response: dict) -> str:
    """The sentence to show at a question whose saved answer could not be read ('' if none)."""
    if "typed" in response and "value" not in response:
        try:
            clean_response(kind=question.kind, raw={"value": response["typed"]}, choice_ids=[])
        except AnswerError as exc:
            return str(exc)
        return "Type your answer again."
    return ""


def answered(question: Question | GradingQuestion, response: dict) -> bool:
    """Whether a saved response answers its question (an unreadable number does not)."""
    kind = question.kind
    if kind in (QuestionKind.SINGLE,):
        return response.get("choice") is not None
    if kind == QuestionKind.MULTIPLE:
        return bool(response.get("choices"))
    if kind in (QuestionKind.TRUE_FALSE, QuestionKind.NUMERIC):
        return "value" in response
    return bool(str(response.get("text", "")).strip())


@transaction.atomic
def attempt_submit(
    *, user, attempt: Attempt, answers: dict | None = None, now: datetime | None = None
) -> tuple[Attempt, bool]:
    """Hand in an attempt and grade what can be graded. Returns (attempt, submitted_now).

    Submitting twice (two tabs, a double click) grades once: the second call returns the
    stored result unchanged. After the deadline, the answers sent with the submission are
    dropped and the attempt is graded as of its deadline.
    """
    now = now or timezone.now()
    attempt = _lock_open(attempt, user)
    if attempt.status != AttemptStatus.IN_PROGRESS:
        return attempt, False
    questions = _grading_questions(attempt)
    on_time = attempt.deadline is None or now <= attempt.deadline + DEADLINE_GRACE
    fresh = _cleaned(attempt, questions, answers) if answers and on_time else {}
    _finish(attempt, now=now, questions=questions, fresh=fresh)
    return attempt, True


def _finish(
    attempt: Attempt,
    *,
    now: datetime,
    questions: dict[int, GradingQuestion] | None = None,
    fresh: dict | None = None,
) -> None:
    """Close an open attempt and grade its automatic questions (caller holds the row lock).

    `fresh`: responses sent with the submission, saved now. Answers saved after the
    deadline (and its grace) count as unanswered.
    """
    questions = questions if questions is not None else _grading_questions(attempt)
    fresh = fresh or {}
    deadline = attempt.deadline
    attempt.submitted_at = min(now, deadline) if deadline and now > deadline else now
    # An answer sent with the hand-in replaces what was stored for its question (the upsert
    # writes every graded field), so only the questions without one are read back.
    unsent = [question_id for question_id in questions if question_id not in fresh]
    stored = answers_stored(attempt.pk, unsent) if unsent else {}
    answers: dict[int, AnswerRow] = {}
    needs_person = False
    for item in attempt.questions:
        question = questions.get(item["id"])
        if question is None:  # deleted since the attempt started: counts for nothing
            continue
        answer = stored.get(question.pk) or AnswerRow(question.pk, {}, attempt.submitted_at)
        if question.pk in fresh:
            answer.response, answer.saved_at = fresh[question.pk], now
        if deadline and answer.saved_at > deadline + DEADLINE_GRACE:
            answer.response = {}
        if question.kind == QuestionKind.ESSAY:
            needs_person = True
        else:
            answer.correct, answer.points = grade(
                question,
                answer.response,
                correct_choice_ids=question.correct_choice_ids,
                choice_count=len(item["choices"]),
            )
        answers[question.pk] = answer
    attempt.status = AttemptStatus.SUBMITTED
    send_on_commit(quiz_submitted, sender=Attempt, **_attempt_event(attempt))
    if needs_person:  # the answers and the hand-in: one statement
        attempt_write(attempt, ["submitted_at", "status"], answers=answers.values())
    else:  # graded at once: one statement writes the answers, the hand-in and the grade
        _settle(
            attempt,
            graded_by=None,
            now=now,
            questions=questions,
            answers=answers,
            unsaved=True,
            also_save=["submitted_at"],
        )


def _settle(
    attempt: Attempt,
    *,
    graded_by,
    now: datetime,
    questions: dict[int, GradingQuestion] | None = None,
    answers: dict[int, Answer] | dict[int, AnswerRow] | None = None,
    unsaved: bool = False,
    also_save: list[str] | None = None,
) -> None:
    """Total the points, decide pass/fail, complete the lesson on a pass, tell analytics.

    Sets `attempt.question_points` to (points earned, points possible) of its questions, for the
    sentence that tells the learner their result without loading the answers again. `unsaved`:
    the `answers` given (AnswerRows) are not stored yet, and are written with the grade."""
    assessment = attempt.assessment
    questions = questions if questions is not None else _grading_questions(attempt)
    answers = answers if answers is not None else {a.question_id: a for a in attempt.answers.all()}
    raw = Decimal(0)
    raw_max = Decimal(0)
    outcomes = []
    for item in attempt.questions:
        question = questions.get(item["id"])
        if question is None:
            continue
        answer = answers.get(question.pk)
        points = answer.points if answer is not None and answer.points is not None else Decimal(0)
        raw += points
        raw_max += question.points
        outcomes.append(
            {
                "question_id": question.pk,
                "correct": bool(answer.correct) if answer is not None else False,
                "points": float(points),
                "max_points": float(question.points),
            }
        )
    attempt.question_points = (raw, raw_max)
    if assessment.is_assignment:
        criteria = list(assessment.rubric.all())
        raw = sum((Decimal(str(attempt.rubric_scores.get(str(c.pk), 0))) for c in criteria), Decimal(0))
        raw_max = sum((c.points for c in criteria), Decimal(0))
        if not criteria:  # no rubric: the grader gave a score directly
            raw, raw_max = Decimal(str(attempt.rubric_scores.get("score", 0))), assessment.max_score
    attempt.score = scaled(raw, raw_max, assessment.max_score)
    attempt.max_score = Decimal(assessment.max_score).quantize(CENT)
    attempt.passed = attempt.score >= assessment.passing_score
    attempt.status = AttemptStatus.GRADED
    attempt.graded_by = graded_by
    attempt.graded_at = now
    attempt_write(
        attempt,
        ["score", "max_score", "passed", "status", "graded_by", "graded_at", *(also_save or [])],
        answers=answers.values() if unsaved else (),  # type: ignore[arg-type]
    )
    course = _course_of(attempt)
    if attempt.passed:
        # The door's lock statement also read whether the course issues certificates: the
        # completed enrollment's check need not ask again (ADR 0202).
        with certificates_known(course_id=course.pk, enabled=getattr(attempt, "door_certificates", None)):
            lesson_complete_graded(user=attempt.user, course=course, lesson_id=assessment.lesson_id)
    send_on_commit(
        quiz_graded,
        sender=Attempt,
        **_attempt_event(attempt),
        score=float(attempt.score),
        max_score=float(attempt.max_score),
        passed=attempt.passed,
        questions=outcomes,
    )
    emit("quiz.graded", data=lambda: _graded_data(attempt, course))


def _graded_data(attempt: Attempt, course: Course) -> dict:
    assessment = attempt.assessment
    return {
        "attempt_id": attempt.pk,
        "attempt_number": attempt.number,
        "assessment": {"id": assessment.pk, "title": assessment.lesson.title, "kind": assessment.kind},
        "lesson_id": assessment.lesson_id,
        "score": float(attempt.score),
        "max_score": float(attempt.max_score),
        "passed": attempt.passed,
        "graded_at": attempt.graded_at.isoformat(),
        "graded_by": person_data(attempt.graded_by) if attempt.graded_by_id else None,
        "course": course_data(course),
        "user": person_data(attempt.user),
    }


# --- Assignments ----------------------------------------------------------------------------


def _require_open_assignment(*, user, course: Course, assessment: Assessment, now: datetime) -> list[Attempt]:
    """The checks before anything is handed in or uploaded for it; returns the learner's
    attempts, locked (the caller is in a transaction)."""
    if not assessment.is_assignment:
        raise AssessmentError("This is not an assignment.")
    _require_taking(user=user, course=course, assessment=assessment)
    refusal = availability_refusal(assessment, now)
    if refusal:
        raise AssessmentError(refusal)
    mine = list(Attempt.objects.select_for_update().filter(assessment=assessment, user=user))
    if any(a.status == AttemptStatus.SUBMITTED for a in mine):
        raise AssessmentError("Your last submission is still waiting for a grade.")
    if attempts_left(assessment, len(mine)) == 0:
        raise AssessmentError(f"You have used all {assessment.attempts_allowed} submission(s) allowed.")
    return mine


@transaction.atomic
def assignment_upload_start(
    *,
    user,
    course: Course,
    assessment: Assessment,
    filename: str,
    content_type: str,
    size: int,
    now: datetime | None = None,
) -> UploadTicket:
    """Issue a direct upload (presigned POST) for this learner's next submission of this assignment.

    The same checks as handing in; the size and type limits are the assignment's, and S3
    enforces them on the POST itself.
    """
    _require_open_assignment(user=user, course=course, assessment=assessment, now=now or timezone.now())
    if not assessment.accepts_file:
        raise AssessmentError("This assignment does not take files.")
    try:
        ticket = upload_start(
            actor=user,
            kind=AssetKind.SUBMISSION,
            filename=filename,
            content_type=content_type,
            size=size,
            max_bytes=assessment.max_file_bytes,
            types=SUBMISSION_CONTENT_TYPES,
        )
    except UploadRefused as exc:
        raise AssessmentError(str(exc)) from None
    AssignmentUpload.objects.create(asset=ticket.asset, assessment=assessment, user=user)
    return ticket


def assignment_upload_get(*, user, assessment: Assessment, asset_id) -> MediaAsset:
    """An upload issued to `user` for `assessment`; Http404 for any other (another learner's,
    another assignment's, another tenant's, or one never issued)."""
    upload = (
        AssignmentUpload.objects.select_related("asset")
        .filter(asset_id=asset_id, assessment=assessment, user_id=user.pk)
        .first()
    )
    if upload is None:
        raise Http404("No such upload.")
    return upload.asset


def assignment_upload_finish(*, user, asset: MediaAsset) -> MediaAsset:
    """Verify what arrived in S3 (media_delivery: HEAD, size, first bytes): ready or rejected.

    A second finish verifies nothing again (the grant was used): the asset as it stands.
    """
    try:
        return upload_finish(actor=user, asset=asset)
    except UploadAlreadyFinished:
        return asset


def assignment_upload_abort(*, user, asset: MediaAsset) -> MediaAsset:
    return upload_abort(actor=user, asset=asset)


def assignment_uploads_prune(*, older_than: timedelta, now: datetime | None = None) -> int:
    """Delete files uploaded for an assignment but never handed in, issued before `older_than`
    ago (rows and objects). Returns how many. Handed-in files are never touched."""
    cutoff = (now or timezone.now()) - older_than
    stale = list(
        MediaAsset.objects.filter(
            assignment_upload__created_at__lt=cutoff, submission__isnull=True
        ).select_related("assignment_upload")
    )
    for asset in stale:
        asset_discard(actor=None, asset=asset)
    return len(stale)


def _submission_asset(*, user, assessment: Assessment, asset_id) -> MediaAsset:
    """The ready asset this learner uploaded for this assignment, locked; AssessmentError otherwise."""
    refused = AssessmentError("That file was not uploaded for this assignment: attach it again.")
    upload = (
        AssignmentUpload.objects.filter(asset_id=asset_id, assessment=assessment, user_id=user.pk)
        .select_related("asset")
        .first()
        if asset_id
        else None
    )
    if upload is None:
        raise refused
    asset = MediaAsset.objects.select_for_update().get(pk=upload.asset_id)
    if asset.status == AssetStatus.PENDING:
        raise AssessmentError("Your file has not finished uploading yet: wait for it, then hand in.")
    if asset.status != AssetStatus.READY:
        raise AssessmentError(f"Your file was not accepted: {asset.reason or 'upload it again.'}")
    if Attempt.objects.filter(asset=asset).exists():
        raise AssessmentError("That file was already handed in: attach it again for a new submission.")
    if (asset.size or 0) > assessment.max_file_bytes or asset.content_type not in SUBMISSION_CONTENT_TYPES:
        raise AssessmentError(
            f"This assignment takes {SUBMISSION_TYPES_TEXT} files up to {assessment.max_file_mb} MB."
        )
    return asset


@transaction.atomic
def assignment_submit(
    *,
    user,
    course: Course,
    assessment: Assessment,
    text: str = "",
    asset_id=None,
    now: datetime | None = None,
) -> Attempt:
    """Hand in an assignment (text and/or a file uploaded for it and verified); it waits for a grader."""
    now = now or timezone.now()
    mine = _require_open_assignment(user=user, course=course, assessment=assessment, now=now)
    text = (text or "").strip()
    if not assessment.accepts_text:
        text = ""
    if not assessment.accepts_file:
        asset_id = None
    if not text and not asset_id:
        raise AssessmentError("Write your answer or attach a file before handing in.")
    asset = _submission_asset(user=user, assessment=assessment, asset_id=asset_id) if asset_id else None
    try:
        with transaction.atomic():
            attempt = Attempt.objects.create(
                assessment=assessment,
                user=user,
                number=len(mine) + 1,
                started_at=now,
                submitted_at=now,
                status=AttemptStatus.SUBMITTED,
                text_answer=text,
                asset=asset,
                file_name=asset.filename if asset else "",
            )
    except IntegrityError:
        # Two hand-ins at the same moment (two tabs): the first one counts, this one changes nothing.
        raise AssessmentError(
            "This assignment was just handed in from another tab or window; it is waiting for a grade."
        ) from None
    send_on_commit(quiz_submitted, sender=Attempt, **_attempt_event(attempt))
    return attempt


# --- Grading by hand ------------------------------------------------------------------------


def _points(value, limit: Decimal, what: str, field: str) -> Decimal:
    try:
        points = Decimal(str(value)).quantize(CENT)
    except (ArithmeticError, ValueError):
        raise AssessmentError(f"{what}: enter a number of points.", field=field) from None
    if not points.is_finite() or points < 0 or points > limit:
        raise AssessmentError(f"{what}: give between 0 and {limit.normalize():f} points.", field=field)
    return points


def _grade_values(attempt: Attempt) -> dict:
    """What grading changes on an attempt, as the audit log keeps it."""
    return {
        "status": attempt.status,
        "score": None if attempt.score is None else str(attempt.score),
        "passed": attempt.passed,
        "rubric_scores": attempt.rubric_scores,
        "comment": attempt.comment,
    }


@transaction.atomic
def attempt_grade(
    *,
    actor,
    attempt: Attempt,
    question_points: dict | None = None,
    rubric: dict | None = None,
    comment: str = "",
    now: datetime | None = None,
) -> Attempt:
    """Course staff grade a submission: essay points, rubric criteria, a comment. The learner is e-mailed."""
    now = now or timezone.now()
    attempt = (
        Attempt.objects.select_for_update()
        .select_related("assessment__lesson__module__course", "user")
        .get(pk=attempt.pk)
    )
    assessment = attempt.assessment
    course = assessment.lesson.module.course
    decision = grading_decision(actor, course)
    if not decision:
        raise AssessmentError(decision.reason, code="forbidden", status=403)
    if attempt.status != AttemptStatus.SUBMITTED:
        raise AssessmentError(
            "This submission was already graded."
            if attempt.status == AttemptStatus.GRADED
            else "This attempt has not been handed in yet."
        )
    question_points = question_points or {}
    rubric = rubric or {}
    questions = _questions_of(attempt)
    essays = [
        questions[i]
        for i in attempt.question_ids
        if i in questions and questions[i].kind == QuestionKind.ESSAY
    ]
    given = {}
    for question in essays:
        number = attempt.question_ids.index(question.pk) + 1
        if str(question.pk) not in question_points:
            raise AssessmentError(f"Question {number}: give it points.", field=f"q{question.pk}")
        given[question] = _points(
            question_points[str(question.pk)], question.points, f"Question {number}", f"q{question.pk}"
        )
    scores = {}
    if assessment.is_assignment:
        criteria = list(assessment.rubric.all())
        for criterion in criteria:
            if str(criterion.pk) not in rubric:
                raise AssessmentError(f"{criterion.title}: give it points.", field=f"c{criterion.pk}")
            scores[str(criterion.pk)] = str(
                _points(rubric[str(criterion.pk)], criterion.points, criterion.title, f"c{criterion.pk}")
            )
        if not criteria:
            scores["score"] = str(_points(rubric.get("score", ""), assessment.max_score, "Score", "score"))
    before = _grade_values(attempt)
    for question, points in given.items():
        Answer.objects.update_or_create(
            attempt=attempt,
            question=question,
            defaults={"points": points, "correct": points >= question.points, "saved_at": now},
        )
    attempt.rubric_scores = scores
    attempt.comment = (comment or "").strip()[:10_000]
    attempt.save(update_fields=["rubric_scores", "comment"])
    _settle(attempt, graded_by=actor, now=now)
    audit_record(
        actor=actor,
        action="attempt.graded",
        target=attempt,
        before=before,
        after={**_grade_values(attempt), "question_points": {str(q.pk): str(p) for q, p in given.items()}},
    )
    _notify_graded(attempt, course)
    return attempt


def _notify_graded(attempt: Attempt, course: Course) -> None:
    path = f"/assessments/{course.slug}/attempts/{attempt.pk}/"
    context = {
        "attempt": attempt,
        "title": attempt.assessment.lesson.title,
        "course_title": course.title,
        "url": tenant_url(require_tenant(), path),
    }
    subject = render_to_string("assessments/email/graded_subject.txt", context).strip()
    body = render_to_string("assessments/email/graded_body.txt", context)
    enqueue_on_commit(email_send_task, to=attempt.user.email, subject=subject, body=body)


# --- Authoring: every reference stays inside one course (ADR 0065) ---------------------------
#
# The admin's choices offer only objects of courses the person may edit; these checks are the
# rule itself, run by the admin forms (a field error) and again by the writes below (a refusal
# that changes nothing), for creating and changing alike. Messages never name the object
# refused: it may belong to a course the person may not see.

OTHER_COURSE_POOL = "That question bank belongs to another course: draw only from this course's banks."
NOT_EDITABLE = "Choose a {what} of a course you may edit."
NOT_YOURS_TO_CHANGE = "Only this course's instructors and the organization's admins can change it."


def _editable(actor, course_id: int | None) -> bool:
    """May `actor` edit this (not deleted) course?"""
    course = Course.objects.alive().filter(pk=course_id).first() if course_id is not None else None
    return course is not None and bool(editing_decision(actor, course))


def _stored_course_id(model, pk, path: str) -> int | None:
    return model.objects.filter(pk=pk).values_list(path, flat=True).first() if pk else None


def assessment_reference_problems(*, actor, assessment: Assessment) -> list[str]:
    """Why `assessment` (new or changed) cannot be saved with the lesson it names, as sentences."""
    if not assessment.lesson_id:
        return []
    lesson = Lesson.objects.select_related("module").filter(pk=assessment.lesson_id).first()
    if (
        lesson is None
        or lesson.is_deleted
        or lesson.module.is_deleted
        or not _editable(actor, lesson.module.course_id)
    ):
        return [NOT_EDITABLE.format(what="lesson")]
    course_id = lesson.module.course_id
    before = _stored_course_id(Assessment, assessment.pk, "lesson__module__course_id")
    if assessment.pk and before != course_id:
        if not _editable(actor, before):
            return [NOT_YOURS_TO_CHANGE]
        if PoolDraw.objects.filter(assessment_id=assessment.pk).exclude(pool__course_id=course_id).exists():
            return [
                "This assessment draws from question banks of its current course: remove those draws "
                "and save before moving it to a lesson of another course."
            ]
    return []


def pool_draw_problems(*, actor, assessment: Assessment, pool: QuestionPool) -> list[str]:
    """Why `assessment` may not draw from `pool` (empty when it may)."""
    course_id = (
        Lesson.objects.filter(pk=assessment.lesson_id).values_list("module__course_id", flat=True).first()
    )
    if course_id is None or not _editable(actor, course_id):
        return [NOT_EDITABLE.format(what="lesson")]
    if pool.course_id != course_id:
        return [OTHER_COURSE_POOL]
    return []


def question_reference_problems(*, actor, question: Question) -> list[str]:
    """Why `question` cannot be saved where it says it belongs (its assessment or its bank)."""
    if question.assessment_id:
        course_id = _stored_course_id(Assessment, question.assessment_id, "lesson__module__course_id")
        what = "quiz or assignment"
    elif question.pool_id:
        course_id = _stored_course_id(QuestionPool, question.pool_id, "course_id")
        what = "question bank"
    else:
        return []
    if not _editable(actor, course_id):
        return [NOT_EDITABLE.format(what=what)]
    if question.pk:
        stored = (
            Question.objects.filter(pk=question.pk)
            .values_list("assessment__lesson__module__course_id", "pool__course_id")
            .first()
        )
        before = (stored[0] or stored[1]) if stored else None
        if before is not None and not _editable(actor, before):
            return [NOT_YOURS_TO_CHANGE]
    return []


def question_pool_problems(*, actor, pool: QuestionPool) -> list[str]:
    """Why the question bank cannot be saved in the course it names."""
    if not pool.course_id:
        return []
    if not _editable(actor, pool.course_id):
        return [NOT_EDITABLE.format(what="course")]
    before = _stored_course_id(QuestionPool, pool.pk, "course_id")
    if pool.pk and before != pool.course_id:
        if not _editable(actor, before):
            return [NOT_YOURS_TO_CHANGE]
        if pool.draws.exclude(assessment__lesson__module__course_id=pool.course_id).exists():
            return [
                "Assessments of its current course draw from this bank: remove those draws before "
                "moving it to another course."
            ]
    return []


def certificate_settings_problems(*, actor, settings: CertificateSettings) -> list[str]:
    if not settings.course_id:
        return []
    if not _editable(actor, settings.course_id):
        return [NOT_EDITABLE.format(what="course")]
    before = _stored_course_id(CertificateSettings, settings.pk, "course_id")
    if settings.pk and before != settings.course_id and not _editable(actor, before):
        return [NOT_YOURS_TO_CHANGE]
    return []


def _refuse(problems: list[str]) -> None:
    if problems:
        raise AssessmentError(problems[0])


@transaction.atomic
def assessment_save(*, actor, assessment: Assessment) -> Assessment:
    """Create or change an assessment (the admin's form has validated its own fields)."""
    _refuse(assessment_reference_problems(actor=actor, assessment=assessment))
    assessment.save()
    return assessment


@transaction.atomic
def pool_draw_save(*, actor, draw: PoolDraw) -> PoolDraw:
    """Create or change "draw N questions from this bank" of an assessment."""
    _refuse(pool_draw_problems(actor=actor, assessment=draw.assessment, pool=draw.pool))
    stored = PoolDraw.objects.filter(pk=draw.pk).values("assessment_id", "pool_id", "count").first()
    if draw.pk and (stored is None or stored["assessment_id"] != draw.assessment_id):
        raise AssessmentError("A draw stays with its assessment.")
    after = {"assessment": draw.assessment_id, "pool": draw.pool_id, "count": draw.count}
    before = (
        {"assessment": stored["assessment_id"], "pool": stored["pool_id"], "count": stored["count"]}
        if stored
        else None
    )
    draw.save()
    if before != after:
        audit_record(
            actor=actor,
            action="draw.updated" if before else "draw.created",
            target=draw,
            before=before,
            after=after,
        )
    return draw


@transaction.atomic
def pool_draw_delete(*, actor, draw: PoolDraw) -> None:
    """Stop drawing questions from a bank for this assessment."""
    course_id = _stored_course_id(Assessment, draw.assessment_id, "lesson__module__course_id")
    if not _editable(actor, course_id):
        raise AssessmentError(NOT_YOURS_TO_CHANGE, code="forbidden", status=403)
    audit_record(
        actor=actor,
        action="draw.deleted",
        target=draw,
        before={"assessment": draw.assessment_id, "pool": draw.pool_id, "count": draw.count},
    )
    PoolDraw.objects.filter(pk=draw.pk).delete()  # the caller's object keeps its id (for its log)


@transaction.atomic
def question_save(*, actor, question: Question) -> Question:
    _refuse(question_reference_problems(actor=actor, question=question))
    question.save()
    return question


@transaction.atomic
def question_pool_save(*, actor, pool: QuestionPool) -> QuestionPool:
    _refuse(question_pool_problems(actor=actor, pool=pool))
    pool.save()
    return pool


@transaction.atomic
def certificate_settings_save(*, actor, settings: CertificateSettings) -> CertificateSettings:
    _refuse(certificate_settings_problems(actor=actor, settings=settings))
    names = ("course_id", "enabled", "signature_name")
    stored = (
        CertificateSettings.objects.filter(pk=settings.pk).values(*names).first() if settings.pk else None
    )
    after = {name.removesuffix("_id"): getattr(settings, name) for name in names}
    before = {name.removesuffix("_id"): stored[name] for name in names} if stored else None
    settings.save()
    if before != after:
        changed = [name for name in after if before is None or before[name] != after[name]]
        audit_record(
            actor=actor,
            action="certificate_settings.updated" if before else "certificate_settings.created",
            target=settings,
            before={name: before[name] for name in changed} if before else None,
            after={name: after[name] for name in changed},
        )
    return settings


@transaction.atomic
def certificate_settings_delete(*, actor, settings: CertificateSettings) -> None:
    """Turn a course's certificate settings back to none (issued certificates stay valid)."""
    if not _editable(actor, settings.course_id):
        raise AssessmentError(NOT_YOURS_TO_CHANGE, code="forbidden", status=403)
    audit_record(
        actor=actor,
        action="certificate_settings.deleted",
        target=settings,
        before={
            "course": settings.course_id,
            "enabled": settings.enabled,
            "signature_name": settings.signature_name,
        },
    )
    CertificateSettings.objects.filter(pk=settings.pk).delete()  # the caller's object keeps its id
