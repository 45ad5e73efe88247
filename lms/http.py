"""The one mapping from domain refusals to responses (HTML pages and RFC 9457 problem bodies).

A view or API endpoint that lets a `core.errors.DomainError` escape gets, from
`DomainErrorMiddleware`:

- for a JSON client (the API, an `Accept: application/json` fetch, a JSON body): a problem
  body `{"type", "title", "status", "detail", "code", "field"?}` with the error's status;
- for a page: the branded refusal page with the sentence and the same status.

Views that re-show a form catch the error themselves and put the sentence on the field
(`form_error`), so the person keeps what they typed.
"""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from core.errors import DomainError
from core.http import PROBLEM_CONTENT_TYPE


def wants_json(request: HttpRequest) -> bool:
    """True for API calls and scripts: they get problem bodies, never HTML."""
    if request.path_info.startswith("/api/"):
        return True
    if request.content_type in ("application/json", "application/problem+json"):
        return True
    accept = request.headers.get("Accept", "")
    return "json" in accept and "text/html" not in accept


def problem_response(error: DomainError) -> JsonResponse:
    body = error.as_problem()
    # `error` repeats `detail` for the product's own scripts, which read it.
    body["error"] = error.message
    response = JsonResponse(body, status=error.status, content_type=PROBLEM_CONTENT_TYPE)
    response["Cache-Control"] = "private, no-store"
    return response


def page_response(request: HttpRequest, error: DomainError) -> HttpResponse:
    response = render(request, "refused.html", {"error": error}, status=error.status)
    response["Cache-Control"] = "private, no-store"
    return response


def error_response(request: HttpRequest, error: DomainError) -> HttpResponse:
    return problem_response(error) if wants_json(request) else page_response(request, error)


def form_error(form: forms.BaseForm, error: DomainError) -> None:
    """Show a refusal on the form: on its field when the error names one the form has."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)


class DomainErrorMiddleware:
    """Last in MIDDLEWARE, so its process_exception sees a view's exception first."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, DomainError):
            return error_response(request, exception)
        return None
