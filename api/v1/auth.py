"""Access tokens and "who am I"."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from core.errors import Forbidden, InvalidRequest
from core.http import json_body

from ..gate import Unauthorized
from ..keys import scope_allows
from ..tokens import token_issue
from .base import PROBLEMS

router = Router(tags=["auth"])


class TokenIn(Schema):
    scopes: list[str] | None = None


class TokenOut(Schema):
    access_token: str
    token_type: str
    expires_in: int
    scopes: list[str]


class MeOut(Schema):
    id: int
    email: str
    full_name: str
    role: str
    via: str
    scopes: list[str]
    key_name: str | None


@router.post(
    "/auth/token",
    response={200: TokenOut, **PROBLEMS},
    summary="A short-lived access token",
    openapi_extra={
        "requestBody": {
            "required": False,
            "content": {"application/json": {"schema": TokenIn.model_json_schema()}},
        }
    },
)
def token_create(request: HttpRequest):
    """Trade an API key (or the browser session) for a token valid on this site only, for 15 minutes.

    The token carries the site as its audience and the organization in a claim: it is refused
    on any other site. Ask for fewer `scopes` than the key has to hand a narrower token on.
    """
    principal = request.principal
    if principal is None:
        raise Unauthorized("Send an API key (Authorization: Bearer lms_...) or sign in first.")
    wanted = sorted(principal.scopes)
    body = json_body(request, max_bytes=4096, empty={}) if request.content_type == "application/json" else {}
    if not isinstance(body, dict):
        raise InvalidRequest('The body is a JSON object: {"scopes": [...]}, or empty.')
    asked = body.get("scopes")
    if asked is not None:
        if not isinstance(asked, list) or not all(isinstance(s, str) for s in asked):
            raise InvalidRequest("scopes is a list of scope names.", field="scopes")
        refused = [s for s in asked if not scope_allows(principal.scopes, s)]
        if refused:
            raise Forbidden(f"The key cannot hand on the scope {refused[0]}.", code="missing_scope")
        wanted = sorted(set(asked))
    token, lifetime = token_issue(
        user=principal.user,
        host=request.get_host(),
        scopes=wanted,
        key_id=principal.key.pk if principal.key is not None else None,
    )
    return {"access_token": token, "token_type": "Bearer", "expires_in": lifetime, "scopes": wanted}


@router.get("/me", response={200: MeOut, **PROBLEMS}, summary="Who the credentials act as")
def me(request: HttpRequest):
    principal = request.principal
    if principal is None:
        raise Unauthorized("Send an API key (Authorization: Bearer lms_...) or sign in first.")
    user = principal.user
    return {
        "id": user.pk,
        "email": user.email,
        "full_name": user.full_name,
        "role": user.role,
        "via": principal.via,
        "scopes": sorted(principal.scopes),
        "key_name": principal.key.name if principal.key is not None else None,
    }
