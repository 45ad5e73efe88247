"""API keys: made by tenant admins, shown once, stored hashed, scoped, revocable (ADR 0151)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from accounts.audit import audit_record
from accounts.permissions import is_tenant_admin
from core.errors import Forbidden, InvalidRequest

from .models import ApiKey

# Areas of the API; a key gets "<area>:read" or "<area>:write" (write includes read).
AREAS = {
    "catalog": "Browse the catalog and course outlines",
    "learning": "Enroll, open and complete lessons, record video progress",
    "assessments": "Take quizzes, hand in assignments, read results and certificates",
    "analytics": "Read course reports (course staff and admins)",
    "authoring": "Create and edit courses, modules and lessons; publish and restore",
    "people": "People, roles and invitations (tenant admins)",
    "webhooks": "Webhook endpoints, their secrets and delivery log (tenant admins)",
}
SCOPES = tuple(f"{area}:{level}" for area in AREAS for level in ("read", "write"))
KEY_PREFIX = "lms_"


def _keys_changed() -> None:
    from .gate import keys_changed

    keys_changed()


class ApiKeyError(InvalidRequest):
    """A key request that cannot be honoured: the sentence says what to change."""


def scope_allows(scopes, needed: str) -> bool:
    area, _, level = needed.partition(":")
    return needed in scopes or (level == "read" and f"{area}:write" in scopes)


def secret_hash(secret: str) -> str:
    # The secret is 32 random bytes: a fast hash is enough, nothing to brute-force (unlike passwords).
    return hashlib.sha256(secret.encode()).hexdigest()


def split_key(raw: str) -> tuple[str, str] | None:
    """("prefix", "secret") of a well-formed key, None for anything else."""
    if not raw.startswith(KEY_PREFIX) or len(raw) > 120:
        return None
    prefix, sep, secret = raw[len(KEY_PREFIX) :].partition("_")
    if not sep or not prefix.isalnum() or len(prefix) > 16 or not secret:
        return None
    return prefix, secret


def key_matches(key: ApiKey, secret: str) -> bool:
    return hmac.compare_digest(key.secret_hash, secret_hash(secret))


@dataclass(frozen=True)
class NewKey:
    key: ApiKey
    plaintext: str  # shown once, never stored


def _clean_scopes(scopes) -> list[str]:
    scopes = sorted(set(scopes or ()))
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise ApiKeyError(f"Unknown scope {unknown[0]!r}: choose from {', '.join(SCOPES)}.", field="scopes")
    if not scopes:
        raise ApiKeyError("Choose at least one scope for the key.", field="scopes")
    return scopes


@transaction.atomic
def api_key_create(*, actor, name: str, scopes: list[str], rate_limit_per_minute: int = 0) -> NewKey:
    """A new key acting as `actor` (a tenant admin) within `scopes`; the plaintext is returned once."""
    if not is_tenant_admin(actor):
        raise Forbidden("Only the organization's admins can create API keys.", code="not_tenant_admin")
    name = (name or "").strip()
    if not name:
        raise ApiKeyError("Give the key a name, so you know later what uses it.", field="name")
    if len(name) > 100:
        raise ApiKeyError("A key's name has at most 100 characters.", field="name")
    if not 0 <= rate_limit_per_minute <= 100_000:
        raise ApiKeyError(
            "The rate limit is between 0 (the default) and 100000.", field="rate_limit_per_minute"
        )
    scopes = _clean_scopes(scopes)
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        name=name,
        prefix=prefix,
        secret_hash=secret_hash(secret),
        scopes=scopes,
        created_by=actor,
        rate_limit_per_minute=rate_limit_per_minute,
    )
    audit_record(actor=actor, action="api_key.created", target=key, after={"name": name, "scopes": scopes})
    return NewKey(key, f"{KEY_PREFIX}{prefix}_{secret}")


@transaction.atomic
def api_key_revoke(*, actor, key: ApiKey) -> ApiKey:
    """Revoke a key at once: its next request and every token made from it are refused."""
    if not is_tenant_admin(actor):
        raise Forbidden("Only the organization's admins can revoke API keys.", code="not_tenant_admin")
    key = ApiKey.objects.select_for_update().get(pk=key.pk)
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        # Now, so this transaction's later reads see it; after commit, because another request
        # may have cached the old row under the new version in between.
        _keys_changed()
        transaction.on_commit(_keys_changed)
        audit_record(
            actor=actor,
            action="api_key.revoked",
            target=key,
            before={"revoked": False},
            after={"revoked": True},
        )
    return key
