"""The session engine: Django's cached_db, reading its entry from the request's read-ahead (ADR 0190).

The session of a signed-in request is the first thing it reads after its tenant; naming its
cache key (and the key of its user, once this process has seen the session) to
core.readahead lets the routing read fetch both in the same round trip. On a miss, or
when nothing was read ahead, it is Django's cached_db engine unchanged.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends import cached_db
from django.db import connection

from core import readahead
from core.local_cache import LocalLRU

from .cache import user_cache_key

# (schema, session key) -> the user id its data held last time: which user entry to read
# ahead. A hint only: the user is always the one the session names (accounts.backends).
_session_user = LocalLRU("session_user", 4096)
_SESSION_KEY_SHAPE = re.compile(r"[a-z0-9]{8,64}")


class SessionStore(cached_db.SessionStore):
    def _validate_session_key(self, key):
        # Django only asks for 8 characters: a cookie of any other shape than the keys it makes
        # is no session, and never becomes a cache key or a query.
        return bool(key) and _SESSION_KEY_SHAPE.fullmatch(key) is not None

    def load(self):
        # Never self.cache_key here or in save(): it makes a session key when there is none.
        found, data = readahead.take(cached_db.KEY_PREFIX + (self.session_key or ""))
        if not found or data is None:
            data = super().load()
        user_id = data.get(SESSION_KEY) if isinstance(data, dict) else None
        if user_id is not None and self.session_key:
            _session_user.put((connection.schema_name, self.session_key), user_id)
        return data

    def save(self, must_create=False):
        if self.session_key:
            readahead.forget(cached_db.KEY_PREFIX + self.session_key)
        super().save(must_create=must_create)

    def delete(self, session_key=None):
        if session_key or self.session_key:
            readahead.forget(cached_db.KEY_PREFIX + (session_key or self.session_key))
        super().delete(session_key)


def _cookie_session_key(request) -> str | None:
    """The request's session cookie if it has the shape of a key Django makes, else None."""
    session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME, "")
    return session_key if _SESSION_KEY_SHAPE.fullmatch(session_key) else None


def _user_hint(tenant, session_key: str | None) -> int | None:
    return None if session_key is None else _session_user.get((tenant.schema_name, session_key))


def session_user_hint(request, tenant) -> int | None:
    """The user id this process last saw in the request's session, or None (a hint for read-ahead
    providers: whoever uses it checks it against the user the session really holds)."""
    return _user_hint(tenant, _cookie_session_key(request))


def session_keys_ahead(request, tenant) -> list[str]:
    """The session's entry, and its user's when this process has seen the session before."""
    session_key = _cookie_session_key(request)
    if session_key is None:
        return []
    keys = [cached_db.KEY_PREFIX + session_key]
    user_id = _user_hint(tenant, session_key)
    if user_id is not None:
        keys.append(user_cache_key(user_id))
    return keys
