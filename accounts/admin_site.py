"""The tenant's own admin at /admin/: tenant admins and instructors only."""

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render
from django.urls import reverse


class TenantAdminSite(admin.AdminSite):
    site_header = "Course administration"
    site_title = "Administration"
    index_title = "Your organization"
    enable_nav_sidebar = True

    def has_permission(self, request) -> bool:
        user = request.user
        return user.is_authenticated and getattr(user, "can_use_admin", False)

    def login(self, request, extra_context=None):
        """One sign-in page for the whole site; learners get a clear refusal, not a loop."""
        if request.user.is_authenticated:
            return render(request, "accounts/admin_refused.html", status=403)
        return redirect_to_login(request.GET.get("next", reverse("admin:index")), reverse("accounts:login"))

    def each_context(self, request):
        context = super().each_context(request)
        tenant = getattr(request, "tenant", None)
        if tenant is not None:
            context["site_header"] = tenant.brand_name
        return context


tenant_admin_site = TenantAdminSite(name="admin")
