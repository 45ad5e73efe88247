"""The API object, its security schemes and the one mapping of errors to problem bodies."""

from __future__ import annotations

import msgspec
from django.core.exceptions import PermissionDenied
from django.http import Http404
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.renderers import BaseRenderer
from ninja.responses import NinjaJSONEncoder
from ninja.security import APIKeyCookie, HttpBearer

from core.errors import DomainError, Forbidden, NotFound
from core.http import PROBLEM_CONTENT_TYPE

from ..gate import Unauthorized, problem


class Bearer(HttpBearer):
    """An API key (lms_...) or an access token; the gate already checked it."""

    def __call__(self, request):
        principal = getattr(request, "principal", None)
        return principal if principal is not None and principal.via != "session" else None

    def authenticate(self, request, token):  # pragma: no cover - __call__ answers
        return None


class Session(APIKeyCookie):
    """The browser session of our own pages (unsafe methods need the CSRF header)."""

    param_name = "sessionid"

    def __call__(self, request):
        principal = getattr(request, "principal", None)
        return principal if principal is not None and principal.via == "session" else None

    def authenticate(self, request, key):  # pragma: no cover - __call__ answers
        return None


AUTH = [Bearer(), Session(csrf=False)]


class Problem(Schema):
    """An RFC 9457 problem body."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    field: str | None = None
    problems: list[str] | None = None
    errors: list[dict] | None = None


class LmsAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        """The document, with refusals described as what they are: RFC 9457 problem bodies."""
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if str(status) >= "400" and "application/json" in content:
                        content[PROBLEM_CONTENT_TYPE] = content.pop("application/json")
        return schema


class FastJSONRenderer(BaseRenderer):
    """JSON bodies encoded by msgspec (in C): the same JSON as ninja's encoder, compact.

    Types msgspec does not know (a pydantic model, a lazy string) go through ninja's encoder.
    """

    media_type = "application/json"
    _fallback = NinjaJSONEncoder()

    def render(self, request, data, *, response_status: int):
        return msgspec.json.encode(data, enc_hook=self._fallback.default)


api = LmsAPI(
    renderer=FastJSONRenderer(),
    title="LMS API",
    version="1",
    description=(
        "The REST API of one organization's site. Authenticate with an API key "
        "(`Authorization: Bearer lms_...`, made by an admin in Admin → API keys), a short-lived "
        "access token from `POST /api/v1/auth/token`, or the browser session. Errors are "
        "RFC 9457 problem bodies (`application/problem+json`)."
    ),
    urls_namespace="api-v1",
    openapi_url="/openapi.json",
    docs_url=None,
    auth=AUTH,
)


@api.exception_handler(DomainError)
def _domain_error(request, exc: DomainError):
    # A refused publish lists every problem of the draft, not only the first.
    problems = getattr(exc, "problems", None)
    return problem(exc, problems=problems) if problems else problem(exc)


@api.exception_handler(Http404)
def _not_found(request, exc):
    return problem(NotFound(str(exc) or "Not found."))


@api.exception_handler(PermissionDenied)
def _denied(request, exc):
    return problem(Forbidden(str(exc) or "Not allowed."))


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return problem(Unauthorized("Sign in, or send an API key or access token: Authorization: Bearer <key>."))


@api.exception_handler(ValidationError)
def _invalid(request, exc: ValidationError):
    errors = [
        {"field": ".".join(str(p) for p in e.get("loc", ())[1:]) or None, "detail": e.get("msg", "")}
        for e in exc.errors
    ]
    first = errors[0] if errors else {"field": None, "detail": "The request is not valid."}
    error = DomainError(
        f"{first['field']}: {first['detail']}" if first["field"] else str(first["detail"]),
        code="invalid",
        field=first["field"],
        status=422,
    )
    return problem(error, errors=errors)


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    return problem(DomainError(str(exc), code="http_error", status=exc.status_code))


PROBLEMS = {400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem, 422: Problem, 429: Problem}
