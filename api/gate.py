"""The one way into /api/v1/: who is asking, may they ask this often, and conditional replies.

Every API view is wrapped by `gate` (api/urls.py), which before the endpoint runs:

1. resolves the principal: an API key or an access token in `Authorization: Bearer`, else
   the browser session, whose unsafe methods must pass Django's CSRF check. Credentials that
   are present but wrong (another tenant's key or token, a revoked key, an expired token)
   are 401 at once, whatever the endpoint: they never fall back to the session;
2. counts the request against its key's (or token owner's) per-minute budget: 429 with
   Retry-After when spent;
3. replays a POST sent again with the same Idempotency-Key (24 hours);

and after it, gives GET answers a strong ETag and answers a matching If-None-Match with 304.
Endpoints then ask `need(request, scope)`, and the door for the object itself.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.utils import timezone
from redis import RedisError

from accounts.permissions import is_tenant_admin
from core import readahead
from core.errors import DomainError, Forbidden
from core.http import PROBLEM_CONTENT_TYPE
from core.local_cache import LocalLRU
from tenants.context import require_tenant, tenant_key

from .keys import SCOPES, key_matches, scope_allows, split_key
from .models import ApiKey, IdempotencyRecord
from .tokens import TokenRefused, token_read

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
IDEMPOTENCY_SECONDS = 24 * 3600
MAX_IDEMPOTENCY_KEY = 255


@dataclass(frozen=True)
class Principal:
    """Who an API request acts as, how they proved it, and what they may reach."""

    user: User
    via: str  # "session", "key" or "token"
    scopes: frozenset[str]
    key: ApiKey | None = None

    @property
    def owner(self) -> str:
        """The identity idempotency keys and rate limits are counted for."""
        return f"key:{self.key.pk}" if self.key is not None else f"user:{self.user.pk}"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"
    title = "Authentication failed"


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"
    title = "Too many requests"

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


def problem(error: DomainError, **extra) -> JsonResponse:
    body = {**error.as_problem(), **extra}
    response = JsonResponse(body, status=error.status, content_type=PROBLEM_CONTENT_TYPE)
    response["Cache-Control"] = "private, no-store"
    if isinstance(error, Unauthorized):
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    if isinstance(error, RateLimited):
        response["Retry-After"] = str(error.retry_after)
    return response


def need(request: HttpRequest, scope: str) -> Principal:
    """The principal, if its scopes include `scope` (write includes read); 403 otherwise."""
    principal = request.principal
    if principal is None:
        raise Unauthorized("Sign in, or send an API key or access token: Authorization: Bearer <key>.")
    if not scope_allows(principal.scopes, scope):
        raise Forbidden(f"This key or token lacks the scope {scope}.", code="missing_scope")
    return principal


def need_tenant_admin(request: HttpRequest, scope: str, *, doing: str) -> Principal:
    """need(), for what only the organization's admins may do ("manage people"); 403 otherwise."""
    principal = need(request, scope)
    if not is_tenant_admin(principal.user):
        raise Forbidden(f"Only the organization's admins can {doing}.", code="not_tenant_admin")
    return principal


# --- 1. Who is asking ---------------------------------------------------------------------


# Keys this process has checked: (tenant uuid, prefix) -> (row with its creator, read at,
# keys version). A row is trusted while the tenant's keys version is unchanged (a revocation
# moves it, so a revoked key fails on its next request everywhere) and for at most
# KEY_TRUST_SECONDS (so a deactivated or demoted creator is seen within that time).
_KEYS = LocalLRU("api_keys", 1024)
KEY_TRUST_SECONDS = 10


def keys_version_key() -> str:
    return tenant_key("api-keys", "version", one_slot=True)


def keys_changed() -> None:
    """Move the tenant's keys version on (after a revocation commits)."""
    readahead.forget(keys_version_key())
    try:
        if not cache.add(keys_version_key(), 1, None):
            cache.incr(keys_version_key())
    except (RedisError, ValueError):
        logger.warning("api keys: could not move the keys version on", exc_info=True)


def _key_row(prefix: str) -> ApiKey | None:
    return ApiKey.objects.usable().select_related("created_by").filter(prefix=prefix).first()


def _from_key(raw: str) -> Principal:
    parts = split_key(raw)
    if parts is None:
        raise Unauthorized("The API key is not valid here.")
    prefix, secret = parts
    tenant = require_tenant()
    local_key = (str(tenant.uuid), prefix)
    hit = _KEYS.get(local_key)
    fresh = hit is not None and time.monotonic() - hit[1] < KEY_TRUST_SECONDS
    key = hit[0] if fresh else _key_row(prefix)
    if key is None or not key_matches(key, secret):
        raise Unauthorized("The API key is not valid here.")
    principal = Principal(key.created_by, "key", frozenset(key.scopes), key)
    count, version = _count_request(principal)
    if fresh and version != hit[2]:
        # Some key of this tenant was revoked since the row was read: read it again.
        key = _key_row(prefix)
        if key is None or not key_matches(key, secret):
            raise Unauthorized("The API key is not valid here.")
        principal = Principal(key.created_by, "key", frozenset(key.scopes), key)
    if not fresh or version != hit[2]:
        _KEYS.put(local_key, (key, time.monotonic(), version))
    _refuse_over_budget(principal, count)
    now = timezone.now()
    # At most one write a minute per key: "last used" is for people, not an access log.
    if key.last_used_at is None or now - key.last_used_at > timedelta(minutes=1):
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return principal


def _from_token(raw: str, host: str) -> Principal:
    from django.contrib.auth import get_user_model

    try:
        claims = token_read(raw, host=host)
    except TokenRefused as exc:
        raise Unauthorized(str(exc)) from None
    user = get_user_model().objects.filter(pk=claims["sub"], is_active=True).first()
    if user is None:
        raise Unauthorized("The access token's account is no longer active.")
    key = None
    scopes = frozenset(s for s in claims["scopes"] if s in SCOPES)
    if "kid" in claims:
        key = ApiKey.objects.usable().filter(pk=claims["kid"], created_by=user).first()
        if key is None:
            raise Unauthorized("The API key this token was made from has been revoked.")
        scopes &= frozenset(key.scopes)
    return Principal(user, "token", scopes, key)


def _csrf_refusal(request: HttpRequest) -> HttpResponse | None:
    response = CsrfViewMiddleware(lambda r: HttpResponse()).process_view(request, None, (), {})
    if response is None:
        return None
    return problem(
        Forbidden(
            "The CSRF check failed: send the X-CSRFToken header with the csrftoken cookie.",
            code="csrf_failed",
        )
    )


def principal_resolve(request: HttpRequest) -> Principal | None:
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, credentials = header.partition(" ")
        credentials = credentials.strip()
        if scheme.lower() != "bearer" or not credentials:
            raise Unauthorized("Send credentials as: Authorization: Bearer <API key or access token>.")
        if credentials.startswith("lms_"):
            principal = _from_key(credentials)
        else:
            principal = _from_token(credentials, request.get_host())
        request.user = principal.user  # the header wins over any session cookie sent with it
        return principal
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return Principal(user, "session", frozenset(SCOPES))
    return None


# --- 2. How often -------------------------------------------------------------------------


def _limit(principal: Principal) -> int:
    own = principal.key.rate_limit_per_minute if principal.key else 0
    return own or settings.API_RATE_LIMIT_PER_MINUTE


def _count_request(principal: Principal) -> tuple[int | None, int]:
    """Count this request in the principal's minute, with the keys version: one round trip.

    (count or None when Redis is unreachable, keys version). The version usually came with
    the routing read (core.readahead, ADR 0190); else it is read in this pipeline. Both keys
    carry the tenant's hash tag, so on a Redis Cluster they live in one slot.
    """
    window = int(time.time() // 60)
    counter = cache.make_and_validate_key(tenant_key("api-rate", principal.owner, window, one_slot=True))
    found, seen = readahead.take(keys_version_key())
    try:
        client = cache._cache.get_client(counter, write=True)
        pipe = client.pipeline(transaction=False)
        pipe.incr(counter)
        pipe.expire(counter, 61, nx=True)
        if not found:
            pipe.get(cache.make_and_validate_key(keys_version_key()))
        count, _, *read = pipe.execute()
    except RedisError:
        logger.warning("api rate limit: the counter is unavailable; request let through", exc_info=True)
        return None, -1
    if read:
        seen = read[0]
    return int(count), int(seen) if seen is not None else 0


def keys_version_ahead(request, tenant) -> list[str]:
    """core.readahead provider: a request with credentials checks the tenant's keys version."""
    if not request.META.get("HTTP_AUTHORIZATION"):
        return []
    return [tenant_key("api-keys", "version", one_slot=True, tenant=tenant)]


def _refuse_over_budget(principal: Principal, count: int | None) -> None:
    limit = _limit(principal)
    if count is not None and count > limit:
        retry_after = max(1, int(60 - time.time() % 60))
        raise RateLimited(
            f"This key may make {limit} requests a minute; try again in {retry_after} s.",
            retry_after=retry_after,
        )


def rate_check(principal: Principal) -> None:
    """Count a token's request against its key's (or its person's) minute; 429 past the limit."""
    count, _ = _count_request(principal)
    _refuse_over_budget(principal, count)


# --- 3. Idempotency-Key -------------------------------------------------------------------


def _fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.get_full_path().encode(), request.body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def _replayed(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(bytes(record.body), status=record.status_code, content_type=record.content_type)
    response["Idempotent-Replayed"] = "true"
    return response


def idempotent(request: HttpRequest, principal: Principal, view, *args, **kwargs) -> HttpResponse:
    key = request.headers["Idempotency-Key"].strip()
    if not key or len(key) > MAX_IDEMPOTENCY_KEY:
        return problem(
            DomainError(
                f"An Idempotency-Key has 1 to {MAX_IDEMPOTENCY_KEY} characters.", field="Idempotency-Key"
            )
        )
    fingerprint = _fingerprint(request)
    cutoff = timezone.now() - timedelta(seconds=IDEMPOTENCY_SECONDS)
    IdempotencyRecord.objects.filter(owner=principal.owner, key=key, created_at__lt=cutoff).delete()
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(owner=principal.owner, key=key, fingerprint=fingerprint)
    except IntegrityError:
        record = IdempotencyRecord.objects.get(owner=principal.owner, key=key)
        if record.fingerprint != fingerprint:
            return problem(
                DomainError(
                    "This Idempotency-Key was used for a different request; use a new key for a new request.",
                    code="idempotency_key_reused",
                    status=422,
                )
            )
        if record.status_code is None:
            return problem(
                DomainError(
                    "The first request with this Idempotency-Key is still running.",
                    code="conflict",
                    status=409,
                )
            )
        return _replayed(record)
    response = view(request, *args, **kwargs)
    if response.status_code >= 500 or getattr(response, "streaming", False):
        record.delete()  # a failure is not an answer: the client may try again
    else:
        record.status_code = response.status_code
        record.content_type = response.get("Content-Type", "")
        record.body = response.content
        record.save(update_fields=["status_code", "content_type", "body"])
    return response


# --- 4. Conditional GET -------------------------------------------------------------------


def _with_etag(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    if response.status_code != 200 or getattr(response, "streaming", False):
        return response
    etag = '"' + hashlib.sha256(response.content).hexdigest()[:32] + '"'
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    response["Vary"] = "Authorization, Cookie"
    wanted = [tag.strip().removeprefix("W/") for tag in request.headers.get("If-None-Match", "").split(",")]
    if etag in wanted or "*" in wanted:
        not_modified = HttpResponse(status=304)
        for header in ("ETag", "Cache-Control", "Vary"):
            not_modified[header] = response[header]
        return not_modified
    return response


def gate(view):
    """Wrap one API view (see the module docstring)."""

    @wraps(view)
    def gated(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            principal = principal_resolve(request)
            if principal is not None and principal.via == "session" and request.method not in SAFE_METHODS:
                refusal = _csrf_refusal(request)
                if refusal is not None:
                    return refusal
            if principal is not None and principal.via == "token":
                rate_check(principal)  # keys were counted while they were checked
        except DomainError as exc:
            return problem(exc)
        request.principal = principal
        if request.method in ("POST", "PUT", "PATCH") and request.content_type == "application/json":
            raw = request.body.lstrip()
            if raw and not raw.startswith(b"{"):
                # Every body of this API is an object; a bare string or list is never one of them.
                return problem(DomainError("The body must be a JSON object.", code="invalid_json"))
        if request.method == "POST" and principal is not None and "Idempotency-Key" in request.headers:
            return idempotent(request, principal, view, *args, **kwargs)
        response = view(request, *args, **kwargs)
        if request.method in ("GET", "HEAD"):
            response = _with_etag(request, response)
        return response

    gated.csrf_exempt = True  # the gate runs the CSRF check itself, for session requests only
    return gated
