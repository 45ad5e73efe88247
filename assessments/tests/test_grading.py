"""Grading of every question kind, without the database (unsaved Question objects)."""

from decimal import Decimal

import pytest

from assessments.grading import AnswerError, clean_response, grade, number_text, read_number, scaled
from assessments.models import Question, QuestionKind


def q(kind, points="2", **fields) -> Question:
    return Question(kind=kind, points=Decimal(points), prompt="?", **fields)


def test_single_choice_right_and_wrong():
    question = q(QuestionKind.SINGLE)
    assert grade(question, {"choice": 7}, correct_choice_ids={7}, choice_count=3) == (True, Decimal("2"))
    assert grade(question, {"choice": 8}, correct_choice_ids={7}, choice_count=3) == (False, Decimal(0))
    assert grade(question, {}, correct_choice_ids={7}, choice_count=3) == (False, Decimal(0))


def test_multiple_choice_without_partial_credit_is_all_or_nothing():
    question = q(QuestionKind.MULTIPLE, points="3")
    assert grade(question, {"choices": [1, 2]}, correct_choice_ids={1, 2}, choice_count=4) == (
        True,
        Decimal(3),
    )
    assert grade(question, {"choices": [1]}, correct_choice_ids={1, 2}, choice_count=4) == (False, Decimal(0))
    assert grade(question, {"choices": []}, correct_choice_ids={1, 2}, choice_count=4) == (False, Decimal(0))


@pytest.mark.parametrize(
    ("chosen", "points"),
    [
        ([1, 2, 3], Decimal("3")),  # all right
        ([1, 2], Decimal("2.00")),  # two of three right
        ([1], Decimal("1.00")),
        ([1, 2, 4], Decimal("1.00")),  # a wrong choice takes one share back
        ([1, 4], Decimal("0.00")),
        ([4, 5], Decimal("0.00")),  # never below zero
        ([1, 2, 3, 4], Decimal("2.00")),  # ticking everything is not full marks
    ],
)
def test_multiple_choice_partial_credit(chosen, points):
    question = q(QuestionKind.MULTIPLE, points="3", partial_credit=True)
    correct, got = grade(question, {"choices": chosen}, correct_choice_ids={1, 2, 3}, choice_count=5)
    assert got == points
    assert correct is (set(chosen) == {1, 2, 3})


def test_partial_credit_rounds_to_the_cent():
    question = q(QuestionKind.MULTIPLE, points="1", partial_credit=True)
    assert grade(question, {"choices": [1]}, correct_choice_ids={1, 2, 3}, choice_count=3)[1] == Decimal(
        "0.33"
    )


def test_true_false():
    question = q(QuestionKind.TRUE_FALSE, correct_true=False)
    assert grade(question, {"value": False}, correct_choice_ids=set(), choice_count=0)[0] is True
    assert grade(question, {"value": True}, correct_choice_ids=set(), choice_count=0)[0] is False
    assert grade(question, {}, correct_choice_ids=set(), choice_count=0)[0] is False


def test_short_answer_case_insensitive_by_default_and_exact_when_asked():
    loose = q(QuestionKind.SHORT, accepted_answers="Paris\nParis, France")
    assert grade(loose, {"text": "  paris "}, correct_choice_ids=set(), choice_count=0)[0] is True
    assert grade(loose, {"text": "PARIS,   france"}, correct_choice_ids=set(), choice_count=0)[0] is True
    assert grade(loose, {"text": "Lyon"}, correct_choice_ids=set(), choice_count=0)[0] is False
    assert grade(loose, {"text": ""}, correct_choice_ids=set(), choice_count=0)[0] is False
    strict = q(QuestionKind.SHORT, accepted_answers="NaCl", case_sensitive=True)
    assert grade(strict, {"text": "NaCl"}, correct_choice_ids=set(), choice_count=0)[0] is True
    assert grade(strict, {"text": "nacl"}, correct_choice_ids=set(), choice_count=0)[0] is False


@pytest.mark.parametrize(
    ("value", "right"),
    [
        ("3.14", True),
        ("3.13", True),  # exactly at the tolerance: right (no float rounding surprises)
        ("3.15", True),
        ("3.1500001", False),
        ("3.129", False),
        ("  3.14  ", True),
        ("", False),
    ],
)
def test_numeric_with_tolerance_edges(value, right):
    question = q(QuestionKind.NUMERIC, numeric_answer=Decimal("3.14"), tolerance=Decimal("0.01"))
    assert grade(question, {"value": value}, correct_choice_ids=set(), choice_count=0)[0] is right


def test_numeric_with_zero_tolerance_is_exact():
    question = q(QuestionKind.NUMERIC, numeric_answer=Decimal("42"), tolerance=Decimal("0"))
    assert grade(question, {"value": "42.000"}, correct_choice_ids=set(), choice_count=0)[0] is True
    assert grade(question, {"value": "42.001"}, correct_choice_ids=set(), choice_count=0)[0] is False


def test_essay_is_left_for_a_person():
    assert grade(q(QuestionKind.ESSAY), {"text": "long"}, correct_choice_ids=set(), choice_count=0) == (
        None,
        None,
    )


def test_scaling_to_the_assessment_max_score():
    assert scaled(Decimal(3), Decimal(4), Decimal(100)) == Decimal("75.00")
    assert scaled(Decimal(1), Decimal(3), Decimal(10)) == Decimal("3.33")
    assert scaled(Decimal(0), Decimal(0), Decimal(100)) == Decimal("100.00")


@pytest.mark.parametrize(
    ("kind", "raw", "message"),
    [
        (QuestionKind.SINGLE, {"choice": 99}, "does not belong"),
        (QuestionKind.SINGLE, {"choice": True}, "listed answers"),
        (QuestionKind.SINGLE, {"choice": [1]}, "listed answers"),
        (QuestionKind.MULTIPLE, {"choices": [1, 99]}, "does not belong"),
        (QuestionKind.MULTIPLE, {"choices": "1"}, "listed answers"),
        (QuestionKind.MULTIPLE, {"choices": list(range(50))}, "listed answers"),
        (QuestionKind.TRUE_FALSE, {"value": "maybe"}, "true or false"),
        (QuestionKind.NUMERIC, {"value": "NaN"}, "number"),
        (QuestionKind.NUMERIC, {"value": "1e999999"}, "number"),
        (QuestionKind.NUMERIC, {"value": "9" * 100}, "number"),
        (QuestionKind.SHORT, {"text": "x" * 501}, "longer than 500"),
        (QuestionKind.ESSAY, {"text": "x" * 20_001}, "longer than 20000"),
        (QuestionKind.ESSAY, {"text": 5}, "must be text"),
        (QuestionKind.SHORT, ["not", "an", "object"], "JSON object"),
    ],
)
def test_malformed_answers_are_refused_with_a_reason(kind, raw, message):
    with pytest.raises(AnswerError, match=message):
        clean_response(kind=kind, raw=raw, choice_ids=[1, 2, 3])


def test_clean_responses_are_normalized():
    assert clean_response(kind=QuestionKind.SINGLE, raw={"choice": "2"}, choice_ids=[1, 2]) == {"choice": 2}
    assert clean_response(kind=QuestionKind.MULTIPLE, raw={"choices": [2, 1]}, choice_ids=[1, 2]) == {
        "choices": [1, 2]
    }
    assert clean_response(kind=QuestionKind.TRUE_FALSE, raw={"value": "false"}, choice_ids=[]) == {
        "value": False
    }
    assert clean_response(kind=QuestionKind.NUMERIC, raw={"value": 3.5}, choice_ids=[]) == {"value": "3.5"}


@pytest.mark.parametrize(
    "typed, number",
    [
        ("2,7", "2.7"),
        ("2.7", "2.7"),
        ("-2,7", "-2.7"),
        ("\u22122,7", "-2.7"),
        (",5", "0.5"),
        ("0,125", "0.125"),
        ("12,3456", "12.3456"),
        ("1.234,5", "1234.5"),
        ("1,234.5", "1234.5"),
        ("1 234,5", "1234.5"),
        ("1\u202f234", "1234"),
        ("1,234,567", "1234567"),
        ("1e3", "1E+3"),
    ],
)
def test_numbers_are_read_with_a_decimal_point_or_a_decimal_comma(typed, number):
    """Tenants have no locale setting: both separators are read when it is clear which is meant (ADR 0085)."""
    assert read_number(typed) == Decimal(number)
    stored = clean_response(kind=QuestionKind.NUMERIC, raw={"value": typed}, choice_ids=[])
    assert Decimal(stored["value"]) == Decimal(number)


@pytest.mark.parametrize(
    "typed, message",
    [
        ("1,234", "Is that 1234 or 1.234?"),
        ("3,142", "Is that 3142 or 3.142?"),
        ("2,,7", "Enter a number"),
        ("1,2,3", "Enter a number"),
        ("1.2.3", "Enter a number"),
        ("1.234,5,6", "Enter a number"),
        ("abc", "Enter a number"),
    ],
)
def test_numbers_whose_separator_is_unclear_are_refused_with_a_question(typed, message):
    with pytest.raises(AnswerError, match=message):
        read_number(typed)


def test_a_decimal_comma_answer_is_graded_right():
    question = Question(kind=QuestionKind.NUMERIC, points=Decimal("1"), numeric_answer=Decimal("2.7"))
    stored = clean_response(kind=QuestionKind.NUMERIC, raw={"value": "2,7"}, choice_ids=[])
    assert stored == {"value": "2.7", "typed": "2,7"}
    assert grade(question, stored, correct_choice_ids=set(), choice_count=0) == (True, Decimal("1"))


def test_scores_are_written_without_needless_decimals():
    assert [number_text(Decimal(v)) for v in ("7.00", "7.50", "7.25", "100.00", "0.00")] == [
        "7",
        "7.5",
        "7.25",
        "100",
        "0",
    ]
