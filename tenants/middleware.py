"""Host -> tenant routing, with our answers for unknown hosts and suspended tenants."""

import threading

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django_tenants.middleware.main import TenantMainMiddleware

from .routing import tenant_for_host

# Answered on every host, known or not, suspended or not: load balancers probe it.
ALWAYS_SERVED_PATHS = frozenset({"/healthz", "/healthz/"})


_request = threading.local()


class TenantMiddleware(TenantMainMiddleware):
    def get_tenant(self, domain_model, hostname):
        # Remembered per process, checked against a shared token on every request (ADR 0051);
        # the request's cache reads come along with the token's (ADR 0190).
        return tenant_for_host(hostname, getattr(_request, "current", None))

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        _request.current = request
        try:
            response = super().process_request(request)
        finally:
            _request.current = None
        if response is not None:
            return response
        tenant = getattr(request, "tenant", None)  # None: unknown host asking for /healthz
        if tenant is not None and not tenant.is_active and request.path not in ALWAYS_SERVED_PATHS:
            html = render_to_string("tenants/suspended.html", {"tenant": tenant}, request=None)
            return HttpResponse(html, status=403)
        return None

    def no_tenant_found(self, request: HttpRequest, hostname: str) -> HttpResponse | None:
        if request.path in ALWAYS_SERVED_PATHS:
            connection.set_schema_to_public()
            request.urlconf = settings.PUBLIC_SCHEMA_URLCONF
            return None
        # A plain page: never the public site, never a tenant's name.
        html = render_to_string("404_host.html", {"hostname": hostname})
        return HttpResponse(html, status=404)
