"""The delivery log's retention: finished deliveries older than WEBHOOKS_LOG_RETENTION_DAYS go.

A delivery that succeeded or was given up on, with its attempts, is deleted once it finished
longer ago than the retention; a message goes with its last delivery. Pending and retrying
deliveries are never deleted, however old.

Which tenants to visit comes from tenants.due (queue "webhooks-prune"), never from a walk
over every schema: writing a delivery marks the tenant due at now + retention (it cannot
finish earlier than now), and each visit moves the mark to when the oldest finished delivery
left passes the retention, or removes it when the log is empty.
"""

from __future__ import annotations

import time

from django.db import connection, transaction
from django.db.models import Min
from django.utils import timezone

from tenants import due

from .models import DeliveryStatus, WebhookDelivery
from .outbox import PENDING, PRUNE_QUEUE, log_retention

PRUNE_BATCH = 1000  # deliveries per statement (and per short transaction)
FINISHED = (DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED)

_PRUNE_SQL = """
WITH doomed AS (
    SELECT id FROM webhooks_webhookdelivery
    WHERE status IN ('succeeded', 'failed') AND finished_at < %s
    ORDER BY finished_at
    LIMIT %s
    FOR UPDATE SKIP LOCKED
), attempts AS (
    DELETE FROM webhooks_webhookattempt WHERE delivery_id IN (SELECT id FROM doomed)
)
DELETE FROM webhooks_webhookdelivery WHERE id IN (SELECT id FROM doomed)
RETURNING message_id
"""

# A second statement: inside the first, the deleted deliveries would still be visible.
_ORPHANS_SQL = """
DELETE FROM webhooks_webhookmessage AS m
WHERE m.id = ANY(%s)
  AND NOT EXISTS (SELECT 1 FROM webhooks_webhookdelivery AS d WHERE d.message_id = m.id)
"""


def _prune_batch(cutoff) -> int:
    """Delete up to PRUNE_BATCH deliveries finished before `cutoff`; how many went."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_PRUNE_SQL, [cutoff, PRUNE_BATCH])
        rows = cursor.fetchall()
        if rows:
            cursor.execute(_ORPHANS_SQL, [list({message_id for (message_id,) in rows})])
    return len(rows)


def _next_due(now):
    """When this tenant's log next has something past the retention, or None if it is empty."""
    retention = log_retention()
    candidates = []
    oldest = WebhookDelivery.objects.filter(status__in=FINISHED, finished_at__isnull=False).aggregate(
        at=Min("finished_at")
    )["at"]
    if oldest is not None:
        candidates.append(max(oldest + retention, now))  # past it already: a visit ran out of time
    if WebhookDelivery.objects.filter(status__in=PENDING).exists():
        candidates.append(now + retention)  # finishes no earlier than now
    return min(candidates) if candidates else None


def log_prune(*, deadline: float | None = None) -> int:
    """Prune the current tenant's delivery log in batches, then move its due mark; how many went.

    `deadline` (time.monotonic()) stops between batches; the tenant stays due for the rest.
    """
    now = timezone.now()
    cutoff = now - log_retention()
    pruned = 0
    while True:
        batch = _prune_batch(cutoff)
        pruned += batch
        if batch < PRUNE_BATCH or (deadline is not None and time.monotonic() > deadline):
            break
    # Short, under the lock: a writer marking the tenant meanwhile waits, then marks again.
    with transaction.atomic():
        due.lock(PRUNE_QUEUE)
        due.settle(PRUNE_QUEUE, _next_due(timezone.now()))
    return pruned
