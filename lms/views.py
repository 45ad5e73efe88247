from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template.loader import get_template

from core.errors import Forbidden, InvalidRequest, NotFound
from core.http import PROBLEM_CONTENT_TYPE
from courses.views import catalog
from enrollments.selectors import enrollment_badges

from .http import problem_response, wants_json


def home(request: HttpRequest) -> HttpResponse:
    """The tenant's front page: a welcome for visitors, the course catalog for signed-in people."""
    if not request.user.is_authenticated:
        return render(request, "home.html")
    return catalog_page(request)


def catalog_page(request: HttpRequest) -> HttpResponse:
    """/courses/: the catalog for everyone, with the signed-in person's enrollment badges."""
    badges = enrollment_badges(user=request.user) if request.user.is_authenticated else None
    return catalog(request, enrollments=badges)


# --- Error pages (handler400/403/404/500 of both urlconfs) -------------------------------
# Rendered with the request (so the tenant's branding and the signed-in nav show), except
# the 500 page: after an unknown failure only the tenant row, already loaded, is trusted.


def _tenant(request: HttpRequest):
    tenant = getattr(request, "tenant", None)
    return None if tenant is None or tenant.is_public else tenant


def _error_page(
    request: HttpRequest, template: str, status: int, context: dict | None = None
) -> HttpResponse:
    response = render(request, template, context or {}, status=status)
    response["Cache-Control"] = "private, no-store"
    return response


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if wants_json(request):
        return problem_response(InvalidRequest("The request could not be understood."))
    return _error_page(request, "400.html", 400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if wants_json(request):
        return problem_response(Forbidden("You may not do this here."))
    return _error_page(request, "403.html", 403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if wants_json(request):
        return problem_response(NotFound("Nothing is at this address."))
    return _error_page(request, "404.html", 404)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path_info.startswith("/api/"):
        body = {
            "type": "about:blank",
            "title": "Server error",
            "status": 500,
            "detail": "Something went wrong on our side; it was logged.",
            "code": "server_error",
        }
        return JsonResponse(body, status=500, content_type=PROBLEM_CONTENT_TYPE)
    tenant = _tenant(request)
    try:
        html = get_template("500.html").render(
            {
                "brand": tenant.brand_name if tenant else "LMS",
                "colour": tenant.primary_colour if tenant else None,
            }
        )
    except Exception:  # a broken template or tenant row must still give a 500, not a crash
        html = "<!doctype html><title>Something went wrong</title><h1>Something went wrong</h1>"
    return HttpResponseServerError(html)
