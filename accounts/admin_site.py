"""The tenant's own admin at /admin/: tenant admins and instructors only."""

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render
from django.urls import reverse

from core.admin import SelectionCheckingSite

from .permissions import is_tenant_admin, may_use_admin


class TenantAdminSite(SelectionCheckingSite, admin.AdminSite):
    site_header = "Course administration"
    site_title = "Administration"
    index_title = "Your organization"
    enable_nav_sidebar = True

    def has_permission(self, request) -> bool:
        return may_use_admin(request.user)

    def login(self, request, extra_context=None):
        """One sign-in page for the whole site; learners get a clear refusal, not a loop."""
        if request.user.is_authenticated:
            return render(request, "accounts/admin_refused.html", status=403)
        return redirect_to_login(request.GET.get("next", reverse("admin:index")), reverse("accounts:login"))

    def get_urls(self):
        from django.urls import path

        from .branding import branding_view

        urls = [
            path("branding/", self.admin_view(lambda request: branding_view(request, self)), name="branding")
        ]
        return urls + super().get_urls()

    def get_app_list(self, request, app_label=None):
        apps = super().get_app_list(request, app_label)
        if app_label is None and may_use_admin(request.user):
            # Reports live outside the admin (analytics app); reached from here and the course builder.
            apps.append(
                {
                    "name": "Analytics",
                    "app_label": "analytics",
                    "app_url": reverse("analytics:index"),
                    "has_module_perms": True,
                    "models": [
                        {
                            "name": "Dashboards",
                            "object_name": "Dashboards",
                            "admin_url": reverse("analytics:index"),
                            "add_url": None,
                            "view_only": True,
                            "perms": {"view": True},
                        }
                    ],
                }
            )
        if is_tenant_admin(request.user):
            # Listed under People: django-tenants' admin templates hide app labels it does not know.
            for app in apps:
                if app["app_label"] == "accounts":
                    app["models"].insert(
                        0,
                        {
                            "name": "Branding",
                            "object_name": "Branding",
                            "admin_url": reverse("admin:branding"),
                            "add_url": None,
                            "view_only": True,
                            "perms": {"view": True, "change": True},
                        },
                    )
        return apps

    def each_context(self, request):
        context = super().each_context(request)
        tenant = getattr(request, "tenant", None)
        if tenant is not None:
            context["site_header"] = tenant.brand_name
        return context


tenant_admin_site = TenantAdminSite(name="admin")
