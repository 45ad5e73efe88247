"""Reads that may go to the streaming replica: dashboards, reports and their exports.

`DATABASE_REPLICA_URL` adds the database alias `replica` (settings.py); unset, there is
none and everything reads from `default`. Reporting selectors are decorated with
`@replica_read`; inside one, `ReplicaRouter` sends every read to the replica and every
write to `default` (a write is never sent to a read-only standby, even for an object
loaded from it).

django-tenants sets the tenant's search_path on the default connection only (the
middleware calls `connection.set_tenant`). The replica connection is another
connection: `reading_from_replica()` gives it the default connection's tenant each time
it is entered, before any query, so it follows the request's tenant on every request
of a thread, never the tenant of the request before.

Reads stay on `default` when there is no replica, inside a transaction on `default`
(the caller may read its own uncommitted writes), and when the replica does not answer:
then a warning is logged and the page is served from `default`, a little slower.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from django.db import DEFAULT_DB_ALIAS, DatabaseError, OperationalError, connection, connections

logger = logging.getLogger(__name__)

REPLICA = "replica"
# After the replica failed to answer, this process reads from default for this long
# instead of waiting on a connect timeout on every page.
RETRY_AFTER_SECONDS = 30.0
_down_until = 0.0

_reading_from: contextvars.ContextVar[str | None] = contextvars.ContextVar("reading_from", default=None)


def replica_configured() -> bool:
    return REPLICA in connections.settings


@contextmanager
def reading_from_replica() -> Iterator[str]:
    """Route the reads of the block to the replica with the current tenant; yields the alias used."""
    current = _reading_from.get()
    if current is not None:  # nested: the outer block chose already
        yield current
        return
    with _reading(_usable_alias()) as alias:
        yield alias


def replica_read(func):
    """Run a selector (a read, safe to run twice) with its reads on the replica.

    If the replica fails in the middle (it went away after the connection was checked),
    the selector runs again on default.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with reading_from_replica() as alias:
            if alias != REPLICA:
                return func(*args, **kwargs)
            try:
                return func(*args, **kwargs)
            except OperationalError as exc:
                _mark_down(exc)
        with _reading(DEFAULT_DB_ALIAS):
            return func(*args, **kwargs)

    return wrapper


def reading_from_default():
    """Reads of the block on default, even inside a replica read: rows just written
    (a new course revision) may not have reached the replica yet."""
    return _reading(DEFAULT_DB_ALIAS)


@contextmanager
def _reading(alias: str) -> Iterator[str]:
    token = _reading_from.set(alias)
    try:
        yield alias
    finally:
        _reading_from.reset(token)


def _mark_down(exc: Exception) -> None:
    global _down_until
    _down_until = time.monotonic() + RETRY_AFTER_SECONDS
    logger.warning("replica.unavailable reading from default instead: %s", exc)
    with suppress(DatabaseError):
        connections[REPLICA].close()


def _usable_alias() -> str:
    if not replica_configured() or connection.in_atomic_block or time.monotonic() < _down_until:
        return DEFAULT_DB_ALIAS
    replica = connections[REPLICA]
    # The tenant before any query: the replica's search_path is the request's, always.
    replica.set_tenant(connection.tenant, getattr(connection, "include_public_schema", True))
    try:
        replica.ensure_connection()
    except DatabaseError as exc:
        _mark_down(exc)
        return DEFAULT_DB_ALIAS
    return REPLICA


class ReplicaRouter:
    """Reads inside reading_from_replica() go to the alias it chose; every write goes to default."""

    def db_for_read(self, model, **hints):
        return _reading_from.get()

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        # The replica holds the same rows as default: objects from either may be related.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # Migrations reach the replica through streaming replication, never directly.
        return False if db == REPLICA else None
