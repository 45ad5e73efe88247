"""One version number per tenant for everything learners see about courses.

Catalog lists, categories and course lookups are cached under the current version; any
committed change to a course, a revision or a category moves the version on, so stale
entries are simply never read again (they expire on their own). The version lives in the
tenant's cache namespace like every other key (django_tenants.cache.make_key).
"""

from __future__ import annotations

from django.core.cache import cache
from django.db import connection, transaction
from django_tenants.utils import schema_context

VERSION_KEY = "courses:version"
ENTRY_SECONDS = 600


def courses_version() -> int:
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, 1, None)
        version = cache.get(VERSION_KEY) or 1
    return version


def _bump(schema: str) -> None:
    with schema_context(schema):
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
    value = cache.get(key)
    if value is None:
        value = loader()
        cache.set(key, value, ENTRY_SECONDS)
    return value
