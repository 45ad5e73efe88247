"""Throttling of every sign-in surface: per account and per address, with escalating waits (ADR 0070).

Each surface (`scope`: sign-in, reset request, reset confirm, invitation) keeps two
counters per site: one per account (the e-mail, or the reset link's user) and one per
client address. An attempt is counted *before* it is checked, in one atomic Redis
script with the test "must this wait?", so a burst of parallel guesses cannot slip
through between the check and the count. A successful attempt clears the account
counter, and takes itself and the wait it set off the address counter: waits there
follow failures, never a crowd of good sign-ins from one school's address.

Once a counter passes its free attempts, the next attempt waits BASE seconds, and every
further one twice as long as the last, up to a cap. Nobody is locked out: after the
wait one attempt goes through, so a person with the right password behind an address
that is being used for a spray gets in, at worst one cap later.

Keys carry the site (the tenant's uuid, or `public` for the operator admin) and go
through the cache's key function, which adds the schema as well (ADR 0008 purges them
with the tenant).
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypedDict

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from redis import RedisError
from redis.commands.core import Script
from redis.exceptions import RedisClusterException

from core.addresses import client_ip
from tenants.context import current_tenant, tenant_key

SIGNIN = "signin"
RESET_REQUEST = "reset-request"
RESET_CONFIRM = "reset-confirm"
INVITATION = "invitation"

# Seconds since the epoch; tests replace it to move time without sleeping.
clock: Callable[[], float] = time.time

logger = logging.getLogger(__name__)


class Where(TypedDict):
    """The keyword arguments of attempt() and succeeded(), kept once for the pair of calls."""

    scope: str
    account: str | None
    address: str


class Throttled(Exception):
    def __init__(self, wait: float):
        self.wait_seconds = max(1, math.ceil(wait))
        super().__init__(self.message)

    @property
    def message(self) -> str:
        unit = "second" if self.wait_seconds == 1 else "seconds"
        return f"Too many attempts; try again in {self.wait_seconds} {unit}."


@dataclass(frozen=True)
class _Counter:
    key: str
    free: int
    cap: float
    ttl: int
    sliding: bool  # every attempt renews the ttl (accounts), or it runs from the first (addresses)


# KEYS: the counters (hashes with fields n = attempts counted, until = epoch seconds).
# ARGV: now, base, then per key: free, cap, ttl, sliding (1 or 0).
# Returns 0 and counts the attempt on every counter, or returns the longest wait (as a
# string, seconds) and counts nothing.
_ATTEMPT = """
local now = tonumber(ARGV[1])
local base = tonumber(ARGV[2])
local wait = 0
for i, key in ipairs(KEYS) do
  local free = tonumber(ARGV[4 * i - 1])
  local n = tonumber(redis.call('HGET', key, 'n') or '0')
  if n >= free then
    local until_ = tonumber(redis.call('HGET', key, 'until') or '0')
    if until_ - now > wait then wait = until_ - now end
  end
end
if wait > 0 then return tostring(wait) end
for i, key in ipairs(KEYS) do
  local free = tonumber(ARGV[4 * i - 1])
  local cap = tonumber(ARGV[4 * i])
  local ttl = tonumber(ARGV[4 * i + 1])
  local n = redis.call('HINCRBY', key, 'n', 1)
  if n >= free then
    redis.call('HSET', key, 'until', tostring(now + math.min(base * 2 ^ (n - free), cap)))
  end
  if ARGV[4 * i + 2] == '1' or redis.call('TTL', key) < 0 then redis.call('EXPIRE', key, ttl) end
end
return 0
"""

# KEYS[1]: the address counter, KEYS[2] if given: the account counter.
# The account's counter goes; the address loses this attempt and the wait it set, so
# waits there follow failures only and a crowd of good sign-ins never queues.
_SUCCEEDED = """
if redis.call('HGET', KEYS[1], 'n') then
  local n = redis.call('HINCRBY', KEYS[1], 'n', -1)
  if n <= 0 then redis.call('DEL', KEYS[1]) else redis.call('HDEL', KEYS[1], 'until') end
end
if KEYS[2] then redis.call('DEL', KEYS[2]) end
return 0
"""


_scripts: dict[str, Script] = {}


def _run(source: str, keys: list[str], args: list) -> Any:
    # The cache's own redis-py client (lms.cache keeps one per connection pool): the
    # counters live in the cache's Redis database and need no connection of their own.
    # A Script sends EVALSHA, and loads itself the first time the server lacks it.
    client = cache._cache.get_client(None, write=True)
    script = _scripts.get(source)
    if script is None:
        script = _scripts[source] = Script(client, source)
    return script(keys=keys, args=args, client=client)


def _config() -> dict:
    return settings.SIGNIN_THROTTLE


def client_address(request: HttpRequest) -> str:
    """The client's address as counted: an IPv6 client by its /64, which one host usually owns whole.

    The address itself is `core.addresses.client_ip` (REMOTE_ADDR, or X-Forwarded-For read
    from the right when REMOTE_ADDR is one of TRUSTED_PROXIES; ADR 0185)."""
    raw = client_ip(request)
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return raw[:64]
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _digest(value: str) -> str:
    return hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]


def _key(scope: str, kind: str, value: str) -> str:
    tenant = current_tenant()
    parts = ("throttle", scope, kind, _digest(value))
    # One script reads a site's account and address counters together: on a Redis Cluster they
    # must share a slot, hence the hash tag of the site (ADR 0111).
    if tenant is not None:
        raw = tenant_key(*parts, tenant=tenant, one_slot=True)
    else:
        raw = ":".join(("{public}", *parts))
    return cache.make_key(raw)


def _counters(scope: str, account: str | None, address: str) -> list[_Counter]:
    config = _config()
    account_free, address_free = config["FREE"][scope]
    counters = [
        _Counter(
            _key(scope, "address", address),
            address_free,
            config["ADDRESS_CAP_SECONDS"],
            config["ADDRESS_WINDOW_SECONDS"],
            sliding=False,
        )
    ]
    if account:
        account_counter = _Counter(
            _key(scope, "account", account),
            account_free,
            config["ACCOUNT_CAP_SECONDS"],
            config["ACCOUNT_FORGET_SECONDS"],
            sliding=True,
        )
        counters.insert(0, account_counter)
    return counters


def attempt(*, scope: str, account: str | None, address: str) -> None:
    """Count an attempt on `scope` by this account from this address, or raise Throttled (counting nothing).

    The attempt stays counted as a failure unless `succeeded()` follows.
    """
    config = _config()
    counters = _counters(scope, account, address)
    args = [clock(), config["BASE_SECONDS"]]
    for counter in counters:
        args += [counter.free, counter.cap, counter.ttl, int(counter.sliding)]
    try:
        wait = float(_run(_ATTEMPT, [c.key for c in counters], args))
    except (RedisError, RedisClusterException):
        # Fail open, like every cache read here: a Redis outage must not stop everyone signing in.
        logger.warning("throttle.unavailable scope=%s", scope, exc_info=True)
        return
    if wait > 0:
        raise Throttled(wait)


def succeeded(*, scope: str, account: str | None, address: str) -> None:
    """The attempt was good: forget the account's failures and take this attempt off the address."""
    keys = [_key(scope, "address", address)]
    if account:
        keys.append(_key(scope, "account", account))
    try:
        _run(_SUCCEEDED, keys, [])
    except (RedisError, RedisClusterException):
        logger.warning("throttle.unavailable scope=%s", scope, exc_info=True)
