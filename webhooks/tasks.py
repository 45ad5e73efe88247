"""Celery tasks of webhooks: drain a tenant or send deliveries (in a tenant), sweep for due ones,
prune the log."""

from __future__ import annotations

import logging
import time

from django.db import connection, transaction
from django.db.models import Min
from django.utils import timezone
from django_tenants.utils import schema_context

from core.celery import app, tenant_task
from tenants import due

from .models import WebhookDelivery
from .outbox import PENDING, PRUNE_QUEUE, QUEUE, dispatch, sweep_grace

log = logging.getLogger(__name__)

SWEEP_BATCH = 200  # deliveries per deliver task sent by a sweep
SWEEP_MAX = 5000  # deliveries one sweep of one tenant hands out (the next sweep takes the rest)
PRUNE_SECONDS = 120  # one prune run stops starting batches after this; due tenants wait for the next


@tenant_task(name="webhooks.deliver", ignore_result=True)
def deliver_task(*, delivery_ids: list[int]) -> int:
    from .delivery import deliver

    return deliver(delivery_ids)


@tenant_task(name="webhooks.drain", ignore_result=True)
def drain_task() -> int:
    """Started by a kick after a commit (webhooks.outbox.kick): send what is due in this tenant."""
    from .delivery import drain

    return drain()


def sweep_tenant() -> int:
    """Hand this tenant's due deliveries to Celery and move its due mark; how many went."""
    now = timezone.now()
    with transaction.atomic():
        due.lock(QUEUE)
        waiting = WebhookDelivery.objects.filter(status__in=PENDING, endpoint__is_active=True)
        ready = list(
            waiting.filter(next_attempt_at__lte=now)
            .exclude(claimed_until__gt=now)
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:SWEEP_MAX]
        )
        later = waiting.filter(next_attempt_at__gt=now).aggregate(at=Min("next_attempt_at"))["at"]
        held = waiting.filter(claimed_until__gt=now).aggregate(at=Min("claimed_until"))["at"]
        # What is handed out now is looked at again after the grace, in case the broker lost it.
        candidates = [at for at in (later, held, now + sweep_grace() if ready else None) if at]
        due.settle(QUEUE, min(candidates) if candidates else None)
    schema = connection.schema_name
    for start in range(0, len(ready), SWEEP_BATCH):
        dispatch(schema, ready[start : start + SWEEP_BATCH])
    return len(ready)


@app.task(name="webhooks.sweep", tenant_required=False, ignore_result=True)
def sweep_task() -> int:
    """Every few seconds (beat): one query finds the tenants with due deliveries."""
    schemas = due.due_schemas(QUEUE)
    for schema in schemas:
        with schema_context(schema):
            try:
                sweep_tenant()
            except Exception:  # one tenant's trouble must not stop the others
                log.exception("webhook sweep of %s failed", schema)
    return len(schemas)


@app.task(name="webhooks.prune", tenant_required=False, ignore_result=True)
def prune_task() -> int:
    """Beat, hourly: delete the finished deliveries past the retention in the tenants due for it."""
    from .retention import log_prune

    deadline = time.monotonic() + PRUNE_SECONDS
    pruned = 0
    for schema in due.due_schemas(PRUNE_QUEUE):
        if time.monotonic() > deadline:
            break
        with schema_context(schema):
            try:
                pruned += log_prune(deadline=deadline)
            except Exception:  # one tenant's trouble must not stop the others
                log.exception("webhook log prune of %s failed", schema)
    return pruned
