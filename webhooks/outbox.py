"""The outbox: an event's messages are written in the transaction of the change (ADR 0160).

`on_domain_event` receives every `core.events.emit()`. If any active endpoint of the
tenant chose the event type, it writes the message and one delivery per endpoint, marks
the tenant due for the sweep and for the log's retention (tenants.due, in public, same
transaction), and after commit hands the deliveries to Celery. If the broker is down at
that moment nothing is lost: the rows are committed, and the sweep sends them once the
broker is back.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from core.events import event_data
from tenants.context import current_tenant
from tenants.due import mark_due

from .models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookMessage

log = logging.getLogger(__name__)

QUEUE = "webhooks"  # the tenants.due queue of the sweep
PRUNE_QUEUE = "webhooks-prune"  # the tenants.due queue of the delivery-log retention


def sweep_grace() -> timedelta:
    """How long the fast path has before the sweep sends a pending delivery itself."""
    return timedelta(seconds=getattr(settings, "WEBHOOKS_SWEEP_GRACE_SECONDS", 30))


def log_retention() -> timedelta:
    """How long a finished delivery (and its attempts) stays in the log."""
    return timedelta(days=getattr(settings, "WEBHOOKS_LOG_RETENTION_DAYS", 30))


def message_body(*, msg_id: str, event_type: str, data: dict, at) -> str:
    tenant = current_tenant()
    return json.dumps(
        {
            "type": event_type,
            "timestamp": at.isoformat().replace("+00:00", "Z"),
            "tenant": tenant.slug if tenant is not None else None,
            "data": data,
        },
        cls=DjangoJSONEncoder,
        separators=(",", ":"),
    )


def write_message(*, event_type: str, data: dict, endpoint_ids: list[int]) -> list[int]:
    """The message and a delivery for each endpoint, in the current transaction; their ids."""
    now = timezone.now()
    msg_id = "msg_" + uuid.uuid4().hex
    message = WebhookMessage.objects.create(
        msg_id=msg_id,
        event_type=event_type,
        body=message_body(msg_id=msg_id, event_type=event_type, data=data, at=now),
        created_at=now,
    )
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(message=message, endpoint_id=eid, next_attempt_at=now, created_at=now)
        for eid in endpoint_ids
    )
    ids = [d.pk for d in deliveries]
    queue_deliveries(ids)
    return ids


def queue_deliveries(delivery_ids: list[int]) -> None:
    """In the writing transaction: the sweep's safety net now, the fast path after commit.

    The prune is marked too: a delivery finishes no earlier than now, so it cannot be past
    the retention before now + retention (webhooks.retention moves the mark from there).
    """
    now = timezone.now()
    mark_due(QUEUE, now + sweep_grace(), (PRUNE_QUEUE, now + log_retention()))
    schema = connection.schema_name
    transaction.on_commit(lambda: dispatch(schema, delivery_ids))


def on_domain_event(sender, *, event_type: str, data, **_) -> None:
    endpoint_ids = list(
        WebhookEndpoint.objects.filter(is_active=True, event_types__contains=[event_type]).values_list(
            "pk", flat=True
        )
    )
    if endpoint_ids:
        write_message(event_type=event_type, data=event_data(data), endpoint_ids=endpoint_ids)


def dispatch(schema: str, delivery_ids: list[int], *, countdown: float | None = None) -> bool:
    """Hand deliveries to Celery; False (logged, not raised) when the broker cannot take them."""
    from .tasks import deliver_task

    try:
        deliver_task.apply_async(
            kwargs={"delivery_ids": delivery_ids},
            headers={"_schema_name": schema},
            countdown=countdown,
            retry=False,
        )
    except Exception as exc:  # broker down: the sweep sends them later
        log.warning("webhook deliveries %s of %s wait for the sweep: %s", delivery_ids, schema, exc)
        return False
    return True


PENDING = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)
