"""Sending deliveries: claim, sign, POST, record, and schedule the retry or give up (ADR 0160, 0191).

Deliveries are claimed in batches with one UPDATE (so drains, a retry and the sweep never send
one twice at once; a drain's claim skips rows another is claiming), sent at once over the send
threads with the checked address pinned (webhooks.targets), and their results written with
their attempt rows: one statement for the batch's successes. Failures retry on
WEBHOOKS_RETRY_SCHEDULE, about 24 hours in all; then the delivery is given up, and an
endpoint that had WEBHOOKS_DISABLE_AFTER messages given up in a row is disabled and its
tenant's admins are told by e-mail.
"""

from __future__ import annotations

import logging
import math
import os
import random
import ssl
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
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

from . import outbox, signing
from .listeners import listeners_changed
from .models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from .outbox import QUEUE, dispatch, kick_count, kick_key
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


def send_concurrency() -> int:
    """Requests in flight at once per worker process; also the size of each keep-alive pool."""
    return max(1, int(getattr(settings, "WEBHOOKS_SEND_CONCURRENCY", 16)))


DRAIN_BATCH = 32  # deliveries one claim of a drain takes (two rounds of the send threads)
DRAIN_SECONDS = 20.0  # a drain hands over to a fresh task after this, so a busy tenant holds no thread


@dataclass(slots=True, eq=False)
class Claimed:
    """A claimed delivery with what sending it needs, then the outcome of its attempt.

    Plain slots, not model instances: a batch makes many, and the model's __init__ was a
    measurable share of the worker's CPU per delivery.
    """

    id: int
    status: str
    attempts: int
    message_id: int
    msg_id: str
    body: str
    endpoint_id: int
    url: str
    secrets: list[str]
    failures_in_a_row: int
    ok: bool = False
    status_code: int | None = None
    error: str = ""
    excerpt: str = ""
    duration_ms: int = 0


# What sending needs of the deliveries a claim's `claimed` clause took (both claims end with it).
_READ_CLAIMED = """
SELECT c.id, c.status, c.attempts, m.id, m.msg_id, m.body,
       e.id, e.url, e.secret, e.previous_secret, e.previous_secret_expires_at, e.failures_in_a_row
FROM claimed AS c
JOIN webhooks_webhookmessage AS m ON m.id = c.message_id
JOIN webhooks_webhookendpoint AS e ON e.id = c.endpoint_id
ORDER BY c.id
"""

# These deliveries, if due and free (the fast path of one delivery, a retry, a sweep's batch).
_CLAIM_IDS = """
WITH claimed AS (
    UPDATE webhooks_webhookdelivery AS d SET claimed_until = %(hold)s
    FROM webhooks_webhookendpoint AS e
    WHERE d.id = ANY(%(ids)s) AND e.id = d.endpoint_id AND e.is_active
      AND d.status IN ('pending', 'retrying') AND d.next_attempt_at <= %(now)s
      AND (d.claimed_until IS NULL OR d.claimed_until < %(now)s)
    RETURNING d.id, d.message_id, d.endpoint_id, d.status, d.attempts
)
"""
_CLAIM_IDS_SQL = _CLAIM_IDS + _READ_CLAIMED

# The tenant's next due, free deliveries, oldest first. SKIP LOCKED: drains running at once
# (threads, processes) each take rows the others are not taking, and none waits for another.
_CLAIM_DUE = """
WITH picked AS (
    SELECT d.id FROM webhooks_webhookdelivery AS d
    JOIN webhooks_webhookendpoint AS e ON e.id = d.endpoint_id AND e.is_active
    WHERE d.status IN ('pending', 'retrying') AND d.next_attempt_at <= %(now)s
      AND (d.claimed_until IS NULL OR d.claimed_until < %(now)s)
    ORDER BY d.next_attempt_at
    LIMIT %(limit)s
    FOR UPDATE OF d SKIP LOCKED
), claimed AS (
    UPDATE webhooks_webhookdelivery AS d SET claimed_until = %(hold)s
    FROM picked WHERE d.id = picked.id
    RETURNING d.id, d.message_id, d.endpoint_id, d.status, d.attempts
)
"""
_CLAIM_DUE_SQL = _CLAIM_DUE + _READ_CLAIMED


def _hold(now, count: int):
    """Until when a claim of `count` deliveries holds them: every round of sends may time out."""
    rounds = max(1, math.ceil(count / send_concurrency()))
    return now + timedelta(seconds=timeout_seconds() * 2 * rounds + 10)


def _claimed(rows, now) -> list[Claimed]:
    claimed = []
    for d_id, status, attempts, m_id, msg_id, body, e_id, url, secret, previous, until, failures in rows:
        secrets = [secret]
        if previous and until and until > now:  # WebhookEndpoint.signing_secrets, without a model
            secrets.append(previous)
        claimed.append(Claimed(d_id, status, attempts, m_id, msg_id, body, e_id, url, secrets, failures))
    return claimed


def claim(delivery_ids: list[int]) -> list[Claimed]:
    """Take those of `delivery_ids` that are due and free, for this worker, until the claim expires.

    One statement claims them and reads what sending needs (the message, the endpoint).
    """
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            _CLAIM_IDS_SQL, {"hold": _hold(now, len(delivery_ids)), "ids": list(delivery_ids), "now": now}
        )
        return _claimed(cursor.fetchall(), now)


def claim_due(limit: int = DRAIN_BATCH) -> list[Claimed]:
    """Take up to `limit` of this tenant's due, free deliveries (one statement, skipping locked rows)."""
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM_DUE_SQL, {"hold": _hold(now, limit), "limit": limit, "now": now})
        return _claimed(cursor.fetchall(), now)


_SUCCEEDED_SQL = """
WITH outcome (id, code, ms, excerpt) AS (
    SELECT * FROM unnest(%(ids)s::bigint[], %(codes)s::int[], %(ms)s::int[], %(excerpts)s::text[])
), attempt AS (
    INSERT INTO webhooks_webhookattempt (delivery_id, at, status_code, duration_ms, error, response_excerpt)
    SELECT id, %(now)s, code, ms, '', excerpt FROM outcome
)
UPDATE webhooks_webhookdelivery AS d
SET status = 'succeeded', attempts = d.attempts + 1, claimed_until = NULL, last_status_code = o.code,
    last_error = '', last_duration_ms = o.ms, finished_at = %(now)s, next_attempt_at = NULL
FROM outcome AS o
WHERE d.id = o.id
"""


# One pool per checked address, host and port, so a busy receiver gets kept-alive connections.
# Each holds send_concurrency() connections: every request goes through the send threads, so
# no more are ever in use at once and none is discarded ("Connection pool is full").
_pools: OrderedDict = OrderedDict()
_pools_lock = threading.Lock()
_pools_pid = os.getpid()
POOLS_MAX = 64


def _pool(target: Target):
    global _pools_pid
    key = (target.scheme, target.address, target.port, target.host)
    with _pools_lock:
        if _pools_pid != os.getpid():  # a forked child must not share its parent's sockets
            _pools.clear()
            _pools_pid = os.getpid()
        pool = _pools.get(key)
        if pool is not None:
            _pools.move_to_end(key)
            return pool
        timeout = urllib3.Timeout(connect=min(5.0, timeout_seconds()), read=timeout_seconds())
        common = {
            "port": target.port,
            "timeout": timeout,
            "maxsize": send_concurrency(),
            "retries": False,
            "block": False,
        }
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


_executor: ThreadPoolExecutor | None = None
_executor_pid = 0
_executor_lock = threading.Lock()


def _senders() -> ThreadPoolExecutor:
    """The process's send threads (HTTP only: they never touch the database)."""
    global _executor, _executor_pid
    with _executor_lock:
        if _executor is None or _executor_pid != os.getpid():
            _executor = ThreadPoolExecutor(max_workers=send_concurrency(), thread_name_prefix="webhook-send")
            _executor_pid = os.getpid()
        return _executor


def post(target: Target, delivery: Claimed) -> tuple[int | None, str, str]:
    """POST the message; (status code or None, error sentence, first characters of the reply)."""
    body = delivery.body
    headers = signing.headers(
        secrets_in_force=delivery.secrets,
        msg_id=delivery.msg_id,
        timestamp=int(time.time()),
        body=body,
    )
    default_port = 443 if target.scheme == "https" else 80
    headers["Host"] = target.host if target.port == default_port else f"{target.host}:{target.port}"
    headers["Content-Type"] = "application/json"
    headers["User-Agent"] = USER_AGENT
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


def _attempt(job: tuple[Claimed, Target | TargetRefused]) -> None:
    """One attempt of a claimed delivery (in a send thread); the outcome goes on the delivery."""
    delivery, target = job
    started = time.monotonic()
    if isinstance(target, TargetRefused):
        status_code, error, excerpt = None, target.message[:300], ""
    else:
        try:
            status_code, error, excerpt = post(target, delivery)
        except Exception as exc:  # whatever it was, it is this attempt's failure
            status_code, error, excerpt = None, f"{type(exc).__name__}: {exc}"[:300], ""
    delivery.duration_ms = int((time.monotonic() - started) * 1000)
    delivery.ok = status_code is not None and 200 <= status_code < 300
    if status_code is not None and not delivery.ok:
        error = f"The receiver answered {status_code}."
    delivery.status_code, delivery.error, delivery.excerpt = status_code, error, excerpt


def send(claimed: list[Claimed]) -> int:
    """One attempt of each claimed delivery, at once over the send threads, recorded; how many
    the receivers took (2xx).

    Each endpoint's URL is checked (DNS and the address rules) once for the batch, and every
    request of the batch connects to the checked address.
    """
    if not claimed:
        return 0
    targets: dict[str, Target | TargetRefused] = {}
    for delivery in claimed:
        if delivery.url not in targets:
            try:
                targets[delivery.url] = resolve(delivery.url)
            except TargetRefused as exc:
                targets[delivery.url] = exc
    jobs = [(delivery, targets[delivery.url]) for delivery in claimed]
    for _ in _senders().map(_attempt, jobs):
        pass
    return record(claimed)


def record(claimed: list[Claimed]) -> int:
    """Write the attempts' outcomes: the common case (a success to an endpoint with no failures
    behind it) for the whole batch in one statement, the others one transaction each."""
    easy = [d for d in claimed if d.ok and not d.failures_in_a_row]
    if easy:
        with connection.cursor() as cursor:
            cursor.execute(
                _SUCCEEDED_SQL,
                {
                    "ids": [d.id for d in easy],
                    "codes": [d.status_code for d in easy],
                    "ms": [d.duration_ms for d in easy],
                    "excerpts": [d.excerpt[:500] for d in easy],
                    "now": timezone.now(),
                },
            )
        for delivery in easy:
            delivery.status, delivery.attempts = DeliveryStatus.SUCCEEDED, delivery.attempts + 1
    for delivery in claimed:
        if delivery.ok and not delivery.failures_in_a_row:
            continue
        _record(delivery)
    return sum(d.ok for d in claimed)


def _retry_at(attempts: int):
    """When to try again after `attempts` failed attempts, or None when it is time to give up."""
    steps = schedule()
    if attempts > len(steps):
        return None
    delay = steps[attempts - 1]
    return timezone.now() + timedelta(seconds=delay * random.uniform(0.9, 1.1))


@transaction.atomic
def _record(delivery: Claimed) -> None:
    now = timezone.now()
    attempts = delivery.attempts + 1
    WebhookAttempt.objects.create(
        delivery_id=delivery.id,
        at=now,
        status_code=delivery.status_code,
        duration_ms=delivery.duration_ms,
        error=delivery.error[:300],
        response_excerpt=delivery.excerpt[:500],
    )
    fields = {
        "attempts": attempts,
        "claimed_until": None,
        "last_status_code": delivery.status_code,
        "last_error": delivery.error[:300],
        "last_duration_ms": delivery.duration_ms,
    }
    if delivery.ok:
        fields.update(status=DeliveryStatus.SUCCEEDED, finished_at=now, next_attempt_at=None)
        if delivery.failures_in_a_row:
            WebhookEndpoint.objects.filter(pk=delivery.endpoint_id).update(failures_in_a_row=0)
    else:
        retry_at = _retry_at(attempts)
        if retry_at is None:
            fields.update(status=DeliveryStatus.FAILED, finished_at=now, next_attempt_at=None)
            _given_up(delivery.endpoint_id)
        else:
            fields.update(status=DeliveryStatus.RETRYING, next_attempt_at=retry_at)
            mark_due(QUEUE, retry_at)
            delay = (retry_at - now).total_seconds()
            if delay <= COUNTDOWN_MAX_SECONDS:
                schema, delivery_id = connection.schema_name, delivery.id
                transaction.on_commit(lambda: dispatch(schema, [delivery_id], countdown=delay))
    WebhookDelivery.objects.filter(pk=delivery.id).update(**fields)
    delivery.status, delivery.attempts = fields.get("status", delivery.status), attempts


def _given_up(endpoint_id: int) -> None:
    limit = int(getattr(settings, "WEBHOOKS_DISABLE_AFTER", 3))
    WebhookEndpoint.objects.filter(pk=endpoint_id).update(failures_in_a_row=F("failures_in_a_row") + 1)
    endpoint = WebhookEndpoint.objects.get(pk=endpoint_id)
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
    listeners_changed(strict=False)  # an update() sends no post_save (ADR 0201)
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
    ids = list(delivery_ids)
    return sum(send(claim(ids[start : start + DRAIN_BATCH])) for start in range(0, len(ids), DRAIN_BATCH))


def drain_linger_seconds() -> float:
    return float(getattr(settings, "WEBHOOKS_DRAIN_LINGER_SECONDS", 0.2))


def _commit_came(key: str, seen: int | None) -> bool:
    """Linger a moment for another commit of the tenant (its kick changes the count)."""
    if seen is None:
        return False
    deadline = time.monotonic() + drain_linger_seconds()
    while time.monotonic() < deadline:
        time.sleep(LINGER_POLL_SECONDS)
        if kick_count(key) != seen:
            return True
    return False


LINGER_POLL_SECONDS = 0.01


def drain() -> int:
    """Send the tenant's due deliveries, a batch at a time, until none is left; how many succeeded.

    The task a kick starts (webhooks.outbox.kick). When nothing is due it lingers a moment,
    watching the kick's count (Redis, not the database), so a steady stream of commits keeps
    one drain busy instead of starting one per commit. Before it stops it removes the kick and
    looks once more: a commit whose kick found the key standing committed before that look,
    so its rows are seen; a commit after the key went starts a new drain. After DRAIN_SECONDS
    it hands over to a fresh drain instead, so a busy tenant does not keep a worker thread.
    """
    key = kick_key()
    deadline = time.monotonic() + DRAIN_SECONDS
    succeeded = 0
    while True:
        seen = kick_count(key)  # before the claim: a commit counted after it is not yet seen
        claimed = claim_due()
        if not claimed:
            if _commit_came(key, seen) and time.monotonic() < deadline:
                continue
            outbox.kick_clear(key)
            claimed = claim_due()  # the last look, after the key went
            if not claimed:
                return succeeded
        succeeded += send(claimed)
        if time.monotonic() > deadline:
            outbox.kick_clear(key)
            outbox.kick(connection.schema_name, key)
            return succeeded
