"""assessments' signals arrive after commit inside the tenant that wrote, without loading it again."""

from __future__ import annotations

from django.db import connection
from django.dispatch import Signal
from django.test.utils import CaptureQueriesContext

from assessments.signals import send_on_commit
from tenants.context import current_tenant

probe = Signal()


def _listen():
    seen = []

    def receive(sender, signal, **payload):
        seen.append((connection.schema_name, current_tenant(), payload))

    probe.connect(receive, dispatch_uid="test-signals-tenant", weak=False)
    return seen


def test_the_signal_is_sent_in_the_writing_tenant_and_asks_nothing_of_the_database(
    in_tenant, django_capture_on_commit_callbacks
):
    seen = _listen()
    try:
        with django_capture_on_commit_callbacks() as callbacks:
            send_on_commit(probe, sender=None, attempt_id=7)
        with CaptureQueriesContext(connection) as queries:
            for callback in callbacks:
                callback()
    finally:
        probe.disconnect(dispatch_uid="test-signals-tenant")
    assert [(schema, tenant.pk, payload) for schema, tenant, payload in seen] == [
        ("acme", in_tenant.pk, {"attempt_id": 7})
    ]
    assert len(queries.captured_queries) == 0


def test_a_connection_moved_to_another_tenant_before_the_commit_hook_still_sends_in_the_writer(
    in_tenant, other_tenant, django_capture_on_commit_callbacks
):
    seen = _listen()
    try:
        with django_capture_on_commit_callbacks() as callbacks:
            send_on_commit(probe, sender=None, attempt_id=8)
        connection.set_tenant(other_tenant)
        for callback in callbacks:
            callback()
    finally:
        probe.disconnect(dispatch_uid="test-signals-tenant")
    schema, tenant, _ = seen[0]
    assert schema == "acme" and tenant.pk == in_tenant.pk
    assert connection.schema_name == other_tenant.schema_name  # put back afterwards


def test_a_write_under_schema_context_still_finds_its_tenant(tenant, django_capture_on_commit_callbacks):
    from django_tenants.utils import schema_context

    seen = _listen()
    try:
        with schema_context("acme"), django_capture_on_commit_callbacks() as callbacks:
            send_on_commit(probe, sender=None, attempt_id=9)
        for callback in callbacks:
            callback()
    finally:
        probe.disconnect(dispatch_uid="test-signals-tenant")
    schema, found, _ = seen[0]
    assert schema == "acme" and found.pk == tenant.pk
