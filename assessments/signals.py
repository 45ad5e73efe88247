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
from django_tenants.utils import schema_context, tenant_context

quiz_submitted = Signal()
quiz_graded = Signal()
certificate_issued = Signal()


def send_on_commit(signal: Signal, sender, **payload) -> None:
    """Send `signal` once the current transaction commits, inside the tenant active now.

    The tenant the request resolved is carried to the callback: schema_context() would put a
    stand-in with only the schema name on the connection, and every receiver asking
    `current_tenant()` (track() does) would then load the Tenant row again. When the
    connection is still on that tenant at commit (the usual case) nothing is switched at all,
    so no `SET search_path` either.
    """
    from tenants.models import Tenant

    schema = connection.schema_name
    tenant = connection.tenant if isinstance(connection.tenant, Tenant) else None

    def send():
        if connection.schema_name == schema and (tenant is None or connection.tenant is tenant):
            signal.send(sender=sender, **payload)
        elif tenant is not None and tenant.schema_name == schema:
            with tenant_context(tenant):
                signal.send(sender=sender, **payload)
        else:
            with schema_context(schema):
                signal.send(sender=sender, **payload)

    transaction.on_commit(send)
