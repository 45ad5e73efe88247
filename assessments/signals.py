"""Events other apps may listen to (analytics connects them after merging; see ADR 0040).

Each is sent once, after the transaction that caused it commits, with keyword arguments
that are the event's payload:

- quiz_submitted: course_id, lesson_id, assessment_id, attempt_id, user_id
- quiz_graded: the same, plus score, max_score (floats), passed, and questions, a list of
  {question_id, correct, points, max_points} for item analysis
- certificate_issued: course_id, certificate_id, user_id
"""

from __future__ import annotations

from django.db import connection, transaction
from django.dispatch import Signal
from django_tenants.utils import schema_context

quiz_submitted = Signal()
quiz_graded = Signal()
certificate_issued = Signal()


def send_on_commit(signal: Signal, sender, **payload) -> None:
    """Send `signal` once the current transaction commits, inside the tenant active now."""
    schema = connection.schema_name

    def send():
        with schema_context(schema):
            signal.send(sender=sender, **payload)

    transaction.on_commit(send)
