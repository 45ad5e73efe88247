"""The cache entries a request will read, fetched in its first Redis round trip (ADR 0190).

Every tenant request starts with one Redis read: the host routing token (tenants.routing).
A signed-in page then read, one after another, its session, its user and the tenant's
courses version: four round trips, each a context switch on a busy machine, for keys that
could all be named before the first. So the routing read becomes one MGET of the token and
the keys that providers (registered by the apps at start-up) name for this request, and
the answers wait here for the code that would have read them.

The rules that keep it correct:

- Keys are full Redis keys, with the schema in front (django_tenants' make_key), and a
  reader asks with the key its own schema makes: an entry read for one tenant is never the
  answer for another.
- What is here was read at the start of this request, a few milliseconds before the reader
  would have read it itself; nothing older. It is dropped when the request starts and ends.
- A writer that changes one of these entries forgets it here (`forget`), so a request reads
  its own writes.
- Entries come only from the routing read, after the routing token showed that the schema
  guessed for the host is still the right one. Tasks and commands never have any.
- Not on a Redis Cluster: one MGET across slots is refused there, so the reads stay single.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.http import HttpRequest

logger = logging.getLogger(__name__)

# Provider: (request, tenant) -> the short cache keys (as the app passes them to the cache)
# that this request will read in that tenant's namespace.
Provider = Callable[[HttpRequest, Any], Iterable[str]]

_providers: list[Provider] = []
_state = threading.local()
_MISSING = object()


def register(provider: Provider) -> None:
    """Name keys to read ahead (from an AppConfig.ready()); registering twice is harmless."""
    if provider not in _providers:
        _providers.append(provider)


def schema_key(schema: str, key: str) -> str:
    """The full Redis key of `key` in `schema`'s namespace: django_tenants.cache.make_key's form."""
    return f"{schema}:{cache.key_prefix}:{cache.version}:{key}"


def keys_for(request: HttpRequest, tenant) -> list[str]:
    """The full keys the providers name for this request of `tenant`; a failing provider names none."""
    keys: list[str] = []
    schema = tenant.schema_name
    for provider in _providers:
        try:
            keys.extend(schema_key(schema, key) for key in provider(request, tenant))
        except Exception:
            logger.warning("readahead.provider_failed provider=%r", provider, exc_info=True)
    return list(dict.fromkeys(keys))


def keep(values: dict[str, bytes | None]) -> None:
    """Keep raw answers (full key -> bytes, or None for a key Redis did not have) for this request."""
    _state.values = dict(values)


def take(key: str):
    """(True, value) if `key` of the active schema was read ahead (value None: not in the cache),
    else (False, None). The value is decoded as the cache would."""
    values = getattr(_state, "values", None)
    if not values:
        return False, None
    raw = values.get(cache.make_key(key), _MISSING)
    if raw is _MISSING:
        return False, None
    if raw is None:
        return True, None
    try:
        return True, cache._cache._serializer.loads(raw)
    except Exception:  # an entry this code cannot decode: let the reader read it itself
        logger.warning("readahead.undecodable key=%s", key, exc_info=True)
        return False, None


def get(key: str):
    """What `cache.get(key)` answers, from what was read ahead when it was (then no round trip)."""
    found, value = take(key)
    return value if found else cache.get(key)


def forget(key: str | None = None) -> None:
    """Forget `key` of the active schema (after writing it), or everything when key is None."""
    values = getattr(_state, "values", None)
    if not values:
        return
    if key is None:
        values.clear()
    else:
        values.pop(cache.make_key(key), None)


def _forget_all(**_) -> None:
    _state.values = None


request_started.connect(_forget_all, dispatch_uid="core.readahead.start")
request_finished.connect(_forget_all, dispatch_uid="core.readahead.finish")
