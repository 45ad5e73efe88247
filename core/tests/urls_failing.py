"""The tenant urlconf plus a page that fails, to see the 500 page."""

from django.urls import path

from lms.urls_tenant import handler400, handler403, handler404, handler500  # noqa: F401
from lms.urls_tenant import urlpatterns as tenant_patterns


def failing(request):
    raise RuntimeError("a bug in a view")


urlpatterns = [path("failing/", failing), *tenant_patterns]
