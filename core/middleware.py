"""The edge: refuse unreadable input before any view runs, and answer refusals the same way.

`EdgeMiddleware` (right after tenant routing) checks the path, the query string, the
headers, a form body and the Content-Length; NUL characters and lone surrogates are
refused with a 400, an HTML page for pages and an RFC 9457 problem body for JSON clients.
It also turns `core.http.InvalidInput` raised by a view into that problem body.

`ErrorPagesMiddleware` (last) shows the product's own 400/403/404/500 pages when DEBUG
is on, as in the demo, instead of Django's technical pages (which list every URL pattern
and the settings). It is not loaded when DEBUG is off, where Django shows them anyway, nor
with DEBUG_TECHNICAL_ERRORS=True for a developer who wants the tracebacks in the browser.
"""

from __future__ import annotations

import logging
import re
import sys

from django.conf import settings
from django.core import signals
from django.core.exceptions import (
    BadRequest,
    MiddlewareNotUsed,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.template.loader import render_to_string
from django.urls import Resolver404, get_resolver

from .http import FORBIDDEN_CHARACTERS, InvalidInput, problem_response

logger = logging.getLogger("django.request")

CONTENT_LENGTH = re.compile(r"[0-9]{1,15}")
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


def wants_json(request: HttpRequest) -> bool:
    """JSON clients: the REST API, and those who send JSON or ask for it rather than for a page."""
    if request.path_info.startswith("/api/"):
        return True
    if request.content_type in ("application/json", "application/problem+json"):
        return True
    accept = request.META.get("HTTP_ACCEPT", "")
    return "json" in accept and "text/html" not in accept


def refusal(
    request: HttpRequest, detail: str, *, status: int = 400, title: str = "Bad request"
) -> HttpResponse:
    if wants_json(request):
        return problem_response(status=status, title=title, detail=detail)
    try:
        html = render_to_string("400.html", {"detail": detail, "title": title}, request=request)
    except Exception:  # the page must not turn a 400 into a 500; the refusal itself is what matters
        logger.exception("Rendering 400.html failed")
        html = f"<!doctype html><title>{title}</title><h1>{title}</h1>"
    response = HttpResponse(html, status=status)
    response["Cache-Control"] = "private, no-store"
    return response


def _first_bad_part(request: HttpRequest) -> str | None:
    """Which part of the request holds a NUL or lone surrogate, if any."""
    bad = FORBIDDEN_CHARACTERS.search
    if bad(request.path) or bad(request.path_info):
        return "The address"
    for key, values in request.GET.lists():
        if bad(key) or any(bad(v) for v in values):
            return "The query string"
    for key, value in request.META.items():
        header = key.startswith("HTTP_") or key in ("CONTENT_TYPE", "QUERY_STRING")
        if header and isinstance(value, str) and bad(value):
            return "A header"
    if request.method in ("POST", "PUT", "PATCH") and request.content_type in FORM_TYPES:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is None or int(request.META.get("CONTENT_LENGTH") or 0) <= limit:
            # Read into memory first, so a view may still read request.body after the form is parsed.
            request.body  # noqa: B018
        for key, values in request.POST.lists():
            if bad(key) or any(bad(v) for v in values):
                return "A form field"
        for key, files in request.FILES.lists():
            if bad(key) or any(bad(f.name or "") for f in files):
                return "A file name"
    return None


class EdgeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        length = request.META.get("CONTENT_LENGTH")
        if length and not CONTENT_LENGTH.fullmatch(length):
            return refusal(request, "The Content-Length header must be a number of bytes.")
        try:
            part = _first_bad_part(request)
        except RequestDataTooBig:
            return refusal(request, "The request body is too large.", status=413, title="Body too large")
        except (MultiPartParserError, UnicodeDecodeError, SuspiciousOperation):
            return refusal(request, "The form data could not be read.")
        if part is not None:
            return refusal(request, f"{part} contains a NUL character or an invalid Unicode character.")
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, InvalidInput):
            return problem_response(status=exception.status, title=exception.title, detail=exception.detail)
        return None


class ErrorPagesMiddleware:
    """With DEBUG on: the urlconf's own error handlers instead of Django's technical pages."""

    def __init__(self, get_response):
        if not settings.DEBUG or getattr(settings, "DEBUG_TECHNICAL_ERRORS", False):
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # A path no pattern matches fails before any view, where process_exception cannot see it.
        try:
            get_resolver(getattr(request, "urlconf", None)).resolve(request.path_info)
        except Resolver404 as exc:
            return self._page(request, 404, exc)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, InvalidInput):
            return None  # EdgeMiddleware answers it
        if isinstance(exception, Http404):
            return self._page(request, 404, exception)
        if isinstance(exception, PermissionDenied):
            return self._page(request, 403, exception)
        if isinstance(exception, BadRequest | SuspiciousOperation | MultiPartParserError):
            return self._page(request, 400, exception)
        # What Django does for an uncaught exception, minus the technical page.
        signals.got_request_exception.send(sender=self.__class__, request=request)
        logger.error(
            "Internal Server Error: %s", request.path, exc_info=sys.exc_info(), extra={"request": request}
        )
        return self._page(request, 500, exception)

    @staticmethod
    def _page(request: HttpRequest, status: int, exception: Exception) -> HttpResponse:
        handler = get_resolver(getattr(request, "urlconf", None)).resolve_error_handler(status)
        return handler(request) if status == 500 else handler(request, exception)
