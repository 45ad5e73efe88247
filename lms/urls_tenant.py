"""URLs of a tenant's site (<slug>.<base-domain>)."""

from django.urls import include, path

from accounts.admin_site import tenant_admin_site

from .health import healthz
from .views import home

urlpatterns = [
    path("", home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("accounts/", include("accounts.urls")),
    path("admin/", tenant_admin_site.urls),
]
