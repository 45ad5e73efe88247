"""Sending deliveries: claim, sign, POST, record, and schedule the retry or give up (ADR 0160).

A delivery is claimed with one UPDATE (so the fast path, a retry and the sweep never send
it twice at once), sent with the checked address pinned (webhooks.targets), and its result
written with its attempt row. Failures retry on WEBHOOKS_RETRY_SCHEDULE, about 24 hours in
all; then the delivery is given up, and an endpoint that had WEBHOOKS_DISABLE_AFTER messages
given up in a row is disabled and its tenant's admins are told by e-mail.
"""

from __future__ import annotations

import logging
import random
import ssl
import threading
import time
from collections import OrderedDict
from datetime import timedelta

import urllib3
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from accounts.permissions import tenant_admins
from accounts.tasks import email_send_task
from core.celery import enqueue_on_commit
from tenants.context import current_tenant
from tenants.due import mark_due

from . import signing
from .models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookMessage
from .outbox import QUEUE, dispatch
from .targets import Target, TargetRefused, resolve

log = logging.getLogger(__name__)

# Seconds to wait after the 1st, 2nd, ... failed attempt: 11 attempts over about 24 hours.
DEFAULT_SCHEDULE = (5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800, 28800)
# A retry due this soon is also sent to Celery with a countdown; later ones wait for the sweep
# (Redis redelivers long-countdown tasks after its visibility timeout: the sweep is exact).
COUNTDOWN_MAX_SECONDS = 60
USER_AGENT = "LMS-Webhooks/1"


def schedule() -> tuple[int, ...]:
    return tuple(getattr(settings, "WEBHOOKS_RETRY_SCHEDULE", DEFAULT_SCHEDULE))


def timeout_seconds() -> float:
    return float(getattr(settings, "WEBHOOKS_TIMEOUT_SECONDS", 10))


_CLAIM_SQL = """
WITH claimed AS (
    UPDATE webhooks_webhookdelivery AS d SET claimed_until = %s
    FROM webhooks_webhookendpoint AS e
    WHERE d.id = ANY(%s) AND e.id = d.endpoint_id AND e.is_active
      AND d.status IN ('pending', 'retrying') AND d.next_attempt_at <= %s
      AND (d.claimed_until IS NULL OR d.claimed_until < %s)
    RETURNING d.id, d.message_id, d.endpoint_id, d.status, d.attempts, d.created_at
)
SELECT c.id, c.status, c.attempts, c.created_at,
       m.id, m.msg_id, m.event_type, m.body, m.created_at,
       e.id, e.url, e.secret, e.previous_secret, e.previous_secret_expires_at, e.failures_in_a_row
FROM claimed AS c
JOIN webhooks_webhookmessage AS m ON m.id = c.message_id
JOIN webhooks_webhookendpoint AS e ON e.id = c.endpoint_id
ORDER BY c.id
"""


def claim(delivery_ids: list[int]) -> list[WebhookDelivery]:
    """Take the deliveries that are due and free, for this worker, until the claim expires.

    One statement claims them and reads what sending needs (the message, the endpoint).
    """
    now = timezone.now()
    hold = now + timedelta(seconds=timeout_seconds() * 2 + 10)
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM_SQL, [hold, list(delivery_ids), now, now])
        rows = cursor.fetchall()
    claimed = []
    for d_id, status, attempts, created, m_id, msg_id, event_type, body, m_created, *endpoint in rows:
        e_id, url, secret, previous, previous_until, failures = endpoint
        message = WebhookMessage(
            id=m_id, msg_id=msg_id, event_type=event_type, body=body, created_at=m_created
        )
        hook = WebhookEndpoint(
            id=e_id,
            url=url,
            secret=secret,
            previous_secret=previous,
            previous_secret_expires_at=previous_until,
            failures_in_a_row=failures,
            is_active=True,
        )
        delivery = WebhookDelivery(
            id=d_id, message=message, endpoint=hook, status=status, attempts=attempts, created_at=created
        )
        delivery.claimed_until = hold
        claimed.append(delivery)
    return claimed


_SUCCEEDED_SQL = """
WITH attempt AS (
    INSERT INTO webhooks_webhookattempt (delivery_id, at, status_code, duration_ms, error, response_excerpt)
    VALUES (%(id)s, %(now)s, %(code)s, %(ms)s, '', %(excerpt)s)
)
UPDATE webhooks_webhookdelivery
SET status = 'succeeded', attempts = attempts + 1, claimed_until = NULL, last_status_code = %(code)s,
    last_error = '', last_duration_ms = %(ms)s, finished_at = %(now)s, next_attempt_at = NULL
WHERE id = %(id)s
"""


# One pool per checked address, host and port, so a busy receiver gets kept-alive connections.
_pools: OrderedDict = OrderedDict()
_pools_lock = threading.Lock()
POOLS_MAX = 64


def _pool(target: Target):
    key = (target.scheme, target.address, target.port, target.host)
    with _pools_lock:
        pool = _pools.get(key)
        if pool is not None:
            _pools.move_to_end(key)
            return pool
        timeout = urllib3.Timeout(connect=min(5.0, timeout_seconds()), read=timeout_seconds())
        common = {"port": target.port, "timeout": timeout, "maxsize": 8, "retries": False, "block": False}
        if target.scheme == "https":
            pool = urllib3.HTTPSConnectionPool(
                target.address,
                server_hostname=target.host,
                assert_hostname=target.host,
                ssl_context=ssl.create_default_context(),
                **common,
            )
        else:
            pool = urllib3.HTTPConnectionPool(target.address, **common)
        _pools[key] = pool
        while len(_pools) > POOLS_MAX:
            _pools.popitem(last=False)[1].close()
        return pool


def post(delivery: WebhookDelivery) -> tuple[int | None, str, str]:
    """POST the message; (status code or None, error sentence, first characters of the reply)."""
    message, endpoint = delivery.message, delivery.endpoint
    try:
        target = resolve(endpoint.url)
    except TargetRefused as exc:
        return None, exc.message[:300], ""
    body = message.body
    headers = signing.headers(
        secrets_in_force=endpoint.signing_secrets(),
        msg_id=message.msg_id,
        timestamp=int(time.time()),
        body=body,
    )
    default_port = 443 if target.scheme == "https" else 80
    headers.update(
        {
            "Host": target.host if target.port == default_port else f"{target.host}:{target.port}",
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
        }
    )
    try:
        response = _pool(target).urlopen(
            "POST",
            target.path,
            body=body.encode(),
            headers=headers,
            redirect=False,
            preload_content=False,
            assert_same_host=False,
        )
        excerpt = response.read(500, decode_content=True).decode("utf-8", "replace")
        response.drain_conn()
        response.release_conn()
    except urllib3.exceptions.HTTPError as exc:
        reason = getattr(exc, "reason", None) or exc
        return None, f"{type(exc).__name__}: {reason}"[:300], ""
    return response.status, "", excerpt


def _retry_at(attempts: int):
    """When to try again after `attempts` failed attempts, or None when it is time to give up."""
    steps = schedule()
    if attempts > len(steps):
        return None
    delay = steps[attempts - 1]
    return timezone.now() + timedelta(seconds=delay * random.uniform(0.9, 1.1))


def send(delivery: WebhookDelivery) -> bool:
    """One attempt of a claimed delivery, recorded; True when the receiver took it (2xx)."""
    started = time.monotonic()
    status_code, error, excerpt = post(delivery)
    duration_ms = int((time.monotonic() - started) * 1000)
    ok = status_code is not None and 200 <= status_code < 300
    if status_code is not None and not ok:
        error = f"The receiver answered {status_code}."
    record(delivery, ok=ok, status_code=status_code, error=error, excerpt=excerpt, duration_ms=duration_ms)
    return ok


def record(delivery: WebhookDelivery, *, ok: bool, status_code, error: str, excerpt: str, duration_ms: int):
    if ok and not delivery.endpoint.failures_in_a_row:
        # The common case, in one statement (atomic by itself): the attempt and the delivery.
        now = timezone.now()
        with connection.cursor() as cursor:
            cursor.execute(
                _SUCCEEDED_SQL,
                {
                    "id": delivery.pk,
                    "now": now,
                    "code": status_code,
                    "ms": duration_ms,
                    "excerpt": excerpt[:500],
                },
            )
        delivery.status, delivery.attempts, delivery.finished_at = (
            DeliveryStatus.SUCCEEDED,
            delivery.attempts + 1,
            now,
        )
        delivery.last_status_code, delivery.last_duration_ms, delivery.claimed_until = (
            status_code,
            duration_ms,
            None,
        )
        return
    _record(delivery, ok=ok, status_code=status_code, error=error, excerpt=excerpt, duration_ms=duration_ms)


@transaction.atomic
def _record(delivery: WebhookDelivery, *, ok: bool, status_code, error: str, excerpt: str, duration_ms: int):
    now = timezone.now()
    attempts = delivery.attempts + 1
    WebhookAttempt.objects.create(
        delivery=delivery,
        at=now,
        status_code=status_code,
        duration_ms=duration_ms,
        error=error[:300],
        response_excerpt=excerpt[:500],
    )
    fields = {
        "attempts": attempts,
        "claimed_until": None,
        "last_status_code": status_code,
        "last_error": error[:300],
        "last_duration_ms": duration_ms,
    }
    endpoint = delivery.endpoint
    if ok:
        fields.update(status=DeliveryStatus.SUCCEEDED, finished_at=now, next_attempt_at=None)
        if endpoint.failures_in_a_row:
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failures_in_a_row=0)
    else:
        retry_at = _retry_at(attempts)
        if retry_at is None:
            fields.update(status=DeliveryStatus.FAILED, finished_at=now, next_attempt_at=None)
            _given_up(endpoint)
        else:
            fields.update(status=DeliveryStatus.RETRYING, next_attempt_at=retry_at)
            mark_due(QUEUE, retry_at)
            delay = (retry_at - now).total_seconds()
            if delay <= COUNTDOWN_MAX_SECONDS:
                schema = connection.schema_name
                transaction.on_commit(lambda: dispatch(schema, [delivery.pk], countdown=delay))
    WebhookDelivery.objects.filter(pk=delivery.pk).update(**fields)
    for name, value in fields.items():
        setattr(delivery, name, value)


def _given_up(endpoint: WebhookEndpoint) -> None:
    limit = int(getattr(settings, "WEBHOOKS_DISABLE_AFTER", 3))
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failures_in_a_row=F("failures_in_a_row") + 1)
    endpoint.refresh_from_db(fields=["failures_in_a_row", "is_active"])
    if endpoint.is_active and endpoint.failures_in_a_row >= limit:
        endpoint_disable_for_failures(endpoint, limit=limit)


def endpoint_disable_for_failures(endpoint: WebhookEndpoint, *, limit: int) -> None:
    from accounts.audit import audit_record

    reason = (
        f"Disabled on {timezone.now():%Y-%m-%d %H:%M} UTC: {limit} messages in a row failed "
        "for 24 hours each."
    )
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        is_active=False, disabled_at=timezone.now(), disabled_reason=reason
    )
    endpoint.is_active, endpoint.disabled_reason = False, reason
    audit_record(
        actor=None,
        action="webhook_endpoint.disabled",
        target=endpoint,
        before={"active": True},
        after={"active": False, "reason": reason},
    )
    tenant = current_tenant()
    site = tenant.name if tenant is not None else "your organization"
    last_error = endpoint.deliveries.order_by("-pk").values_list("last_error", flat=True).first()
    body = (
        f"The webhook endpoint {endpoint.url} of {site} was disabled.\n\n"
        f"{reason}\nThe last error: {last_error}\n\n"
        "Fix the receiver, then enable the endpoint again in Admin → Webhook endpoints; "
        "messages from now on are sent again, and failed ones can be redelivered from the delivery log."
    )
    for email in tenant_admins().values_list("email", flat=True):
        enqueue_on_commit(
            email_send_task, to=email, subject=f"Webhook endpoint disabled: {endpoint.url}", body=body
        )
    log.warning("webhook endpoint %s disabled after %s failed messages", endpoint.pk, limit)


def deliver(delivery_ids: list[int]) -> int:
    """Send every due, free delivery of `delivery_ids`; returns how many succeeded."""
    return sum(send(d) for d in claim(delivery_ids))
