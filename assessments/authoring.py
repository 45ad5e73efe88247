"""Every authoring write about assessments: quizzes, questions with their choices, question banks.

One keyword-only, atomic service per write (ADR 0170, following ADR 0145 for courses). Each
checks the actor with the door (`enrollments.access.editing_decision`, through the reference
rules of ADR 0065 in `assessments.services`), validates the object with the model's own
`full_clean` plus the rules a question needs as a whole (its choices), and records an audit
row with before and after. A refusal is an `AssessmentError` with `field=` where one is to
blame, raised before anything is written (or inside the atomic block, so nothing stays).
The admin and the API call these; none writes these rows itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Max

from accounts.audit import audit_record
from core.errors import NotFound
from courses.models import Course, Lesson

from .models import CHOICE_KINDS, Assessment, Choice, Question, QuestionKind, QuestionPool, RubricCriterion
from .services import (
    NOT_EDITABLE,
    NOT_YOURS_TO_CHANGE,
    AssessmentError,
    _editable,
    assessment_reference_problems,
    question_pool_problems,
    question_reference_problems,
)

#: What an author sets on an assessment; `lesson` is its place and has its own rules.
ASSESSMENT_FIELDS = frozenset(
    {
        "kind",
        "instructions",
        "max_score",
        "passing_score",
        "time_limit_minutes",
        "attempts_allowed",
        "shuffle_questions",
        "shuffle_choices",
        "show_answers",
        "grade_policy",
        "available_from",
        "available_until",
        "accepts_text",
        "accepts_file",
        "max_file_mb",
    }
)
#: What an author sets on a question; `assessment`/`pool` are its home, `choices` its own list.
QUESTION_FIELDS = frozenset(
    {
        "kind",
        "prompt",
        "points",
        "position",
        "partial_credit",
        "correct_true",
        "accepted_answers",
        "case_sensitive",
        "numeric_answer",
        "tolerance",
        "explanation",
    }
)
BANK_FIELDS = frozenset({"title"})
RUBRIC_FIELDS = ("title", "description", "points", "position")
MAX_CHOICES = 50


# --- shared helpers ------------------------------------------------------------------


def _value(value: Any) -> Any:
    """A value as the audit log's JSON keeps it: rows by id, decimals and times as text."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _values(obj: models.Model, names) -> dict:
    out = {}
    for name in sorted(names):
        field = obj._meta.get_field(name)
        out[name] = _value(getattr(obj, field.attname if field.is_relation else name))
    return out


def _error_from(exc: ValidationError) -> AssessmentError:
    if hasattr(exc, "error_dict"):
        for name, messages in exc.message_dict.items():
            return AssessmentError(messages[0], field=None if name == "__all__" else name)
    return AssessmentError(exc.messages[0])


def _apply(obj: models.Model, fields: dict, *, allowed: frozenset[str]) -> dict:
    """Set `fields` on `obj`; a name outside `allowed` is refused with its field. Returns the old values."""
    for name in fields:
        if name not in allowed:
            raise AssessmentError(f"'{name}' cannot be changed here.", field=name)
    before = {name: getattr(obj, name) for name in fields}
    for name, value in fields.items():
        setattr(obj, name, value)
    return before


def _validated(obj: models.Model, before: dict) -> None:
    """full_clean `obj`; on a refusal put back what `_apply` changed and raise AssessmentError."""
    try:
        obj.full_clean()
    except ValidationError as exc:
        for name, value in before.items():
            setattr(obj, name, value)
        raise _error_from(exc) from exc


def _refuse(problems: list[str], field: str | None = None) -> None:
    if problems:
        raise AssessmentError(problems[0], field=field)


def _require_editor(actor, course_id: int | None) -> None:
    if not _editable(actor, course_id):
        raise AssessmentError(NOT_YOURS_TO_CHANGE, code="forbidden", status=403)


def _changes(before: dict, after: dict) -> tuple[dict, dict]:
    names = [name for name in after if before.get(name) != after[name]]
    return {n: before.get(n) for n in names}, {n: after[n] for n in names}


def _next_position(queryset) -> int:
    highest = queryset.aggregate(p=Max("position"))["p"]
    return 0 if highest is None else highest + 1


# --- assessments (quizzes, exams, assignments) -------------------------------------------


def _assessment_course_id(assessment: Assessment) -> int | None:
    return (
        Assessment.objects.filter(pk=assessment.pk)
        .values_list("lesson__module__course_id", flat=True)
        .first()
    )


@transaction.atomic
def assessment_create(*, actor, lesson: Lesson, **fields) -> Assessment:
    """The quiz, exam or assignment of a quiz/assignment lesson of a course the actor may edit."""
    assessment = Assessment(lesson=lesson)
    _refuse(assessment_reference_problems(actor=actor, assessment=assessment), "lesson")
    before = _apply(assessment, fields, allowed=ASSESSMENT_FIELDS)
    _validated(assessment, before)
    assessment.save()
    audit_record(
        actor=actor,
        action="assessment.created",
        target=assessment,
        after={"lesson": lesson.pk, **_values(assessment, ASSESSMENT_FIELDS)},
    )
    return assessment


@transaction.atomic
def assessment_update(*, actor, assessment: Assessment, lesson: Lesson | None = None, **fields) -> Assessment:
    """Change an assessment's settings (with `lesson`, its lesson too); `before` is read from the database."""
    stored = Assessment.objects.select_for_update().get(pk=assessment.pk)
    _require_editor(actor, _assessment_course_id(stored))
    names = set(fields) | ({"lesson"} if lesson is not None else set())
    before = _apply(assessment, fields, allowed=ASSESSMENT_FIELDS)
    if lesson is not None:
        before["lesson"] = assessment.lesson
        assessment.lesson = lesson
    problems = assessment_reference_problems(actor=actor, assessment=assessment)
    if problems:
        for name, value in before.items():
            setattr(assessment, name, value)
        _refuse(problems, "lesson")
    _validated(assessment, before)
    old, new = _changes(_values(stored, names), _values(assessment, names))
    if new:
        assessment.save()
        audit_record(actor=actor, action="assessment.updated", target=assessment, before=old, after=new)
    return assessment


@transaction.atomic
def assessment_delete(*, actor, assessment: Assessment) -> None:
    """Delete an assessment and its questions. Refused once learners have attempts: their grades stay."""
    stored = Assessment.objects.select_for_update().get(pk=assessment.pk)
    _require_editor(actor, _assessment_course_id(stored))
    if stored.attempts.exists():
        raise AssessmentError(
            "Learners have taken this already; deleting it would erase their grades. "
            "Close it instead (set the end of its window).",
            code="conflict",
            status=409,
        )
    before = {
        "lesson": stored.lesson_id,
        "questions": list(stored.questions.values_list("pk", flat=True)),
        **_values(stored, ASSESSMENT_FIELDS),
    }
    audit_record(actor=actor, action="assessment.deleted", target=stored, before=before)
    stored.delete()


# --- rubric criteria of an assignment --------------------------------------------------


@transaction.atomic
def rubric_criterion_save(*, actor, criterion: RubricCriterion) -> RubricCriterion:
    """Create or change one criterion of an assessment's rubric (it stays with its assessment)."""
    stored = RubricCriterion.objects.filter(pk=criterion.pk).first() if criterion.pk else None
    if stored is not None and stored.assessment_id != criterion.assessment_id:
        raise AssessmentError("A rubric criterion stays with its assessment.", field="assessment")
    _require_editor(actor, _assessment_course_id(criterion.assessment))
    _validated(criterion, {})
    before = _values(stored, RUBRIC_FIELDS) if stored is not None else None
    after = _values(criterion, RUBRIC_FIELDS)
    criterion.save()
    if before is None:
        audit_record(
            actor=actor,
            action="rubric.created",
            target=criterion,
            after={"assessment": criterion.assessment_id, **after},
        )
    else:
        old, new = _changes(before, after)
        if new:
            audit_record(actor=actor, action="rubric.updated", target=criterion, before=old, after=new)
    return criterion


@transaction.atomic
def rubric_criterion_delete(*, actor, criterion: RubricCriterion) -> None:
    _require_editor(actor, _assessment_course_id(criterion.assessment))
    audit_record(
        actor=actor,
        action="rubric.deleted",
        target=criterion,
        before={"assessment": criterion.assessment_id, **_values(criterion, RUBRIC_FIELDS)},
    )
    RubricCriterion.objects.filter(pk=criterion.pk).delete()  # the caller's object keeps its id


# --- questions and their choices -------------------------------------------------------


@dataclass(frozen=True)
class ChoiceSpec:
    """One choice as an author gives it; `id` names an existing choice of the question to keep."""

    text: str
    is_correct: bool = False
    id: int | None = None


def _choice_specs(choices) -> list[ChoiceSpec]:
    specs = []
    for item in choices:
        if isinstance(item, ChoiceSpec):
            specs.append(item)
        elif isinstance(item, dict):
            try:
                specs.append(
                    ChoiceSpec(
                        text=str(item.get("text", "")),
                        is_correct=bool(item.get("is_correct", False)),
                        id=int(item["id"]) if item.get("id") not in (None, "") else None,
                    )
                )
            except (TypeError, ValueError):
                raise AssessmentError("A choice id must be a number.", field="choices") from None
        else:
            raise AssessmentError("Give each choice as text and whether it is correct.", field="choices")
    return specs


def choice_problems(*, kind: str, choices: list[ChoiceSpec]) -> str | None:
    """Why this list of choices does not make a question of `kind` answerable (None when it does)."""
    if kind not in CHOICE_KINDS:
        return "Only single and multiple choice questions have choices." if choices else None
    if len(choices) > MAX_CHOICES:
        return f"A question has at most {MAX_CHOICES} choices."
    if any(not c.text.strip() for c in choices):
        return "Every choice needs a text."
    if len(choices) < 2:
        return "A choice question needs at least two choices."
    correct = sum(1 for c in choices if c.is_correct)
    if kind == QuestionKind.SINGLE and correct != 1:
        return "Mark exactly one choice as correct."
    if kind == QuestionKind.MULTIPLE and correct == 0:
        return "Mark at least one choice as correct."
    return None


def _question_course_id(question: Question) -> int | None:
    stored = (
        Question.objects.filter(pk=question.pk)
        .values_list("assessment__lesson__module__course_id", "pool__course_id")
        .first()
    )
    return (stored[0] or stored[1]) if stored else None


def _choices_of(question: Question) -> list[dict]:
    return [
        {"id": c.pk, "text": c.text, "is_correct": c.is_correct}
        for c in Choice.objects.filter(question=question).order_by("position", "id")
    ]


def _write_choices(question: Question, specs: list[ChoiceSpec]) -> None:
    """Make the question's choices exactly `specs`, in that order (ids not listed are deleted)."""
    existing = {c.pk: c for c in Choice.objects.select_for_update().filter(question=question)}
    unknown = [s.id for s in specs if s.id is not None and s.id not in existing]
    if unknown or len({s.id for s in specs if s.id is not None}) != sum(1 for s in specs if s.id):
        raise AssessmentError("Those choices are not this question's.", field="choices")
    kept = {s.id for s in specs if s.id is not None}
    Choice.objects.filter(question=question).exclude(pk__in=kept).delete()
    for position, spec in enumerate(specs):
        choice = existing[spec.id] if spec.id is not None else Choice(question=question)
        choice.text, choice.is_correct, choice.position = spec.text.strip(), spec.is_correct, position
        choice.save()


def _question_audit(question: Question) -> dict:
    return {
        "assessment": question.assessment_id,
        "pool": question.pool_id,
        **_values(question, QUESTION_FIELDS),
        "choices": [{"text": c["text"], "is_correct": c["is_correct"]} for c in _choices_of(question)],
    }


@transaction.atomic
def question_create(
    *,
    actor,
    assessment: Assessment | None = None,
    pool: QuestionPool | None = None,
    choices=(),
    **fields,
) -> Question:
    """A question of an assessment or of a question bank, with its choices (choice kinds)."""
    question = Question(assessment=assessment, pool=pool)
    _refuse(
        question_reference_problems(actor=actor, question=question), "assessment" if assessment else "pool"
    )
    if (assessment is None) == (pool is None):
        raise AssessmentError("Put the question in an assessment or in a question bank.", field="assessment")
    specs = _choice_specs(choices)
    before = _apply(question, fields, allowed=QUESTION_FIELDS)
    _validated(question, before)
    problem = choice_problems(kind=question.kind, choices=specs)
    if problem:
        raise AssessmentError(problem, field="choices")
    if "position" not in fields:
        home = {"assessment": assessment} if assessment is not None else {"pool": pool}
        question.position = _next_position(Question.objects.filter(**home))
    question.save()
    _write_choices(question, specs)
    audit_record(actor=actor, action="question.created", target=question, after=_question_audit(question))
    return question


@transaction.atomic
def question_update(
    *,
    actor,
    question: Question,
    choices=None,
    **fields,
) -> Question:
    """Change a question (its home with `assessment=`/`pool=`, its choices with `choices=`, the full
    list in order). The result is checked as a whole: a choice question keeps its right answers."""
    stored = Question.objects.select_for_update().get(pk=question.pk)
    _require_editor(actor, _question_course_id(stored))
    before_audit = _question_audit(stored)
    home = {name: fields.pop(name) for name in ("assessment", "pool") if name in fields}
    before = _apply(question, fields, allowed=QUESTION_FIELDS)
    for name, value in home.items():
        before[name] = getattr(question, name)
        setattr(question, name, value)
    problems = question_reference_problems(actor=actor, question=question)
    if problems:
        for name, value in before.items():
            setattr(question, name, value)
        _refuse(problems, "assessment" if question.assessment_id else "pool")
    _validated(question, before)
    if choices is not None:
        specs = _choice_specs(choices)
    elif question.kind in CHOICE_KINDS:
        specs = [
            ChoiceSpec(text=c["text"], is_correct=c["is_correct"], id=c["id"]) for c in _choices_of(stored)
        ]
    else:
        specs = []
    # A question that stops being a choice question loses its choices (specs is empty then).
    problem = choice_problems(kind=question.kind, choices=specs)
    if problem:
        for name, value in before.items():
            setattr(question, name, value)
        raise AssessmentError(problem, field="choices")
    question.save()
    _write_choices(question, specs)
    old, new = _changes(before_audit, _question_audit(question))
    if new:
        audit_record(actor=actor, action="question.updated", target=question, before=old, after=new)
    return question


@transaction.atomic
def question_delete(*, actor, question: Question) -> None:
    """Delete a question and its choices. Attempts that drew it keep their score; it counts for nothing
    in attempts graded later (as `assessments.services` already treats a question gone)."""
    stored = Question.objects.select_for_update().get(pk=question.pk)
    _require_editor(actor, _question_course_id(stored))
    audit_record(actor=actor, action="question.deleted", target=stored, before=_question_audit(stored))
    stored.delete()


@transaction.atomic
def question_reorder(*, actor, assessment: Assessment, question_ids: list[int]) -> list[int]:
    """Put the assessment's questions in the order of `question_ids` (each of its questions, once)."""
    _require_editor(actor, _assessment_course_id(assessment))
    Assessment.objects.select_for_update().get(pk=assessment.pk)
    try:
        wanted = [int(pk) for pk in question_ids]
    except (TypeError, ValueError):
        raise AssessmentError("Give the question ids as numbers.", field="question_ids") from None
    found = Question.objects.filter(pk__in=wanted)
    if set(found.values_list("pk", flat=True)) != set(wanted):
        raise NotFound("No such question here.")
    questions = {q.pk: q for q in Question.objects.select_for_update().filter(assessment=assessment)}
    if len(set(wanted)) != len(wanted) or set(wanted) != set(questions):
        raise AssessmentError(
            "List every question of this assessment exactly once, in the new order.", field="question_ids"
        )
    before = [q.pk for q in sorted(questions.values(), key=lambda q: (q.position, q.pk))]
    for position, pk in enumerate(wanted):
        if questions[pk].position != position:
            questions[pk].position = position
            questions[pk].save(update_fields=["position"])
    if before != wanted:
        audit_record(
            actor=actor,
            action="assessment.questions_reordered",
            target=assessment,
            before=before,
            after=wanted,
        )
    return wanted


# --- question banks --------------------------------------------------------------------


def _require_title(title) -> str:
    title = (title or "").strip()
    if not title:
        raise AssessmentError("A title is needed.", field="title")
    return title


@transaction.atomic
def bank_create(*, actor, course: Course, title: str) -> QuestionPool:
    """A question bank of a course the actor may edit."""
    bank = QuestionPool(course=course, title=_require_title(title))
    _refuse(question_pool_problems(actor=actor, pool=bank), "course")
    _validated(bank, {})
    bank.save()
    audit_record(
        actor=actor, action="bank.created", target=bank, after={"course": course.pk, "title": bank.title}
    )
    return bank


@transaction.atomic
def bank_update(
    *, actor, bank: QuestionPool, title: str | None = None, course: Course | None = None
) -> QuestionPool:
    """Rename a bank, or move it to another course the actor may edit (refused while drawn from)."""
    stored = QuestionPool.objects.select_for_update().get(pk=bank.pk)
    _require_editor(actor, stored.course_id)
    before = {"title": bank.title, "course": bank.course}
    if title is not None:
        bank.title = _require_title(title)
    if course is not None:
        bank.course = course
    problems = question_pool_problems(actor=actor, pool=bank)
    if problems:
        bank.title, bank.course = before["title"], before["course"]
        _refuse(problems, "course")
    _validated(bank, before)
    old, new = _changes(_values(stored, ["title", "course"]), _values(bank, ["title", "course"]))
    if new:
        bank.save()
        audit_record(actor=actor, action="bank.updated", target=bank, before=old, after=new)
    return bank


@transaction.atomic
def bank_delete(*, actor, bank: QuestionPool) -> None:
    """Delete a bank and its questions; refused while an assessment draws from it."""
    stored = QuestionPool.objects.select_for_update().get(pk=bank.pk)
    _require_editor(actor, stored.course_id)
    if stored.draws.exists():
        raise AssessmentError(
            "Assessments draw questions from this bank: remove those draws first.",
            code="conflict",
            status=409,
        )
    audit_record(
        actor=actor,
        action="bank.deleted",
        target=stored,
        before={
            "course": stored.course_id,
            "title": stored.title,
            "questions": list(stored.questions.values_list("pk", flat=True)),
        },
    )
    stored.delete()


@transaction.atomic
def bank_add_question(*, actor, bank: QuestionPool, question: Question) -> Question:
    """Move a question (of an assessment or another bank) into `bank`, where quizzes draw it at random."""
    stored = Question.objects.select_for_update().get(pk=question.pk)
    _require_editor(actor, _question_course_id(stored))
    if stored.pool_id == bank.pk:
        return stored
    if not _editable(actor, bank.course_id):
        raise AssessmentError(NOT_EDITABLE.format(what="question bank"), field="pool")
    before = {"assessment": stored.assessment_id, "pool": stored.pool_id}
    stored.assessment, stored.pool = None, bank
    stored.save(update_fields=["assessment", "pool"])
    audit_record(
        actor=actor,
        action="bank.question_added",
        target=bank,
        before=before,
        after={"question": stored.pk, "assessment": None, "pool": bank.pk},
    )
    question.assessment_id, question.pool_id = None, bank.pk
    return stored


@transaction.atomic
def bank_remove_question(
    *, actor, bank: QuestionPool, question: Question, assessment: Assessment | None = None
) -> None:
    """Take a question out of `bank`: into `assessment` when given (of a course the actor may edit),
    otherwise it is deleted."""
    stored = Question.objects.select_for_update().filter(pk=question.pk, pool=bank).first()
    if stored is None:
        raise NotFound("No such question in this bank.")
    _require_editor(actor, bank.course_id)
    if assessment is None:
        audit_record(
            actor=actor,
            action="bank.question_removed",
            target=bank,
            before={"question": stored.pk, **_question_audit(stored)},
        )
        stored.delete()
        return
    if not _editable(actor, _assessment_course_id(assessment)):
        raise AssessmentError(NOT_EDITABLE.format(what="quiz or assignment"), field="assessment")
    stored.pool, stored.assessment = None, assessment
    stored.position = _next_position(Question.objects.filter(assessment=assessment))
    stored.save(update_fields=["pool", "assessment", "position"])
    audit_record(
        actor=actor,
        action="bank.question_removed",
        target=bank,
        before={"question": stored.pk, "pool": bank.pk},
        after={"question": stored.pk, "assessment": assessment.pk},
    )
