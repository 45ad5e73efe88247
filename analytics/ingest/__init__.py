"""`track()`: record one learner event. Any app may call it; it depends on `tenants` alone.

    from analytics.ingest import track
    transaction.on_commit(lambda: track("lesson.completed", user_id=user.pk,
                                        payload={"course_id": course.pk, "lesson_id": lesson.pk}))

track() stamps the active tenant (never the caller's word for it), validates the
payload against its type's schema (analytics/ingest/schemas.py), and appends the
event to one of a fixed set of Redis streams, `events:{p}` (the braces are a Redis
Cluster hash tag) with p = crc32(tenant uuid) mod ANALYTICS_PARTITIONS, capped by an
approximate MAXLEN. That is one Redis
command, one round trip. It never raises into the caller: an invalid event is logged
and counted; if Redis does not answer, the event goes to the tenant's outbox table,
which a periodic task replays (analytics.tasks.outbox_replay_task).
"""

from __future__ import annotations

import json
import logging
import uuid
import zlib
from datetime import UTC, datetime, timedelta

from django.conf import settings

from tenants.context import current_tenant
from tenants.redis_clients import redis_from_url

from .schemas import MAX_EVENT_BYTES, PERSONAL, SCHEMA_VERSION, InvalidEvent, validate_payload

log = logging.getLogger("analytics.ingest")

# Events dated further ahead than this are a wrong clock, not the future.
MAX_FUTURE_SKEW = timedelta(minutes=5)
# Events older than this are refused at the door (replays from the outbox are not re-dated).
MAX_PAST_SKEW = timedelta(days=7)
REJECTED_KEY = "analytics:rejected"

_client = None


def partitions() -> int:
    return int(getattr(settings, "ANALYTICS_PARTITIONS", 16))


def stream_name(p: int) -> str:
    """`events:{p}`: the braces are a Redis Cluster hash tag, so the keys of one partition (its
    stream and its dead-letter stream, written together in one MULTI) share a slot, while the
    partitions spread over the slots, hence over the nodes (ADR 0111)."""
    return f"{getattr(settings, 'ANALYTICS_STREAM_PREFIX', 'events')}:{{{p}}}"


def stream_names() -> list[str]:
    return [stream_name(p) for p in range(partitions())]


def stream_for(tenant_uuid: str) -> str:
    """The stream a tenant's events go to: all of one tenant's events keep their order."""
    return stream_name(zlib.crc32(str(tenant_uuid).encode()) % partitions())


def redis_client():
    """The Redis connection of the event streams, with short timeouts: a request never waits long."""
    global _client
    if _client is None:
        _client = redis_from_url(
            getattr(settings, "ANALYTICS_REDIS_URL", settings.REDIS_URL),
            cluster=getattr(settings, "ANALYTICS_REDIS_CLUSTER", False),
            socket_connect_timeout=0.5,
            socket_timeout=1.0,
        )
    return _client


def reset_client() -> None:
    """Forget the connection (after settings change, in tests and forked workers)."""
    global _client
    _client = None


def maxlen() -> int:
    return int(getattr(settings, "ANALYTICS_STREAM_MAXLEN", 1_000_000))


def count_rejection(reason: str) -> None:
    """Count a refused event by reason (analytics_status prints these); never raises."""
    try:
        redis_client().hincrby(REJECTED_KEY, reason, 1)
    except Exception:  # counting must not break the caller
        log.warning("could not count a rejected event (%s)", reason)


def envelope(
    event_type: str,
    *,
    user_id: int | None,
    payload: dict,
    occurred_at: datetime | None = None,
    event_id: uuid.UUID | None = None,
    tenant=None,
) -> dict:
    """The validated event as it travels; InvalidEvent when it cannot be accepted."""
    tenant = tenant or current_tenant()
    if tenant is None:
        raise InvalidEvent("no tenant is active; events belong to a tenant")
    clean = validate_payload(event_type, payload)
    valid_user = isinstance(user_id, int) and not isinstance(user_id, bool) and user_id > 0
    if event_type in PERSONAL and not valid_user:
        raise InvalidEvent(f"{event_type} needs the acting user's id")
    now = datetime.now(UTC)
    at = occurred_at or now
    if at.tzinfo is None:
        raise InvalidEvent("occurred_at must be timezone-aware")
    if at > now + MAX_FUTURE_SKEW or at < now - MAX_PAST_SKEW:
        raise InvalidEvent(f"occurred_at {at.isoformat()} is too far from the server's clock")
    return {
        "id": str(event_id or uuid.uuid4()),
        "type": event_type,
        "v": SCHEMA_VERSION,
        "tenant": str(tenant.uuid),
        "schema": tenant.schema_name,
        "user": user_id,
        "at": at.timestamp(),
        "payload": clean,
    }


def encode(event: dict) -> bytes:
    return json.dumps(event, separators=(",", ":")).encode()


def track(
    event_type: str,
    *,
    user_id: int | None,
    payload: dict,
    occurred_at: datetime | None = None,
    event_id: uuid.UUID | None = None,
) -> None:
    """Record one event for the active tenant. Never raises; see the module docstring."""
    try:
        event = envelope(
            event_type, user_id=user_id, payload=payload, occurred_at=occurred_at, event_id=event_id
        )
        data = encode(event)
        if len(data) > MAX_EVENT_BYTES:
            raise InvalidEvent(f"the event is larger than {MAX_EVENT_BYTES} bytes")
    except InvalidEvent as exc:
        log.warning("event refused: %s", exc)
        count_rejection("invalid")
        return
    except Exception:  # track() never raises into the request
        log.exception("event refused: unexpected error while building it")
        count_rejection("error")
        return
    try:
        redis_client().xadd(stream_for(event["tenant"]), {"e": data}, maxlen=maxlen(), approximate=True)
    except Exception as exc:  # Redis down: keep the event in the outbox
        log.warning("Redis refused an event (%s); keeping it in the outbox", exc)
        _to_outbox(event)


OUTBOX_QUEUE = "analytics-outbox"  # the tenants.due queue of the replay


def _to_outbox(event: dict) -> None:
    try:
        from django.db import transaction
        from django.utils import timezone

        from analytics.models import OutboxEvent
        from tenants.due import mark_due

        with transaction.atomic():
            OutboxEvent.objects.create(event_id=event["id"], envelope=event)
            # So the replay finds this tenant in one query instead of visiting every schema.
            mark_due(OUTBOX_QUEUE, timezone.now())
    except Exception:  # the database is down too: log the event itself
        log.exception("event lost: neither Redis nor the outbox took it: %s", encode(event).decode())


def track_many(events: list[tuple[str, int | None, dict]]) -> int:
    """Several events of the active tenant, (type, user_id, payload) each, in one pipelined round trip.

    Like track(): never raises; invalid events are refused one by one; if Redis does not
    answer they all go to the outbox. Returns how many were accepted.
    """
    accepted = []
    for event_type, user_id, payload in events:
        try:
            event = envelope(event_type, user_id=user_id, payload=payload)
            if len(encode(event)) > MAX_EVENT_BYTES:
                raise InvalidEvent(f"the event is larger than {MAX_EVENT_BYTES} bytes")
            accepted.append(event)
        except InvalidEvent as exc:
            log.warning("event refused: %s", exc)
            count_rejection("invalid")
        except Exception:  # track_many() never raises into the request
            log.exception("event refused: unexpected error while building it")
            count_rejection("error")
    if not accepted:
        return 0
    try:
        pipe = redis_client().pipeline(transaction=False)
        for event in accepted:
            pipe.xadd(stream_for(event["tenant"]), {"e": encode(event)}, maxlen=maxlen(), approximate=True)
        pipe.execute()
    except Exception as exc:  # Redis down: keep the events in the outbox
        log.warning("Redis refused %d events (%s); keeping them in the outbox", len(accepted), exc)
        for event in accepted:
            _to_outbox(event)
    return len(accepted)
