"""URLs of the root domain: the operator site."""

from django.urls import path
from django.views.generic import TemplateView

from .admin import operator_admin_site
from .health import healthz

urlpatterns = [
    path("", TemplateView.as_view(template_name="public/landing.html"), name="landing"),
    path("healthz", healthz, name="healthz"),
    path("admin/", operator_admin_site.urls),
]

handler400 = "lms.views.bad_request"
handler403 = "lms.views.permission_denied"
handler404 = "lms.views.page_not_found"
handler500 = "lms.views.server_error"
