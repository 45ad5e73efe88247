"""The signed-in person, cached across requests (ADR 0050).

Every signed-in request loads its user by the id in the session. The row changes rarely
(role, activity, password, name, last login), and every such change is a `save()`, so the
user is kept in the tenant's cache namespace (django_tenants.cache.make_key puts the schema
in front of the key: user 5 of acme and user 5 of globex are different entries) and
forgotten on every save or delete, now and again after commit. A role change, a
deactivation or a new password therefore applies on the very next request.
"""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection, transaction
from django_tenants.utils import schema_context

from core import readahead

logger = logging.getLogger(__name__)

# A safety net only: writes forget the entry at once.
USER_SECONDS = 300


def user_cache_key(user_id) -> str:
    return f"auth-user:{user_id}"


def user_get_cached(user_id):
    """The user with this primary key in the active schema, or None if there is none."""
    User = get_user_model()
    try:
        user_id = User._meta.pk.to_python(user_id)
    except Exception:
        return None
    key = user_cache_key(user_id)
    try:
        user = readahead.get(key)  # read beside the routing token (ADR 0190) when it was
    except Exception:
        logger.warning("accounts.user_cache_unavailable", exc_info=True)
        return User._default_manager.filter(pk=user_id).first()
    if user is None:
        user = User._default_manager.filter(pk=user_id).first()
        if user is not None:
            try:
                cache.set(key, user, USER_SECONDS)
            except Exception:
                logger.warning("accounts.user_cache_unavailable", exc_info=True)
    return user


def _forget(schema: str, key: str) -> None:
    with schema_context(schema):
        try:
            cache.delete(key)
        except Exception:
            logger.warning("accounts.user_cache_forget_failed key=%s", key, exc_info=True)


def user_changed(sender, instance, **_) -> None:
    """Signal receiver for User saves and deletes: forget the cached person now and after commit."""
    key = user_cache_key(instance.pk)
    schema = connection.schema_name
    readahead.forget(key)
    try:
        cache.delete(key)
    except Exception:
        logger.warning("accounts.user_cache_forget_failed key=%s", key, exc_info=True)
    transaction.on_commit(lambda: _forget(schema, key))
