"""Two tabs submitting the same attempt at the same moment: graded once.

Real concurrency needs two database connections and committed rows, so this test commits
its own course and learner in tenant `acme` and deletes them at the end.
"""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from assessments.models import Attempt, AttemptStatus
from assessments.services import attempt_start, attempt_submit
from assessments.signals import quiz_graded, quiz_submitted
from enrollments.services import enrollment_create

from .factories import answers_for, make_assessed_course


@pytest.fixture
def committed_quiz(django_db_setup, django_db_blocker):
    from accounts.services import user_create

    tag = uuid.uuid4().hex[:8]
    with django_db_blocker.unblock(), schema_context("acme"):
        learner = user_create(email=f"racer-{tag}@acme.test", role="learner", password="racer-pass-2026-x")
        course, _, assessment = make_assessed_course(slug=f"race-{tag}")
        enrollment_create(user=learner, course=course)
        attempt = attempt_start(user=learner, course=course, assessment=assessment)
        yield learner, assessment, attempt
        course.delete()
        learner.delete()
    connection.set_schema_to_public()


def test_concurrent_double_submit_grades_once(committed_quiz, django_db_blocker):
    learner, assessment, attempt = committed_quiz
    answers = [answers_for(assessment, right=True), answers_for(assessment, right=False)]
    barrier = threading.Barrier(2)
    results, errors, events = [], [], []

    def count(sender, **kwargs):
        events.append(kwargs["signal"])

    quiz_submitted.connect(count, dispatch_uid="race-submitted")
    quiz_graded.connect(count, dispatch_uid="race-graded")

    def tab(index):
        try:
            with django_db_blocker.unblock(), schema_context("acme"):
                barrier.wait(timeout=10)
                results.append(attempt_submit(user=learner, attempt=attempt, answers=answers[index]))
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=tab, args=(i,)) for i in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        quiz_submitted.disconnect(dispatch_uid="race-submitted")
        quiz_graded.disconnect(dispatch_uid="race-graded")
    assert errors == []
    assert sorted(submitted for _, submitted in results) == [False, True]
    winner = next(a for a, submitted in results if submitted)
    loser = next(a for a, submitted in results if not submitted)
    assert loser.score == winner.score
    with django_db_blocker.unblock(), schema_context("acme"):
        stored = Attempt.objects.get(pk=attempt.pk)
        assert stored.status == AttemptStatus.GRADED and stored.score == winner.score
    assert events == [quiz_submitted, quiz_graded]
