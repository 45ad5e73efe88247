"""Checking and grading one answer to one question. Pure functions: no database writes.

A response is a small JSON object whose shape depends on the question's kind:
single {"choice": id}, multiple {"choices": [ids]}, true/false {"value": bool},
short and essay {"text": str}, numeric {"value": "3.14"}.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from core.errors import DomainError

from .models import QuestionKind

MAX_TEXT_CHARS = 20_000
MAX_SHORT_CHARS = 500
CENT = Decimal("0.01")


class AnswerError(DomainError, ValueError):
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
            raise AnswerError(NOT_A_NUMBER)
        typed = str(value).strip()
        number = read_number(typed)
        stored = {"value": str(number)}
        if typed != stored["value"]:
            stored["typed"] = typed  # shown back as the learner wrote it ("2,7", not "2.7")
        return stored
    raise AnswerError("This question cannot be answered.")


NOT_A_NUMBER = "Enter a number, e.g. 3.14 or 3,14."
_GROUPING_SPACES = (" ", "\u00a0", "\u202f", "\u2009")  # space, no-break, narrow no-break, thin


def _grouped(integer: str, separator: str) -> str | None:
    """'1,234,567' with separator ',' -> '1234567'; None unless every group after the first has 3 digits."""
    groups = integer.split(separator)
    head, rest = groups[0], groups[1:]
    if not (1 <= len(head) <= 3 and head.isdigit()) or not all(len(g) == 3 and g.isdigit() for g in rest):
        return None
    return "".join(groups)


def read_number(text: str) -> Decimal:
    """A number as a learner types it, with '.' or ',' as the decimal separator (ADR 0085).

    Tenants have no locale setting, so both separators are read, when it is unambiguous which
    one is meant: a single '.' is a decimal point (as before); a single ',' is a decimal comma
    unless it could be a thousands separator ('1,234'), which is refused with a question; with
    both, the last one is the decimal separator and the other groups thousands ('1.234,5').
    AnswerError with a sentence for the learner otherwise.
    """
    s = str(text).strip().replace("\u2212", "-")  # the typographic minus sign
    for space in _GROUPING_SPACES:
        s = s.replace(space, "'")
    sign = ""
    if s[:1] in ("-", "+"):
        sign, s = s[0], s[1:]
    if "'" in s:  # spaces (or apostrophes) group thousands: "1 234,5"
        integer, _, fraction = s.partition("," if "," in s else ".")
        ungrouped = _grouped(integer, "'")
        if ungrouped is None:
            raise AnswerError(NOT_A_NUMBER)
        s = ungrouped + ("," + fraction if "," in s else "." + fraction if "." in s else "")
    commas, dots = s.count(","), s.count(".")
    if commas and dots:
        decimal_sep = "," if s.rfind(",") > s.rfind(".") else "."
        group_sep = "." if decimal_sep == "," else ","
        integer, _, fraction = s.rpartition(decimal_sep)
        ungrouped = _grouped(integer, group_sep)
        if ungrouped is None or s.count(decimal_sep) != 1:
            raise AnswerError(NOT_A_NUMBER)
        s = f"{ungrouped}.{fraction}"
    elif commas == 1:
        integer, _, fraction = s.partition(",")
        thousands = len(fraction) == 3 and fraction.isdigit() and _grouped(integer, ",") is not None
        if thousands and integer[:1] != "0":
            whole, point = integer + fraction, f"{integer}.{fraction}"
            raise AnswerError(
                f"Is that {whole} or {point}? Write it without a thousands separator: {whole} or {point}."
            )
        s = f"{integer}.{fraction}"
    elif commas > 1 or dots > 1:
        separator = "," if commas else "."
        ungrouped = _grouped(s, separator)
        if ungrouped is None:
            raise AnswerError(NOT_A_NUMBER)
        s = ungrouped
    if s.startswith("."):
        s = "0" + s
    try:
        number = Decimal(sign + s)
    except (InvalidOperation, ValueError):
        raise AnswerError(NOT_A_NUMBER) from None
    # Finite and of a sensible size: '1e999999' is a number, but not an answer to anything here.
    if not number.is_finite() or abs(number.adjusted()) > 30:
        raise AnswerError(NOT_A_NUMBER)
    return number


def parse_number(text: str) -> Decimal | None:
    try:
        return read_number(text)
    except AnswerError:
        return None


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


def number_text(value) -> str:
    """A score or points as people write them: 7.00 -> '7', 7.50 -> '7.5', 7.25 -> '7.25'."""
    if value is None:
        return ""
    number = Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP).normalize()
    return f"{number:f}"
