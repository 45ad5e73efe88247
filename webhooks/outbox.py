"""The outbox: an event's messages are written in the transaction of the change (ADR 0160).

`on_domain_event` receives every `core.events.emit()`. If any active endpoint of the
tenant chose the event type (webhooks.listeners knows, mostly without a query: ADR 0201),
it writes the message and one delivery per endpoint and marks the tenant due for the sweep
and for the log's retention (tenants.due, in public), in one statement of the caller's
transaction; after commit it kicks the tenant's drain (one Redis
INCR per transaction, and a Celery publish only when no drain is queued or running). If
the broker is down at that moment nothing is lost: the rows are committed, and the sweep
sends them once the broker is back.
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

from core.events import TEST_EVENT, event_data
from tenants.context import current_tenant, tenant_key
from tenants.due import mark_due, mark_due_statement
from tenants.redis_clients import redis_from_url

from .listeners import listeners_for
from .models import DeliveryStatus

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


# The endpoints are checked again here (active, and hearing the type unless it is the test
# event): the listeners map they came from may name more than listen now (webhooks.listeners),
# never fewer. No endpoint left: no message and no delivery, only the (harmless) due marks.
_WRITE_SQL = """
WITH target AS (
    SELECT id FROM webhooks_webhookendpoint
    WHERE id = ANY(%s::bigint[]) AND is_active AND (%s OR event_types @> ARRAY[%s]::varchar(60)[])
), message AS (
    INSERT INTO webhooks_webhookmessage (msg_id, event_type, body, created_at)
    SELECT %s, %s, %s, %s WHERE EXISTS (SELECT 1 FROM target)
    RETURNING id
), delivery AS (
    INSERT INTO webhooks_webhookdelivery
        (message_id, endpoint_id, status, attempts, next_attempt_at, last_error, created_at)
    SELECT message.id, target.id, 'pending', 0, %s, '', %s
    FROM message, target
    RETURNING id
), due AS ({mark})
SELECT id FROM delivery ORDER BY id
"""


def _marks(now) -> list:
    """The sweep's safety net (now + grace) and the retention's lower bound (now + retention).

    A delivery finishes no earlier than now, so it cannot be past the retention before
    now + retention (webhooks.retention moves the mark from there).
    """
    return [(QUEUE, now + sweep_grace()), (PRUNE_QUEUE, now + log_retention())]


def write_message(*, event_type: str, data: dict, endpoint_ids: list[int]) -> list[int]:
    """The message, a delivery for each endpoint that is active (and hears the type) and the
    tenant's due marks, in the current transaction and in one statement; the deliveries' ids.
    After commit: one kick."""
    now = timezone.now()
    msg_id = "msg_" + uuid.uuid4().hex
    body = message_body(msg_id=msg_id, event_type=event_type, data=data, at=now)
    mark_sql, mark_params = mark_due_statement(_marks(now))
    with connection.cursor() as cursor:
        cursor.execute(
            _WRITE_SQL.format(mark=mark_sql),
            [
                list(endpoint_ids),
                event_type == TEST_EVENT,
                event_type,
                msg_id,
                event_type,
                body,
                now,
                now,
                now,
                *mark_params,
            ],
        )
        ids = [row[0] for row in cursor.fetchall()]
    kick_on_commit()
    return ids


def queue_deliveries(delivery_ids: list[int]) -> None:
    """For deliveries written by other means (a redelivery): the due marks now, a kick after commit."""
    (queue, at), *more = _marks(timezone.now())
    mark_due(queue, at, *more)
    kick_on_commit()


def on_domain_event(sender, *, event_type: str, data, **_) -> None:
    endpoint_ids = listeners_for(event_type)  # no query when the tenant's map is known (ADR 0201)
    if endpoint_ids:
        write_message(event_type=event_type, data=event_data(data), endpoint_ids=list(endpoint_ids))


# --- The kick: at most one publish per tenant while a drain is queued or running -----------


def kick_seconds() -> float:
    """How long a kick stands for a drain that was queued: a lost one is retried after this."""
    return float(getattr(settings, "WEBHOOKS_KICK_SECONDS", 10))


def kick_key() -> str:
    return tenant_key("webhooks", "kick")


_redis = None


def kick_redis():
    """The Redis the kicks live in (REDIS_URL, short timeouts: a commit never waits long)."""
    global _redis
    if _redis is None:
        _redis = redis_from_url(
            settings.REDIS_URL,
            cluster=getattr(settings, "REDIS_CLUSTER", False),
            socket_connect_timeout=0.5,
            socket_timeout=1.0,
        )
    return _redis


class _Kick:
    """The after-commit callback of a transaction that wrote deliveries (one per transaction)."""

    __slots__ = ("fired", "key", "schema")

    def __init__(self, schema: str, key: str) -> None:
        self.schema, self.key, self.fired = schema, key, False

    def __call__(self) -> None:
        self.fired = True
        kick(self.schema, self.key)


def kick_on_commit() -> None:
    """After this transaction commits, kick the tenant's drain, once however many it wrote.

    A kick registered in this block or one enclosing it (its savepoints are all still open)
    runs exactly when this block's rows commit, so it is enough. One registered in a sibling
    savepoint, or already run (test harnesses keep run callbacks in the list), is not.
    """
    schema = connection.schema_name
    open_savepoints = set(connection.savepoint_ids)
    for savepoints, callback, _ in connection.run_on_commit:
        if (
            isinstance(callback, _Kick)
            and callback.schema == schema
            and not callback.fired
            and savepoints <= open_savepoints
        ):
            return
    transaction.on_commit(_Kick(schema, kick_key()))


# INCR and, for the first, the expiry, in one round trip: the count tells a lingering drain
# that a commit came (webhooks.delivery.drain), and 1 means "no drain is queued or running".
_KICK_LUA = (
    "local n = redis.call('INCR', KEYS[1]) "
    "if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end "
    "return n"
)
_kick_script = None


def kick(schema: str, key: str) -> bool:
    """Start a drain of the tenant unless one is queued or running; False if the broker refused.

    The key counts commits since a drain was started: only the commit that makes it 1
    publishes. While it exists a commit only counts and returns, because the drain removes
    the key before its last look (webhooks.delivery.drain), so a row committed before a
    count was seen by that look. The key expires after kick_seconds() in case its drain was
    lost; the sweep is the safety net behind both.
    """
    global _kick_script
    try:
        if _kick_script is None:
            _kick_script = kick_redis().register_script(_KICK_LUA)
        if _kick_script(keys=[key], args=[int(kick_seconds() * 1000)]) != 1:
            return True  # a drain is queued or running and will look again before it stops
    except Exception as exc:  # Redis down: publish anyway (the drain coalesces nothing then)
        log.warning("webhook kick of %s without Redis: %s", schema, exc)
    if publish_drain(schema):
        return True
    kick_clear(key)  # the next commit tries again rather than wait for the key to expire
    return False


def kick_count(key: str) -> int | None:
    """Commits counted on the kick since it was set (0: none stands); None when Redis fails."""
    try:
        return int(kick_redis().get(key) or 0)
    except Exception:
        return None


def kick_clear(key: str) -> None:
    try:
        kick_redis().delete(key)
    except Exception as exc:  # the key expires by itself
        log.warning("webhook kick %s not cleared: %s", key, exc)


def publish_drain(schema: str) -> bool:
    from .tasks import drain_task

    try:
        drain_task.apply_async(headers={"_schema_name": schema}, retry=False)
    except Exception as exc:  # broker down: the sweep sends them later
        log.warning("webhook deliveries of %s wait for the sweep: %s", schema, exc)
        return False
    return True


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
