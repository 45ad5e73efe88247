"""The hand-in's reads and writes in plain SQL, with plain values instead of model instances.

A hand-in of a 20-question quiz built about 60 model instances (the questions, the answers
twice) and compiled five ORM statements whose compilation cost more than running them
(ADR 0202). These are the same statements written once, with table and column names taken
from the models, values as placeholders. What they return is what grading reads: a
`GradingQuestion` per question, an `AnswerRow` per answer; nothing here is cached.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import connection
from django.db.models import signals

from .models import Answer, Attempt, Choice, Question

_Q = Question._meta.db_table
_C = Choice._meta.db_table
_A = Answer._meta.db_table

# Ordered as the questions' Meta.ordering, like the queryset it replaces: the order of the
# form's answers and of their error sentences follows it.
_QUESTIONS_SQL = f"""
    SELECT q.id, q.kind, q.points, q.partial_credit, q.correct_true, q.accepted_answers,
           q.case_sensitive, q.numeric_answer, q.tolerance,
           COALESCE((SELECT array_agg(c.id) FROM {_C} AS c
                     WHERE c.question_id = q.id AND c.is_correct), '{{}}')
    FROM {_Q} AS q WHERE q.id = ANY(%s) ORDER BY q.position, q.id
"""  # noqa: S608 - table names from the models, values as placeholders

# The same questions as one JSON text, for a statement that reads the attempt row (alias `a`)
# and its questions together: the hand-in's locking find (assessments.access). Numbers as
# text, so they come back as the same Decimals.
ATTEMPT_QUESTIONS_SQL = f"""(
    SELECT json_agg(json_build_array(
        q.id, q.kind, q.points::text, q.partial_credit, q.correct_true, q.accepted_answers,
        q.case_sensitive, q.numeric_answer::text, q.tolerance::text,
        COALESCE((SELECT json_agg(c.id) FROM {_C} AS c WHERE c.question_id = q.id AND c.is_correct), '[]')
    ) ORDER BY q.position, q.id)::text
    FROM {_Q} AS q
    WHERE q.id IN (SELECT (item ->> 'id')::bigint FROM jsonb_array_elements(a.questions) AS item)
)"""  # noqa: S608 - table names from the models

_ANSWERS_UPSERT_SQL = f"""
    INSERT INTO {_A} AS a (attempt_id, question_id, response, saved_at, correct, points)
    SELECT %s, t.question_id, t.response::jsonb, t.saved_at, t.correct, t.points
    FROM unnest(%s::bigint[], %s::text[], %s::timestamptz[], %s::boolean[], %s::numeric[])
        AS t(question_id, response, saved_at, correct, points)
    ON CONFLICT (attempt_id, question_id) DO UPDATE SET
        response = EXCLUDED.response, saved_at = EXCLUDED.saved_at,
        correct = EXCLUDED.correct, points = EXCLUDED.points
"""  # noqa: S608 - table name from the model, values as placeholders

_STORED_SQL = f"""
    SELECT question_id, response, saved_at, correct, points FROM {_A}
    WHERE attempt_id = %s AND question_id = ANY(%s)
"""  # noqa: S608 - table name from the model, values as placeholders


@dataclass(frozen=True, slots=True)
class GradingQuestion:
    """What answering and grading read of a question (the fields `grading.grade` asks for)."""

    pk: int
    kind: str
    points: Decimal
    partial_credit: bool
    correct_true: bool | None
    accepted_answers: str
    case_sensitive: bool
    numeric_answer: Decimal | None
    tolerance: Decimal
    correct_choice_ids: frozenset[int]

    @property
    def accepted(self) -> list[str]:
        return [line.strip() for line in self.accepted_answers.splitlines() if line.strip()]


@dataclass(slots=True)
class AnswerRow:
    """One answer as stored (and as grading fills it in): a row of `Answer` without the instance."""

    question_id: int
    response: dict
    saved_at: datetime
    correct: bool | None = None
    points: Decimal | None = None


def questions_for_grading(question_ids: list[int]) -> dict[int, GradingQuestion]:
    """The questions among `question_ids` that still exist, by id, with their correct choices."""
    with connection.cursor() as cursor:
        cursor.execute(_QUESTIONS_SQL, [list(question_ids)])
        rows = cursor.fetchall()
    return {
        pk: GradingQuestion(
            pk, kind, points, partial, true, accepted, case, number, tolerance, frozenset(correct)
        )
        for pk, kind, points, partial, true, accepted, case, number, tolerance, correct in rows
    }


def questions_from_json(text: str | None) -> dict[int, GradingQuestion]:
    """What ATTEMPT_QUESTIONS_SQL returned, as questions_for_grading returns it."""
    return {
        pk: GradingQuestion(
            pk,
            kind,
            Decimal(points),
            partial,
            true,
            accepted,
            case,
            None if number is None else Decimal(number),
            Decimal(tolerance),
            frozenset(correct),
        )
        for pk, kind, points, partial, true, accepted, case, number, tolerance, correct in json.loads(
            text or "[]"
        )
    }


def answers_stored(attempt_id: int, question_ids: list[int]) -> dict[int, AnswerRow]:
    """The stored answers of the attempt to these questions, by question id."""
    with connection.cursor() as cursor:
        cursor.execute(_STORED_SQL, [attempt_id, list(question_ids)])
        rows = cursor.fetchall()
    return {
        question_id: AnswerRow(question_id, _json(response), saved_at, correct, points)
        for question_id, response, saved_at, correct, points in rows
    }


def _answer_params(attempt_id: int, rows: list[AnswerRow]) -> list:
    return [
        attempt_id,
        [row.question_id for row in rows],
        [json.dumps(row.response) for row in rows],
        [row.saved_at for row in rows],
        [row.correct for row in rows],
        [row.points for row in rows],
    ]


def answers_write(attempt_id: int, rows: Iterable[AnswerRow]) -> None:
    """Write answers of one attempt in one statement (one row per attempt and question), every
    field of a row given: what bulk_create(update_conflicts=True) wrote, without the instances."""
    rows = list(rows)
    if not rows:
        return
    with connection.cursor() as cursor:
        cursor.execute(_ANSWERS_UPSERT_SQL, _answer_params(attempt_id, rows))


# The UPDATE statement of attempt_write by the fields it writes, made once per field list.
_UPDATE_SQL: dict[tuple[str, ...], tuple[str, list]] = {}


def attempt_write(attempt: Attempt, names: Iterable[str], *, answers: Iterable[AnswerRow] = ()) -> None:
    """UPDATE these fields of the attempt's row as save(update_fields=names) writes them, and
    first, in the same statement, its `answers` as answers_write does (a hand-in's answers and
    its grade: one statement, not two).

    The values are prepared by their fields and pre_save and post_save are sent (nobody listens
    to attempts today; a receiver added later still hears them), without the rest of save()'s
    machinery (an UPDATE query compiled for one row). auto_now fields are not set here."""
    names = tuple(names)
    found = _UPDATE_SQL.get(names)
    if found is None:
        fields = [Attempt._meta.get_field(name) for name in names]
        quote = connection.ops.quote_name
        sets = ", ".join(f"{quote(f.column)} = %s" for f in fields)
        sql = f"UPDATE {Attempt._meta.db_table} SET {sets} WHERE id = %s"  # noqa: S608 - names from the model
        found = _UPDATE_SQL[names] = (sql, fields)
    sql, fields = found
    update_fields = frozenset(names)
    using = connection.alias
    signals.pre_save.send(
        sender=Attempt, instance=attempt, raw=False, using=using, update_fields=update_fields
    )
    params = [*(f.get_db_prep_save(getattr(attempt, f.attname), connection) for f in fields), attempt.pk]
    rows = list(answers)
    if rows:
        # A data-modifying WITH runs to completion whether or not the UPDATE reads it.
        sql = f"WITH answers AS ({_ANSWERS_UPSERT_SQL}) {sql}"
        params = [*_answer_params(attempt.pk, rows), *params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    attempt._state.adding = False
    signals.post_save.send(
        sender=Attempt, instance=attempt, created=False, update_fields=update_fields, raw=False, using=using
    )


def _json(value):
    """A jsonb column read through Django's connection comes as text (its loader), like the ORM's."""
    return json.loads(value) if isinstance(value, str) else value
