"""The hand-in's plain-SQL reads give grading the same values the ORM's did (ADR 0202)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction

from assessments.access import access_attempt
from assessments.models import Question, QuestionKind
from assessments.rows import questions_for_grading
from assessments.services import attempt_start
from enrollments.services import enrollment_create

from .factories import add_question, make_assessed_course


@pytest.fixture
def attempt(in_tenant):
    course, _, assessment = make_assessed_course(slug="rows")
    add_question(assessment, kind=QuestionKind.ESSAY, prompt="Why?", points="2.5", position=8)
    learner = get_user_model().objects.get(email="learner@acme.test")
    enrollment_create(user=learner, course=course)
    return course, learner, attempt_start(user=learner, course=course, assessment=assessment)


# What grading reads of a question, by the same names on a model and on a plain row.
_GRADED = (
    "pk",
    "kind",
    "points",
    "partial_credit",
    "correct_true",
    "accepted",
    "case_sensitive",
    "numeric_answer",
    "tolerance",
)


def _as_orm_read(question: Question) -> tuple:
    correct = frozenset(question.choices.filter(is_correct=True).values_list("id", flat=True))
    return (*(getattr(question, name) for name in _GRADED), correct)


def _as_read(question) -> tuple:
    return (*(getattr(question, name) for name in _GRADED), question.correct_choice_ids)


def test_both_reads_of_the_questions_match_the_models(attempt):
    """questions_for_grading and the door's locking find (JSON) give what the models hold, in
    the questions' order, every kind with its grading fields and correct choices."""
    course, learner, started = attempt
    expected = {q.pk: _as_orm_read(q) for q in Question.objects.filter(pk__in=started.question_ids)}
    assert {q[1] for q in expected.values()} == set(QuestionKind.values)  # every kind
    plain = questions_for_grading(started.question_ids)
    with transaction.atomic():
        locked = access_attempt(user=learner, course=course, attempt_id=started.pk, lock=True)
    for read in (plain, locked.door_questions):
        assert list(read) == [q.pk for q in Question.objects.filter(pk__in=started.question_ids)]
        assert {pk: _as_read(q) for pk, q in read.items()} == expected
        for question in read.values():
            assert isinstance(question.points, Decimal) and isinstance(question.tolerance, Decimal)
    assert locked.door_certificates is False and locked.door_course == course


def test_a_question_deleted_since_the_start_is_left_out_of_both(attempt):
    course, learner, started = attempt
    gone = started.question_ids[0]
    Question.objects.filter(pk=gone).delete()
    assert gone not in questions_for_grading(started.question_ids)
    with transaction.atomic():
        locked = access_attempt(user=learner, course=course, attempt_id=started.pk, lock=True)
    assert gone not in locked.door_questions and len(locked.door_questions) == len(started.question_ids) - 1
