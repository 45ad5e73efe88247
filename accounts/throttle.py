"""Failed sign-in throttling: per e-mail and per client address, in the tenant's cache."""

import hashlib

from django.core.cache import cache

WINDOW_SECONDS = 15 * 60
MAX_FAILURES = 10


def _keys(email: str, ip: str) -> list[str]:
    digest = hashlib.sha256((email or "").strip().lower().encode()).hexdigest()[:32]
    return [f"signin-fail:email:{digest}", f"signin-fail:ip:{ip}"]


def signin_blocked(*, email: str, ip: str) -> bool:
    values = cache.get_many(_keys(email, ip))
    return any(count >= MAX_FAILURES for count in values.values())


def signin_failed(*, email: str, ip: str) -> None:
    for key in _keys(email, ip):
        if cache.add(key, 1, WINDOW_SECONDS):
            continue
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, WINDOW_SECONDS)


def signin_succeeded(*, email: str, ip: str) -> None:
    cache.delete(_keys(email, ip)[0])
