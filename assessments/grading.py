"""Checking and grading one answer to one question. Pure functions: no database writes.

A response is a small JSON object whose shape depends on the question's kind:
single {"choice": id}, multiple {"choices": [ids]}, true/false {"value": bool},
short and essay {"text": str}, numeric {"value": "3.14"}.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from .models import QuestionKind

MAX_TEXT_CHARS = 20_000
MAX_SHORT_CHARS = 500
CENT = Decimal("0.01")


class AnswerError(ValueError):
    """An answer that cannot be stored, with a sentence for the learner."""


def _choice_id(value, allowed: set[int]) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise AnswerError("Choose one of the listed answers.")
    try:
        choice = int(value)
    except ValueError:
        raise AnswerError("Choose one of the listed answers.") from None
    if choice not in allowed:
        raise AnswerError("That choice does not belong to this question.")
    return choice


def clean_response(*, kind: str, raw, choice_ids: list[int]) -> dict:
    """The stored form of a learner's answer; AnswerError for anything malformed."""
    if not isinstance(raw, dict):
        raise AnswerError("An answer must be a JSON object.")
    allowed = set(choice_ids)
    if kind == QuestionKind.SINGLE:
        if raw.get("choice") in (None, ""):
            return {}
        return {"choice": _choice_id(raw.get("choice"), allowed)}
    if kind == QuestionKind.MULTIPLE:
        values = raw.get("choices", [])
        if not isinstance(values, list) or len(values) > len(allowed):
            raise AnswerError("Choose from the listed answers.")
        return {"choices": sorted({_choice_id(v, allowed) for v in values})}
    if kind == QuestionKind.TRUE_FALSE:
        value = raw.get("value")
        if value in (None, ""):
            return {}
        if value in (True, "true", "True"):
            return {"value": True}
        if value in (False, "false", "False"):
            return {"value": False}
        raise AnswerError("Answer true or false.")
    if kind in (QuestionKind.SHORT, QuestionKind.ESSAY):
        text = raw.get("text", "")
        if not isinstance(text, str):
            raise AnswerError("The answer must be text.")
        limit = MAX_SHORT_CHARS if kind == QuestionKind.SHORT else MAX_TEXT_CHARS
        if len(text) > limit:
            raise AnswerError(f"The answer is longer than {limit} characters.")
        return {"text": text}
    if kind == QuestionKind.NUMERIC:
        value = raw.get("value", "")
        if value in (None, ""):
            return {}
        if isinstance(value, bool) or not isinstance(value, int | float | str) or len(str(value)) > 40:
            raise AnswerError("Enter a number, e.g. 3.14.")
        number = parse_number(str(value))
        if number is None:
            raise AnswerError("Enter a number, e.g. 3.14.")
        return {"value": str(number)}
    raise AnswerError("This question cannot be answered.")


def parse_number(text: str) -> Decimal | None:
    try:
        number = Decimal(text.strip())
    except (InvalidOperation, ValueError):
        return None
    # Finite and of a sensible size: '1e999999' is a number, but not an answer to anything here.
    return number if number.is_finite() and abs(number.adjusted()) <= 30 else None


def _normalize(text: str, case_sensitive: bool) -> str:
    collapsed = " ".join(text.split())
    return collapsed if case_sensitive else collapsed.casefold()


def grade(question, response: dict, *, correct_choice_ids: set[int], choice_count: int):
    """(correct, points) for one answer; (None, None) for an essay, which a person grades."""
    points = Decimal(question.points)
    kind = question.kind
    if kind == QuestionKind.ESSAY:
        return None, None
    if kind == QuestionKind.SINGLE:
        right = response.get("choice") in correct_choice_ids
        return right, points if right else Decimal(0)
    if kind == QuestionKind.MULTIPLE:
        chosen = set(response.get("choices", []))
        right = chosen == correct_choice_ids and bool(chosen)
        if right:
            return True, points
        if not question.partial_credit or not correct_choice_ids:
            return False, Decimal(0)
        # Each right choice earns its share; each wrong choice takes one share back; never below 0.
        hits = len(chosen & correct_choice_ids)
        misses = len(chosen - correct_choice_ids)
        share = max(Decimal(0), Decimal(hits - misses) / Decimal(len(correct_choice_ids)))
        return False, (points * share).quantize(CENT, rounding=ROUND_HALF_UP)
    if kind == QuestionKind.TRUE_FALSE:
        right = "value" in response and response["value"] is question.correct_true
        return right, points if right else Decimal(0)
    if kind == QuestionKind.SHORT:
        given = _normalize(response.get("text", ""), question.case_sensitive)
        right = bool(given) and any(
            given == _normalize(accepted, question.case_sensitive) for accepted in question.accepted
        )
        return right, points if right else Decimal(0)
    if kind == QuestionKind.NUMERIC:
        value = parse_number(response.get("value", "")) if response.get("value") else None
        if value is None or question.numeric_answer is None:
            return False, Decimal(0)
        right = abs(value - Decimal(question.numeric_answer)) <= Decimal(question.tolerance)
        return right, points if right else Decimal(0)
    return False, Decimal(0)


def scaled(raw: Decimal, raw_max: Decimal, max_score: Decimal) -> Decimal:
    """A raw point total on the assessment's scale (0..max_score), to the cent."""
    if raw_max <= 0:
        return Decimal(max_score).quantize(CENT)
    return (Decimal(raw) / Decimal(raw_max) * Decimal(max_score)).quantize(CENT, rounding=ROUND_HALF_UP)
