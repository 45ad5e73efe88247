"""One version number per tenant for everything learners see about courses.

Catalog lists, categories and course lookups are cached under the current version; any
committed change to a course, a revision or a category moves the version on, so stale
entries are simply never read again (they expire on their own). The version lives in the
tenant's cache namespace like every other key (django_tenants.cache.make_key).
"""

from __future__ import annotations

import copy
import time

from django.core.cache import cache
from django.db import connection, transaction
from django_tenants.utils import schema_context

from core import readahead
from core.local_cache import LocalLRU
from tenants.context import current_tenant

VERSION_KEY = "courses:version"
ENTRY_SECONDS = 600
# The per-process layer of cached_copy (ADR 0052): each entry trusted for at most a minute and
# only while the tenant's version is the one it was read under; at most
# PROCESS_CACHE_MAX["course_lookup"] entries across all tenants (ADR 0115).
LOCAL_SECONDS = 60

_local = LocalLRU("course_lookup", 2048)


def courses_version() -> int:
    # Read beside the routing token (ADR 0190) when it was.
    return _version_or_made(readahead.get(VERSION_KEY))


def version_key_ahead(request, tenant) -> list[str]:
    """core.readahead provider: every tenant page that shows courses reads the version first."""
    return [VERSION_KEY]


def _version_or_made(version) -> int:
    if version is None:
        cache.add(VERSION_KEY, 1, None)
        version = cache.get(VERSION_KEY) or 1
    return version


def _bump(schema: str) -> None:
    with schema_context(schema):
        readahead.forget(VERSION_KEY)
        try:
            cache.incr(VERSION_KEY)
        except ValueError:  # no version yet: nothing cached under one either
            cache.add(VERSION_KEY, 1, None)


def courses_changed(**_) -> None:
    """Signal receiver: move the tenant's version on now and again once the change is committed.

    Now, so this transaction reads its own writes; after commit, because another request may
    have cached the old rows under the new version in between.
    """
    schema = connection.schema_name
    _bump(schema)
    transaction.on_commit(lambda: _bump(schema))


def cached(name: str, loader, *parts):
    key = ":".join(["courses", str(courses_version()), name, *map(str, parts)])
    return _through_cache(key, loader)


def courses_version_with(keys: list[str]) -> tuple[int, dict]:
    """The version and other entries of the tenant's cache in one round trip (the lesson door
    reads the learner's state beside it: one MGET instead of two GETs)."""
    values = {}
    unread = []
    for key in keys:  # a read-ahead provider may have named them (enrollments.cache)
        found, value = readahead.take(key)
        if found:
            if value is not None:
                values[key] = value
        else:
            unread.append(key)
    found, version = readahead.take(VERSION_KEY)
    if found and version is not None:
        if unread:
            values.update(cache.get_many(unread))
        return version, values
    values.update(cache.get_many([VERSION_KEY, *unread]))
    return _version_or_made(values.pop(VERSION_KEY, None)), values


def local_hint(name: str, *parts):
    """What `remember_hint` kept in this process for the current tenant (an id), or None."""
    tenant = current_tenant()
    if tenant is None:
        return None
    return local_hint_for(tenant, name, *parts)


def local_hint_for(tenant, name: str, *parts):
    """local_hint() for `tenant`, before it is the current one (a read-ahead provider)."""
    return _local.get((str(tenant.uuid), "hint", name, *map(str, parts)))


def remember_hint(value, name: str, *parts) -> None:
    """Keep a small fact (such as a slug's course id) per tenant in the bounded lookup cache.

    A hint only chooses which keys to read together; the answer is always checked against
    what is read, so a stale hint costs a round trip, never a wrong answer.
    """
    tenant = current_tenant()
    if tenant is not None:
        _local.put((str(tenant.uuid), "hint", name, *map(str, parts)), value)


def cached_copy(name: str, loader, *parts, version: int | None = None):
    """cached() with a per-process layer in front, for single model instances (the course lookup).

    The version is still read from the cache on every call, so a committed change is seen at
    once; only the entry's GET and unpickling are saved. Keyed by the tenant's uuid (never
    reused, unlike schema names). Each caller gets its own shallow copy, so setting an
    attribute on the result never changes what the next request sees.
    """
    tenant = current_tenant()
    version = courses_version() if version is None else version
    key = ":".join(["courses", str(version), name, *map(str, parts)])
    if tenant is None:
        return _through_cache(key, loader)
    local_key = (str(tenant.uuid), key)
    now = time.monotonic()
    hit = _local.get(local_key)
    if hit is not None and hit[0] > now:
        return copy.copy(hit[1])
    value = _through_cache(key, loader)
    _local.put(local_key, (now + LOCAL_SECONDS, value))
    return copy.copy(value)


def _through_cache(key: str, loader):
    value = cache.get(key)
    if value is None:
        value = loader()
        cache.set(key, value, ENTRY_SECONDS)
    return value
