"""Hostname -> tenant, remembered in each process and checked against one shared token (ADR 0051).

Every request starts by finding its tenant from the Host header. The answer changes only
when a Tenant or Domain row is written (created, renamed, suspended, resumed, deleted),
and all of those are `save()`/`delete()` calls. So each process keeps the answers it has
looked up, tagged with the routing token it read from the cache, and trusts them only
while the cache still holds that token. Any write to a Tenant or Domain replaces the
token (at once, and again after commit), which makes every process look the host up in
PostgreSQL again on its next request: a suspended tenant answers 403 on the next request
in every process.

The token is a random string, not a counter: if Redis loses its data, the new token can
never equal one a process remembered. If the cache cannot be reached, nothing is
remembered and every request reads the database, as before.
"""

from __future__ import annotations

import copy
import logging
import uuid
from contextlib import nullcontext

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django_tenants.utils import get_public_schema_name, schema_context

from core import readahead
from core.local_cache import LocalLRU

from .models import Domain, Tenant

logger = logging.getLogger(__name__)

TOKEN_KEY = "tenant-routing:token"  # noqa: S105 - a cache key, not a secret
# hostname -> (token, tenant); at most PROCESS_CACHE_MAX["tenant_routing"] hosts (ADR 0115).
_local = LocalLRU("tenant_routing", 1024)


def _in_public():
    """The cache key function puts the active schema in every key: the token lives in public's."""
    if connection.schema_name == get_public_schema_name():
        return nullcontext()  # the middleware's case: no switching back and forth
    return schema_context(get_public_schema_name())


def _token() -> str | None:
    """The current routing token (made if missing); None when the cache is unreachable."""
    return _token_and([])[0]


def _token_and(ahead: list[str]) -> tuple[str | None, dict]:
    """The token, and the raw answers for `ahead` (full keys) read in the same MGET."""
    with _in_public():
        try:
            values = {}
            if ahead:
                token_key = cache.make_and_validate_key(TOKEN_KEY)
                raw = cache._cache.get_client(None).mget([token_key, *ahead])
                token = cache._cache._serializer.loads(raw[0]) if raw[0] is not None else None
                values = dict(zip(ahead, raw[1:], strict=True))
            else:
                token = cache.get(TOKEN_KEY)
            if token is None:
                cache.add(TOKEN_KEY, uuid.uuid4().hex, None)
                token = cache.get(TOKEN_KEY)
            return token, values
        except Exception:
            logger.warning("tenants.routing_cache_unavailable", exc_info=True)
            return None, {}


def tenant_for_host(hostname: str, request=None) -> Tenant:
    """The tenant serving `hostname`; Domain.DoesNotExist if none does.

    Each caller gets its own copy, so a request that changes attributes of its tenant
    (without saving) never changes what the next request sees. Given the request, the
    cache entries it will read (core.readahead) are fetched together with the token when
    this process knows the host already; they are kept only if the token is unchanged.
    """
    hit = _local.get(hostname)
    ahead = []
    if request is not None and hit is not None and not getattr(settings, "REDIS_CLUSTER", False):
        ahead = readahead.keys_for(request, hit[1])
    token, values = _token_and(ahead)
    if token is not None and hit is not None and hit[0] == token:
        if values:  # the schema guessed for the keys is the host's: keep what was read
            readahead.keep(values)
        return copy.copy(hit[1])
    tenant = Domain.objects.select_related("tenant").get(domain=hostname).tenant
    if token is not None:
        _local.put(hostname, (token, tenant))
    return copy.copy(tenant)


def routing_token_replace() -> None:
    """A new token: every process looks every host up again on its next request."""
    with _in_public():
        try:
            cache.set(TOKEN_KEY, uuid.uuid4().hex, None)
        except Exception:
            # Without a token nothing is trusted (see _token), so a failed write is safe only
            # if the old token is gone too: try to delete it, and say so loudly.
            logger.error("tenants.routing_token_not_replaced", exc_info=True)
            try:
                cache.delete(TOKEN_KEY)
            except Exception:
                logger.error("tenants.routing_token_not_deleted", exc_info=True)


def routing_changed(**_) -> None:
    """Signal receiver for Tenant and Domain writes: every process looks hosts up again."""
    routing_token_replace()
    transaction.on_commit(routing_token_replace)


def routing_forget_local() -> None:
    """Drop this process's remembered hosts (tests)."""
    _local.clear()
