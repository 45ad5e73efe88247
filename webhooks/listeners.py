"""Which of the tenant's endpoints hear which event types, without a query per emit (ADR 0201).

Every emitting write asks this. Nearly every tenant has no endpoint, and a quiz hand-in
emits three event types, so the answer is read at most once per transaction (the memo,
dropped when the transaction commits or rolls back) and, across requests, kept in this
process per tenant for as long as the tenant's *listeners version* in Redis is the one it
was read under. The version comes with the request's first Redis read (core.readahead) for
requests that write, so an emit then costs no query and no round trip of its own.

The version is a random number, never a counter: a Redis that lost the key (restart,
eviction, the purge of a dropped schema) starts a new random one, which no process can
have cached a map under. A transaction that writes endpoints first counts itself in flight
(the key then holds -n for n such transactions, with an expiry) and, after commit, counts
itself out; the last one out starts a new version. While a count stands, readers go to the
table and keep nothing: so a reader can never keep the old map under a version that
outlives the commit, even when the after-commit step fails (Redis unreachable then): the
count just stands until it expires, and the table is read until then. A write that may add
a listener is refused if it cannot count itself in.

The map may name more endpoints than listen now (a stale entry, a test's rolled-back
write): the outbox's write statement checks each endpoint again (outbox._WRITE_SQL), so an
extra id costs nothing but that statement. It must never name fewer.
"""

from __future__ import annotations

import logging
import secrets

from django.core.cache import cache
from django.core.signals import request_started
from django.db import connection, transaction

from core import readahead
from core.errors import DomainError
from core.local_cache import LocalLRU

log = logging.getLogger(__name__)

VERSION_KEY = "webhooks:listeners"
# How long a count of writers in flight stands when one never counts itself out (rolled back,
# or Redis unreachable after commit). Longer than any transaction that writes endpoints.
CHANGING_SECONDS = 600

# tenant uuid -> (version, {event type: endpoint ids}); at most
# PROCESS_CACHE_MAX["webhook_listeners"] tenants (ADR 0115).
_local = LocalLRU("webhook_listeners", 2048)

Listeners = dict[str, tuple[int, ...]]

_LISTENERS_SQL = "SELECT id, event_types FROM webhooks_webhookendpoint WHERE is_active ORDER BY id"

# The version, or a new one when Redis has none: one round trip either way.
_GET_OR_START = (
    "local v = redis.call('GET', KEYS[1]) "
    "if v then return v end "
    "redis.call('SET', KEYS[1], ARGV[1]) "
    "return ARGV[1]"
)
# In a transaction that writes endpoints: count one more writer in flight (ARGV[1] = 1), or
# only refresh the expiry (0: this transaction is counted already). -n: n writers in flight.
_MARK = (
    "local v = tonumber(redis.call('GET', KEYS[1]) or '') "
    "local n = -1 "
    "if v and v < 0 then n = v - tonumber(ARGV[1]) end "
    "redis.call('SET', KEYS[1], n, 'EX', ARGV[2]) "
    "return n"
)
# After its commit: one writer fewer; the last one out (or one finding no count) starts a new
# version (ARGV[1]). A writer that could not count itself in (ARGV[2] = 0) leaves a count alone.
_SETTLE = (
    "local v = tonumber(redis.call('GET', KEYS[1]) or '') "
    "if v and v < 0 then "
    "  if ARGV[2] == '0' then return 0 end "
    "  if v < -1 then redis.call('SET', KEYS[1], v + 1, 'KEEPTTL') return 0 end "
    "end "
    "redis.call('SET', KEYS[1], ARGV[1]) "
    "return 1"
)


class ListenersUnannounced(DomainError):
    """An endpoint write that other workers could not be told about: nothing was changed."""

    status = 503
    code = "webhooks_unavailable"
    title = "Try again in a minute"


def _new_version() -> int:
    return secrets.randbits(62) + 1


def _full_key(schema: str) -> str:
    return readahead.schema_key(schema, VERSION_KEY)


def _client(key: str):
    return cache._cache.get_client(key, write=True)


def version_key_ahead(request, tenant) -> list[str]:
    """core.readahead provider: a request that may write (and so emit) reads the version first."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return []
    return [VERSION_KEY]


# --- The transaction's memo -----------------------------------------------------------------


class _Memo:
    """The map read in this transaction; an on-commit callback, so a commit retires it."""

    __slots__ = ("fired", "listeners", "schema")

    def __init__(self, schema: str, listeners: Listeners) -> None:
        self.schema, self.listeners, self.fired = schema, listeners, False

    def __call__(self) -> None:
        self.fired = True


def _memo_valid(memo: _Memo, schema: str) -> bool:
    """A rollback (of the transaction, or of the savepoint the memo was made in) removes its
    callback from the list, and a commit runs it: either way it is no longer the answer."""
    if memo.fired or memo.schema != schema:
        return False
    return any(callback is memo for _, callback, _ in connection.run_on_commit)


def _drop_memo(**_) -> None:
    """A request starts a transaction of its own (in tests too, where one spans the requests)."""
    connection._webhook_listeners = None


request_started.connect(_drop_memo, dispatch_uid="webhooks.listeners.request")


def listeners_for(event_type: str) -> tuple[int, ...]:
    """The ids of the active endpoints of the current tenant that chose `event_type`."""
    return _listeners().get(event_type, ())


def _listeners() -> Listeners:
    schema = connection.schema_name
    memo = getattr(connection, "_webhook_listeners", None)
    if memo is not None and _memo_valid(memo, schema):
        return memo.listeners
    listeners = _read(schema)
    if connection.in_atomic_block:  # outside one every statement is its own transaction
        memo = _Memo(schema, listeners)
        transaction.on_commit(memo)
        connection._webhook_listeners = memo
    return listeners


def _read(schema: str) -> Listeners:
    """The map: from this process when the tenant's version still matches, else the table.

    The version is read before the table, so a map is never kept under a version set after
    the rows it was read from changed."""
    uuid = getattr(getattr(connection, "tenant", None), "uuid", None)  # schema_context(): none
    version = _version(schema)
    local_key = str(uuid) if uuid is not None and version is not None and version > 0 else None
    if local_key is not None:
        hit = _local.get(local_key)
        if hit is not None and hit[0] == version:
            return hit[1]
    listeners = _select()
    if local_key is not None:
        _local.put(local_key, (version, listeners))
    return listeners


def _select() -> Listeners:
    # Plain SQL: on every emitting write, compiling the ORM query cost more than running it.
    with connection.cursor() as cursor:
        cursor.execute(_LISTENERS_SQL)
        rows = cursor.fetchall()
    listeners: dict[str, list[int]] = {}
    for endpoint_id, event_types in rows:
        for event_type in event_types:
            listeners.setdefault(event_type, []).append(endpoint_id)
    return {event_type: tuple(ids) for event_type, ids in listeners.items()}


def _version(schema: str) -> int | None:
    """The tenant's listeners version (negative while a change is in flight); None without Redis."""
    found, value = readahead.take(VERSION_KEY)
    try:
        if found and value is not None:
            return int(value)
        key = _full_key(schema)
        return int(_client(key).eval(_GET_OR_START, 1, key, _new_version()))
    except Exception as exc:  # Redis unreachable or a foreign value: read the table
        log.warning("webhook listeners of %s read without a version: %s", schema, exc)
        return None


# --- Writes ---------------------------------------------------------------------------------


class _Settle:
    """After commit: count this transaction out, and start a new version when it was the last
    writer in flight (one callback per transaction and tenant)."""

    __slots__ = ("fired", "joined", "schema")

    def __init__(self, schema: str) -> None:
        self.schema, self.joined, self.fired = schema, False, False

    def __call__(self) -> None:
        self.fired = True
        key = _full_key(self.schema)
        try:
            _client(key).eval(_SETTLE, 1, key, _new_version(), int(self.joined))
        except Exception as exc:  # the count stands until it expires: readers use the table
            log.warning("webhook listeners of %s not settled after commit: %s", self.schema, exc)


def listeners_changed(*, strict: bool) -> None:
    """The current tenant's endpoints changed in this transaction: count it among the writers
    in flight now (readers then use the table), and after commit start a new version.

    `strict`: the change may add a listener (an active endpoint was saved). If Redis cannot
    take the count then, other workers could keep a map without it, so the write is
    refused (ListenersUnannounced, raised inside the transaction: it rolls back). A change
    that only removes listeners (a disable, a delete) goes ahead: an extra id in a stale map
    is checked again where deliveries are written.
    """
    schema = connection.schema_name
    connection._webhook_listeners = None
    readahead.forget(VERSION_KEY)
    settle = None
    for _, callback, _ in connection.run_on_commit:
        if isinstance(callback, _Settle) and callback.schema == schema and not callback.fired:
            settle = callback  # runs when this block's rows commit (or goes with them)
            break
    first = settle is None
    if settle is None:
        settle = _Settle(schema)
    key = _full_key(schema)
    try:
        _client(key).eval(_MARK, 1, key, int(not settle.joined), CHANGING_SECONDS)
        settle.joined = True
    except Exception as exc:
        if strict:
            raise ListenersUnannounced(
                "Webhook endpoints cannot be changed while the cache is unreachable; nothing was "
                "changed. Try again in a minute."
            ) from exc
        log.warning("webhook listeners of %s changed without a count: %s", schema, exc)
    if first:  # after the count (outside a transaction the callback runs at once)
        transaction.on_commit(settle)


_MAP_FIELDS = frozenset({"is_active", "event_types"})


def endpoint_saved(sender, instance, update_fields=None, **_) -> None:
    """post_save receiver: an active endpoint may listen to more than before. A save of other
    fields alone (a secret's rotation) changes no one's map."""
    if update_fields is not None and not _MAP_FIELDS & set(update_fields):
        return
    listeners_changed(strict=bool(instance.is_active))


def endpoint_deleted(sender, instance, **_) -> None:
    listeners_changed(strict=False)


def listeners_forget_local() -> None:
    """Forget what this process and this transaction keep (tests: "another process")."""
    _local.clear()
    connection._webhook_listeners = None


def listeners_forget(schemas: list[str]) -> None:
    """Forget everything known about these schemas' listeners, here and in Redis: for a test's
    writes, which roll back without a signal (a version set for rows that are gone)."""
    listeners_forget_local()
    keys = [_full_key(schema) for schema in schemas]
    _client(keys[0]).delete(*keys)
