"""Periodic, cross-tenant tasks on the `analytics` queue (ADR 0020): consume, replay, prune.

Both tasks are sent by Celery beat with no tenant, on purpose: the consumer reads the
shared streams and writes each tenant's schema itself; the outbox replay visits the
tenants whose outbox got rows (marked in public.tenants_tenantdue when the row is
written). They are declared with tenant_required=False.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_tenants.utils import schema_context

from core.celery import app
from tenants import due
from tenants.models import Tenant

from .consumer import Consumer
from .ingest import OUTBOX_QUEUE, encode, maxlen, redis_client, stream_for
from .models import OutboxEvent, ProcessedEvent

log = logging.getLogger("analytics.tasks")

OUTBOX_BATCH = 1000


@app.task(name="analytics.consume", tenant_required=False, ignore_result=True)
def consume_task(seconds: float = 4.5) -> dict:
    """Apply what the streams hold for `seconds`, taking over abandoned entries first.

    Beat sends it every 5 s; between batches it waits on the streams (blocking reads), so
    an event is applied within a fraction of a second, not at the next beat.
    """
    consumer = Consumer()
    deadline = time.monotonic() + seconds
    total = consumer.drain(seconds=seconds)
    while (left := deadline - time.monotonic()) > 0.05:
        step = consumer.run_once(block_ms=max(50, int(min(left, 0.5) * 1000)))
        if step.read:
            more = consumer.drain(seconds=max(0.0, deadline - time.monotonic()), claim=False)
            for name in total.__dataclass_fields__:
                setattr(total, name, getattr(total, name) + getattr(step, name) + getattr(more, name))
    if total.read:
        log.info("analytics consumer: %s", total)
    return total.__dict__


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


def _outbox_settle(schema: str) -> None:
    """After a replay of one tenant: forget its due mark if nothing is left, under its lock."""
    from django.db import transaction

    with schema_context(schema), transaction.atomic():
        due.lock(OUTBOX_QUEUE)
        if not OutboxEvent.objects.exists():
            due.settle(OUTBOX_QUEUE, None)


@app.task(name="analytics.outbox_replay", tenant_required=False, ignore_result=True)
def outbox_replay_task() -> int:
    """Replay the outboxes of the tenants marked due (tenants.due): one query finds them."""
    total = 0
    schemas = due.due_schemas(OUTBOX_QUEUE)
    tenants = {t.schema_name: t for t in Tenant.objects.filter(schema_name__in=schemas)}
    for schema in schemas:
        tenant = tenants.get(schema)
        if tenant is None:
            due.forget_schema(schema)
            continue
        try:
            total += outbox_replay(tenant=tenant)
        except Exception as exc:  # Redis still down: the rows stay for the next run
            log.warning("outbox of %s not replayed yet: %s", tenant.slug, exc)
            return total
        _outbox_settle(schema)
    return total


def processed_prune(*, tenant: Tenant, days: int) -> int:
    """Forget dedupe ids older than `days` in one tenant; returns how many went.

    Safe once no copy of those events can still arrive: track() refuses events older than
    7 days and streams are capped, so only an outbox older than `days` could replay one.
    """
    cutoff = timezone.now() - timedelta(days=days)
    with schema_context(tenant.schema_name):
        deleted, _ = ProcessedEvent.objects.filter(processed_at__lt=cutoff).delete()
    return deleted


@app.task(name="analytics.processed_prune", tenant_required=False, ignore_result=True)
def processed_prune_task() -> int:
    days = int(getattr(settings, "ANALYTICS_DEDUPE_DAYS", 30))
    return sum(processed_prune(tenant=t, days=days) for t in Tenant.objects.exclude(schema_name="public"))
