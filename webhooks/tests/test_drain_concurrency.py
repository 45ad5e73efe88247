"""Two drains claiming at once (ADR 0191): each delivery is claimed and sent exactly once.

Real concurrency needs two database connections and committed rows, so this module commits
its own endpoint and messages in tenant `acme` and deletes them at the end.
"""

from __future__ import annotations

import json
import threading
import uuid

import pytest
from django.db import connection, transaction
from django_tenants.utils import schema_context

from tenants.models import TenantDue
from webhooks import delivery as delivery_module
from webhooks import outbox
from webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookMessage

from .receiver import Receiver

COUNT = 120


@pytest.fixture
def committed_deliveries(django_db_setup, django_db_blocker):
    """COUNT committed pending deliveries in acme to a receiver (concurrency needs committed rows)."""
    receiver = Receiver()
    tag = uuid.uuid4().hex[:8]
    with django_db_blocker.unblock(), schema_context("acme"):
        key = outbox.kick_key()
        outbox.kick_redis().set(key, "1", px=120_000)  # a drain "is queued": the commit starts none
        endpoint = WebhookEndpoint.objects.create(
            url=receiver.url(f"/race-{tag}"), event_types=["lesson.completed"], secret="whsec_" + "A" * 44
        )
        with transaction.atomic():
            ids = [
                outbox.write_message(
                    event_type="lesson.completed", data={"seq": n}, endpoint_ids=[endpoint.pk]
                )[0]
                for n in range(COUNT)
            ]
        yield receiver, ids
        WebhookMessage.objects.filter(deliveries__endpoint=endpoint).delete()
        endpoint.delete()
        TenantDue.objects.filter(schema_name="acme", queue__in=[outbox.QUEUE, outbox.PRUNE_QUEUE]).delete()
        outbox.kick_redis().delete(key)
    receiver.stop()
    connection.set_schema_to_public()


def test_two_concurrent_claimers_never_send_the_same_delivery(committed_deliveries, django_db_blocker):
    receiver, ids = committed_deliveries
    barrier = threading.Barrier(2)
    claimed: list[list[int]] = [[], []]
    errors = []

    def claimer(index: int) -> None:
        try:
            with django_db_blocker.unblock(), schema_context("acme"):
                barrier.wait(timeout=10)
                while batch := delivery_module.claim_due(limit=5):
                    claimed[index].extend(d.id for d in batch)
                    delivery_module.send(batch)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=claimer, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert not set(claimed[0]) & set(claimed[1])
    assert sorted(claimed[0] + claimed[1]) == sorted(ids)
    assert claimed[0] and claimed[1]  # both took a share
    received = receiver.wait_for(COUNT)
    # Each exactly once.
    assert sorted(json.loads(r.body)["data"]["seq"] for r in received) == list(range(COUNT))
    with django_db_blocker.unblock(), schema_context("acme"):
        done = WebhookDelivery.objects.filter(pk__in=ids)
        assert {d.status for d in done} == {DeliveryStatus.SUCCEEDED}
        assert WebhookAttempt.objects.filter(delivery__in=ids).count() == COUNT
