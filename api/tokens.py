"""Short-lived access tokens (JWT, HS256) bound to one tenant and its host (ADR 0151).

A token carries the tenant's uuid in `tenant`, the host it was issued on as `aud`, the
person in `sub`, its scopes, and the API key it came from (`kid`), if any. Each tenant
signs with its own key, derived from SECRET_KEY and the tenant's uuid: a token of one
tenant fails the signature on another even before its claims are read.
"""

from __future__ import annotations

import time
import uuid

import jwt
from django.conf import settings
from django.utils.crypto import salted_hmac

from tenants.context import require_tenant

ISSUER = "lms"
ALGORITHM = "HS256"


class TokenRefused(Exception):
    """Why a bearer token cannot be used here; the sentence goes in the 401 body."""


def _signing_key(tenant) -> bytes:
    return salted_hmac("lms.api.access-token", str(tenant.uuid), algorithm="sha256").digest()


def token_issue(*, user, host: str, scopes: list[str], key_id: int | None = None) -> tuple[str, int]:
    """A signed token for `user` on `host` and the active tenant; (token, seconds it lives)."""
    tenant = require_tenant()
    lifetime = settings.API_TOKEN_SECONDS
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": host,
        "sub": str(user.pk),
        "tenant": str(tenant.uuid),
        "scopes": sorted(scopes),
        "iat": now,
        "exp": now + lifetime,
        "jti": uuid.uuid4().hex,
    }
    if key_id is not None:
        claims["kid"] = key_id
    return jwt.encode(claims, _signing_key(tenant), algorithm=ALGORITHM), lifetime


def token_read(token: str, *, host: str) -> dict:
    """The claims of a token valid on `host` and the active tenant; TokenRefused otherwise."""
    tenant = require_tenant()
    try:
        claims = jwt.decode(
            token,
            _signing_key(tenant),
            algorithms=[ALGORITHM],
            audience=host,
            issuer=ISSUER,
            options={"require": ["exp", "iat", "aud", "iss", "sub", "tenant"]},
            leeway=5,
        )
    except jwt.ExpiredSignatureError:
        raise TokenRefused("The access token has expired: ask for a new one at /api/v1/auth/token.") from None
    except jwt.InvalidAudienceError:
        raise TokenRefused("The access token was issued for another site.") from None
    except jwt.PyJWTError:
        raise TokenRefused("The access token is not valid here.") from None
    if claims["tenant"] != str(tenant.uuid):
        raise TokenRefused("The access token was issued for another site.")
    if not isinstance(claims.get("scopes"), list):
        raise TokenRefused("The access token is not valid here.")
    return claims
