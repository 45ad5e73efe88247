"""Periodic, cross-tenant tasks on the `analytics` queue (ADR 0020).

Both tasks are sent by Celery beat with no tenant, on purpose: the consumer reads the
shared streams and writes each tenant's schema itself; the outbox replay visits every
tenant's outbox. They are declared with tenant_required=False, the only tasks that are.
"""

from __future__ import annotations

import logging

from django_tenants.utils import schema_context

from lms.celery import app
from tenants.models import Tenant

from .consumer import Consumer
from .ingest import encode, maxlen, redis_client, stream_for
from .models import OutboxEvent

log = logging.getLogger("analytics.tasks")

OUTBOX_BATCH = 1000


@app.task(name="analytics.consume", tenant_required=False, ignore_result=True)
def consume_task(seconds: float = 8.0) -> dict:
    """Apply what the streams hold (for up to `seconds`), taking over abandoned entries first."""
    result = Consumer().drain(seconds=seconds)
    if result.read:
        log.info("analytics consumer: %s", result)
    return result.__dict__


def outbox_replay(*, tenant: Tenant) -> int:
    """Hand one tenant's outbox to Redis; returns how many events went. Raises if Redis is down."""
    client = redis_client()
    sent = 0
    with schema_context(tenant.schema_name):
        while True:
            rows = list(OutboxEvent.objects.order_by("id")[:OUTBOX_BATCH])
            if not rows:
                return sent
            pipe = client.pipeline(transaction=False)
            for row in rows:
                pipe.xadd(
                    stream_for(str(tenant.uuid)),
                    {"e": encode(row.envelope)},
                    maxlen=maxlen(),
                    approximate=True,
                )
            pipe.execute()
            # Deleted only after Redis took them; a crash in between sends them twice, and the
            # consumer's dedupe on event_id counts them once.
            OutboxEvent.objects.filter(pk__in=[row.pk for row in rows]).delete()
            sent += len(rows)


@app.task(name="analytics.outbox_replay", tenant_required=False, ignore_result=True)
def outbox_replay_task() -> int:
    total = 0
    for tenant in Tenant.objects.exclude(schema_name="public"):
        try:
            total += outbox_replay(tenant=tenant)
        except Exception as exc:  # Redis still down: the rows stay for the next run
            log.warning("outbox of %s not replayed yet: %s", tenant.slug, exc)
            return total
    return total
