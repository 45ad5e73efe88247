"""The delivery log's retention: finished deliveries past it go, the rest stays, due tenants only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from tenants.models import TenantDue
from webhooks import retention
from webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookMessage
from webhooks.outbox import PRUNE_QUEUE
from webhooks.services import webhook_endpoint_create, webhook_endpoint_send_test
from webhooks.tasks import prune_task

pytestmark = pytest.mark.django_db

DAYS = 30


@pytest.fixture(autouse=True)
def _retention(settings):
    settings.WEBHOOKS_LOG_RETENTION_DAYS = DAYS


def _admin():
    return get_user_model().objects.get(email=f"admin@{connection.tenant.slug}.test")


def _sent(endpoint, capture, *, execute: bool = True) -> WebhookDelivery:
    """A test message to `endpoint`: delivered (execute) or left pending."""
    with capture(execute=execute):
        delivery = webhook_endpoint_send_test(actor=_admin(), endpoint=endpoint)
    delivery.refresh_from_db()
    return delivery


def _finished_days_ago(delivery: WebhookDelivery, days: float) -> None:
    at = timezone.now() - timedelta(days=days)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(finished_at=at, created_at=at)
    WebhookMessage.objects.filter(pk=delivery.message_id).update(created_at=at)


def _prune_mark():
    return TenantDue.objects.filter(schema_name=connection.schema_name, queue=PRUNE_QUEUE).first()


def _due_now() -> None:
    TenantDue.objects.filter(schema_name=connection.schema_name, queue=PRUNE_QUEUE).update(
        due_at=timezone.now() - timedelta(seconds=1)
    )


def test_writing_a_delivery_marks_the_tenant_due_when_it_could_first_be_old(
    in_tenant, receiver, django_capture_on_commit_callbacks
):
    endpoint = webhook_endpoint_create(actor=_admin(), url=receiver.url(), event_types=["quiz.graded"])
    before = timezone.now()
    _sent(endpoint, django_capture_on_commit_callbacks)
    mark = _prune_mark()
    assert before + timedelta(days=DAYS) <= mark.due_at <= timezone.now() + timedelta(days=DAYS)
    # A second message does not move the earlier mark.
    _sent(endpoint, django_capture_on_commit_callbacks)
    assert _prune_mark().due_at == mark.due_at


def test_finished_deliveries_past_the_retention_go_and_the_rest_stays(
    in_tenant, receiver, django_capture_on_commit_callbacks, settings
):
    endpoint = webhook_endpoint_create(actor=_admin(), url=receiver.url(), event_types=["quiz.graded"])
    old = _sent(endpoint, django_capture_on_commit_callbacks)
    assert old.status == DeliveryStatus.SUCCEEDED and old.attempt_log.count() == 1
    _finished_days_ago(old, DAYS + 1)

    settings.WEBHOOKS_RETRY_SCHEDULE = ()  # the next one is given up at its first failure
    receiver.status = 500
    given_up = _sent(endpoint, django_capture_on_commit_callbacks)
    assert given_up.status == DeliveryStatus.FAILED
    _finished_days_ago(given_up, DAYS + 2)
    receiver.status = 200

    recent = _sent(endpoint, django_capture_on_commit_callbacks)
    _finished_days_ago(recent, DAYS - 1)
    pending = _sent(endpoint, django_capture_on_commit_callbacks, execute=False)
    assert pending.status == DeliveryStatus.PENDING
    # Not due yet (a retry hours away): the drain of the next commit sends every due one.
    WebhookDelivery.objects.filter(pk=pending.pk).update(
        created_at=timezone.now() - timedelta(days=90), next_attempt_at=timezone.now() + timedelta(hours=1)
    )
    # An old message redelivered recently keeps its message while that delivery stays.
    shared = _sent(endpoint, django_capture_on_commit_callbacks)
    _finished_days_ago(shared, DAYS + 3)
    again = WebhookDelivery.objects.create(
        message=shared.message, endpoint=endpoint, status=DeliveryStatus.SUCCEEDED,
        finished_at=timezone.now() - timedelta(days=1),
    )  # fmt: skip

    _due_now()
    assert prune_task() == 3
    left = set(WebhookDelivery.objects.values_list("pk", flat=True))
    assert left == {recent.pk, pending.pk, again.pk}
    assert not WebhookAttempt.objects.filter(delivery_id__in=[old.pk, given_up.pk, shared.pk]).exists()
    assert WebhookAttempt.objects.filter(delivery=recent).count() == 1
    messages = set(WebhookMessage.objects.values_list("pk", flat=True))
    assert messages == {recent.message_id, pending.message_id, shared.message_id}
    # Due again when the oldest finished delivery left passes the retention.
    oldest_left = WebhookDelivery.objects.get(pk=recent.pk).finished_at
    assert _prune_mark().due_at == oldest_left + timedelta(days=DAYS)


def test_a_pending_delivery_is_never_pruned_and_keeps_the_tenant_due(
    in_tenant, receiver, django_capture_on_commit_callbacks
):
    endpoint = webhook_endpoint_create(actor=_admin(), url=receiver.url(), event_types=["quiz.graded"])
    pending = _sent(endpoint, django_capture_on_commit_callbacks, execute=False)
    long_ago = timezone.now() - timedelta(days=DAYS * 3)
    WebhookDelivery.objects.filter(pk=pending.pk).update(created_at=long_ago, next_attempt_at=long_ago)
    _due_now()
    before = timezone.now()
    assert prune_task() == 0
    assert WebhookDelivery.objects.filter(pk=pending.pk, status=DeliveryStatus.PENDING).exists()
    assert WebhookMessage.objects.filter(pk=pending.message_id).exists()
    # It finishes no earlier than now: looked at again a retention from now, not before.
    assert _prune_mark().due_at >= before + timedelta(days=DAYS)


def test_an_empty_log_settles_the_tenant(in_tenant, receiver, django_capture_on_commit_callbacks):
    endpoint = webhook_endpoint_create(actor=_admin(), url=receiver.url(), event_types=["quiz.graded"])
    _finished_days_ago(_sent(endpoint, django_capture_on_commit_callbacks), DAYS + 1)
    _due_now()
    assert prune_task() == 1
    assert not WebhookDelivery.objects.exists() and not WebhookMessage.objects.exists()
    assert _prune_mark() is None
    connection.set_schema_to_public()
    assert prune_task() == 0  # nothing due any more


def test_a_large_log_goes_in_bounded_batches(
    in_tenant, receiver, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(retention, "PRUNE_BATCH", 2)
    endpoint = webhook_endpoint_create(actor=_admin(), url=receiver.url(), event_types=["quiz.graded"])
    for _ in range(5):
        _finished_days_ago(_sent(endpoint, django_capture_on_commit_callbacks), DAYS + 1)
    statements = []

    def count(execute, sql, params, many, context):
        if "DELETE FROM webhooks_webhookdelivery" in sql:
            statements.append(params)
        return execute(sql, params, many, context)

    _due_now()
    with connection.execute_wrapper(count):
        assert prune_task() == 5
    assert len(statements) == 3 and all(params[1] == 2 for params in statements)
    assert not WebhookDelivery.objects.exists()


def test_a_visit_out_of_time_leaves_the_tenant_due_now(
    in_tenant, receiver, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(retention, "PRUNE_BATCH", 1)
    endpoint = webhook_endpoint_create(actor=_admin(), url=receiver.url(), event_types=["quiz.graded"])
    for _ in range(3):
        _finished_days_ago(_sent(endpoint, django_capture_on_commit_callbacks), DAYS + 1)
    assert retention.log_prune(deadline=0) == 1  # the deadline passed: one batch, then stop
    assert WebhookDelivery.objects.count() == 2
    assert _prune_mark().due_at <= timezone.now()


def test_a_prune_of_this_tenant_leaves_another_tenants_log_alone(
    tenant, other_tenant, receiver, django_capture_on_commit_callbacks
):
    connection.set_tenant(other_tenant)
    theirs = webhook_endpoint_create(actor=_admin(), url=receiver.url("/globex"), event_types=["quiz.graded"])
    their_old = _sent(theirs, django_capture_on_commit_callbacks)
    _finished_days_ago(their_old, DAYS + 1)  # past the retention, but their tenant is not due yet

    connection.set_tenant(tenant)
    ours = webhook_endpoint_create(actor=_admin(), url=receiver.url(), event_types=["quiz.graded"])
    _finished_days_ago(_sent(ours, django_capture_on_commit_callbacks), DAYS + 1)
    _due_now()
    assert prune_task() == 1
    assert not WebhookDelivery.objects.exists()

    connection.set_tenant(other_tenant)
    assert WebhookDelivery.objects.filter(pk=their_old.pk).exists()
    assert WebhookAttempt.objects.filter(delivery=their_old).count() == 1
    assert WebhookMessage.objects.filter(pk=their_old.message_id).exists()
    assert _prune_mark().due_at > timezone.now()


def test_a_prune_with_nothing_due_makes_no_schema_query(
    django_assert_max_num_queries, tenant, other_tenant, receiver, django_capture_on_commit_callbacks
):
    """Hourly over 2,000 tenants: only the due table is asked, never a schema."""
    for each in (tenant, other_tenant):
        connection.set_tenant(each)
        endpoint = webhook_endpoint_create(actor=_admin(), url=receiver.url(), event_types=["quiz.graded"])
        _finished_days_ago(_sent(endpoint, django_capture_on_commit_callbacks), DAYS + 1)
    connection.set_schema_to_public()
    with django_assert_max_num_queries(2) as captured:  # the search path, then the due table
        assert prune_task() == 0
    assert not any("webhooks_" in q["sql"] for q in captured.captured_queries)


def test_the_migration_marks_tenants_whose_log_predates_the_retention(
    in_tenant, receiver, django_capture_on_commit_callbacks
):
    from importlib import import_module
    from types import SimpleNamespace

    from django.apps import apps

    migration = import_module("webhooks.migrations.0002_delivery_finished_index")
    endpoint = webhook_endpoint_create(actor=_admin(), url=receiver.url(), event_types=["quiz.graded"])
    _sent(endpoint, django_capture_on_commit_callbacks)
    TenantDue.objects.filter(queue=PRUNE_QUEUE).delete()  # as written before the retention existed
    migration.mark_existing_logs_due(apps, SimpleNamespace(connection=connection))
    assert _prune_mark().due_at <= timezone.now()
    WebhookDelivery.objects.all().delete()
    TenantDue.objects.filter(queue=PRUNE_QUEUE).delete()
    migration.mark_existing_logs_due(apps, SimpleNamespace(connection=connection))
    assert _prune_mark() is None  # no log, no mark
