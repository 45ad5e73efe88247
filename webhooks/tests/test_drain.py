"""Per-tenant drains (ADR 0191): one kick per transaction, batches shared by concurrent
claimers, outcomes recorded per batch, and nothing stranded when a kick is lost."""

from __future__ import annotations

import json
import logging
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from core.events import emit
from tenants.models import TenantDue
from webhooks import delivery as delivery_module
from webhooks import outbox
from webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery
from webhooks.services import webhook_endpoint_create
from webhooks.tasks import sweep_task

from .receiver import Receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_kick(in_tenant):
    """The tenant's kick key is absent before and after the test."""
    key = outbox.kick_key()
    outbox.kick_redis().delete(key)
    yield key
    outbox.kick_redis().delete(key)


def _lesson_completed(seq: int) -> None:
    emit("lesson.completed", data={"seq": seq})


def _seqs(received) -> list[int]:
    return sorted(json.loads(r.body)["data"]["seq"] for r in received)


def test_a_transaction_with_several_messages_kicks_once(
    admin, receiver, no_kick, django_capture_on_commit_callbacks
):
    webhook_endpoint_create(actor=admin, url=receiver.url(), event_types=["lesson.completed"])
    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        for seq in range(3):
            _lesson_completed(seq)
        with transaction.atomic():  # a nested block of the same transaction
            _lesson_completed(3)
    kicks = [c for c in callbacks if isinstance(c, outbox._Kick)]
    assert len(kicks) == 1
    assert WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).count() == 4
    kicks[0]()  # the commit: one kick, one drain, every message of the transaction
    assert _seqs(receiver.wait_for(4)) == [0, 1, 2, 3]
    assert not WebhookDelivery.objects.exclude(status=DeliveryStatus.SUCCEEDED).exists()
    assert WebhookAttempt.objects.count() == 4
    assert not outbox.kick_redis().exists(no_kick)  # the drain removed its kick when it stopped


def test_while_a_drain_is_queued_a_commit_only_writes_its_rows(
    admin, receiver, no_kick, django_capture_on_commit_callbacks
):
    webhook_endpoint_create(actor=admin, url=receiver.url(), event_types=["lesson.completed"])
    outbox.kick_redis().set(no_kick, "1", px=60_000)  # a drain is queued
    for seq in range(2):
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            _lesson_completed(seq)
    assert receiver.received == []  # no second drain was started
    assert WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).count() == 2
    # The queued drain runs: it takes both, removes the kick, looks once more, and stops.
    assert delivery_module.drain() == 2
    assert _seqs(receiver.wait_for(2)) == [0, 1]
    assert not outbox.kick_redis().exists(no_kick)


def test_a_commit_just_before_the_drain_removes_its_kick_is_sent(
    admin, receiver, no_kick, monkeypatch, django_capture_on_commit_callbacks
):
    """The race the protocol closes: the commit's kick found the key, the drain had looked."""
    webhook_endpoint_create(actor=admin, url=receiver.url(), event_types=["lesson.completed"])
    outbox.kick_redis().set(no_kick, "1", px=60_000)
    clear = outbox.kick_clear
    landed = []

    def commit_then_clear(key):
        if not landed:  # a commit lands after the drain's empty look, before the key goes
            with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
                _lesson_completed(7)
            landed.append(True)
            assert receiver.received == []  # its kick found the key standing: it only wrote
        clear(key)

    monkeypatch.setattr(outbox, "kick_clear", commit_then_clear)
    assert delivery_module.drain() == 1  # the last look, after the key went, took it
    assert _seqs(receiver.wait_for(1)) == [7]


def test_a_lost_kick_strands_nothing(admin, receiver, no_kick, settings, django_capture_on_commit_callbacks):
    """A kick whose drain was lost: the sweep sends the rows; once it expires, commits kick again."""
    settings.WEBHOOKS_SWEEP_GRACE_SECONDS = 0
    webhook_endpoint_create(actor=admin, url=receiver.url(), event_types=["lesson.completed"])
    outbox.kick_redis().set(no_kick, "1", px=400)  # its drain never runs
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        _lesson_completed(1)
    assert receiver.received == []
    assert TenantDue.objects.filter(schema_name=connection.schema_name, queue=outbox.QUEUE).exists()
    TenantDue.objects.filter(schema_name=connection.schema_name, queue=outbox.QUEUE).update(
        due_at=timezone.now() - timedelta(seconds=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_task() == 1  # the safety net
    assert _seqs(receiver.wait_for(1)) == [1]
    time.sleep(0.5)  # the lost kick expires: the next commit starts a drain again
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        _lesson_completed(2)
    assert _seqs(receiver.wait_for(2)) == [1, 2]


def test_a_batch_records_successes_and_failures_each_with_its_attempt(
    admin, receiver, no_kick, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOKS_RETRY_SCHEDULE = (120,)
    failing = Receiver(status=500)
    try:
        good = webhook_endpoint_create(actor=admin, url=receiver.url(), event_types=["lesson.completed"])
        bad = webhook_endpoint_create(actor=admin, url=failing.url(), event_types=["lesson.completed"])
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            for seq in range(3):
                _lesson_completed(seq)
        assert len(failing.wait_for(3)) == 3
    finally:
        failing.stop()
    assert _seqs(receiver.wait_for(3)) == [0, 1, 2]
    ok = WebhookDelivery.objects.filter(endpoint=good)
    assert {d.status for d in ok} == {DeliveryStatus.SUCCEEDED}
    assert all(d.attempts == 1 and d.last_status_code == 200 and d.finished_at for d in ok)
    retrying = WebhookDelivery.objects.filter(endpoint=bad)
    assert {d.status for d in retrying} == {DeliveryStatus.RETRYING}
    assert all(d.last_status_code == 500 and d.next_attempt_at > timezone.now() for d in retrying)
    assert WebhookAttempt.objects.filter(delivery__endpoint=good, status_code=200).count() == 3
    assert WebhookAttempt.objects.filter(delivery__endpoint=bad, status_code=500).count() == 3


def test_a_batch_wider_than_the_old_pool_discards_no_connection(
    admin, receiver, no_kick, caplog, django_capture_on_commit_callbacks
):
    """16 requests at once reuse 16 kept-alive connections (the pool was 8 for 16 threads)."""
    webhook_endpoint_create(actor=admin, url=receiver.url(), event_types=["lesson.completed"])
    caplog.set_level(logging.WARNING, logger="urllib3.connectionpool")
    for round_ in range(2):
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            for seq in range(delivery_module.DRAIN_BATCH):
                _lesson_completed(round_ * 100 + seq)
    received = receiver.wait_for(2 * delivery_module.DRAIN_BATCH)
    unsent = WebhookDelivery.objects.exclude(status=DeliveryStatus.SUCCEEDED)
    failed = list(unsent.values_list("last_error", flat=True))
    assert len(received) == 2 * delivery_module.DRAIN_BATCH, failed
    assert "Connection pool is full" not in caplog.text
    assert not WebhookDelivery.objects.exclude(status=DeliveryStatus.SUCCEEDED).exists()
