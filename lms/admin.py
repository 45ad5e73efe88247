"""The operator admin on the root domain: tenants, their domains, operator accounts."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.views import LogoutView
from django.urls import reverse

from accounts.forms import OperatorAuthenticationForm
from accounts.models import User
from core.admin import SelectionCheckingSite
from tenants.context import host_for
from tenants.models import Domain, Tenant
from tenants.services import TenantError, tenant_resume, tenant_suspend


class OperatorAdminSite(SelectionCheckingSite, admin.AdminSite):
    site_header = "LMS operators"
    site_title = "LMS operators"
    index_title = "Tenants and operators"
    login_form = OperatorAuthenticationForm

    def has_permission(self, request):
        user = request.user
        return user.is_active and user.is_superuser

    def logout(self, request, extra_context=None):
        # LOGOUT_REDIRECT_URL is the tenant sites' sign-in page, which this site does not have.
        request.current_app = self.name
        return LogoutView.as_view(next_page=reverse("operator_admin:login"))(request)

    def login(self, request, extra_context=None):
        """Django's admin sign-in, throttled per operator and per address (ADR 0070): 429 while waiting."""
        response = super().login(request, extra_context)
        form = (getattr(response, "context_data", None) or {}).get("form")
        if getattr(form, "throttled", None) is not None:
            response.status_code = 429
        return response


operator_admin_site = OperatorAdminSite(name="operator_admin")


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0
    fields = ("domain", "is_primary")


@admin.register(Tenant, site=operator_admin_site)
class TenantAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "plan", "primary_host", "is_active", "created_at")
    # 2,000 tenants are 40 pages; no "show all" beyond one page, and no second full COUNT.
    list_per_page = 50
    list_max_show_all = 50
    show_full_result_count = False
    list_filter = ("is_active", "plan")
    search_fields = ("slug", "name")
    readonly_fields = ("slug", "schema_name", "uuid", "suspended_at", "created_at", "updated_at")
    fields = (
        ("slug", "schema_name", "uuid"),
        "name",
        "plan",
        ("is_active", "suspended_at", "suspended_reason"),
        "allow_self_registration",
        "time_zone",
        ("display_name", "primary_colour"),
        ("created_at", "updated_at"),
    )
    inlines = [DomainInline]
    actions = ["suspend", "resume"]

    def get_queryset(self, request):
        return super().get_queryset(request).exclude(schema_name="public").prefetch_related("domains")

    @admin.display(description="Host")
    def primary_host(self, obj):
        return host_for(obj)

    def has_add_permission(self, request):
        # Creation clones a schema and makes the first admin: `manage.py create_tenant`.
        return False

    def has_delete_permission(self, request, obj=None):
        # Dropping a schema needs the typed confirmation of `manage.py delete_tenant`.
        return False

    @admin.action(description="Suspend selected tenants (site answers 403, data kept)")
    def suspend(self, request, queryset):
        for tenant in queryset:
            try:
                tenant_suspend(tenant=tenant, reason=f"Suspended by {request.user.email}")
            except TenantError as exc:
                self.message_user(request, str(exc), messages.WARNING)

    @admin.action(description="Resume selected tenants")
    def resume(self, request, queryset):
        for tenant in queryset:
            try:
                tenant_resume(tenant=tenant)
            except TenantError as exc:
                self.message_user(request, str(exc), messages.WARNING)


class OperatorCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class OperatorChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = ("email", "full_name", "is_active")


@admin.register(User, site=operator_admin_site)
class OperatorAdmin(DjangoUserAdmin):
    form = OperatorChangeForm
    add_form = OperatorCreationForm
    ordering = ("email",)
    list_display = ("email", "full_name", "is_active", "last_login")
    list_filter = ("is_active",)
    search_fields = ("email", "full_name")
    fieldsets = ((None, {"fields": ("email", "password", "full_name", "is_active", "last_login")}),)
    readonly_fields = ("last_login",)
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    filter_horizontal = ()

    def has_delete_permission(self, request, obj=None):
        # Deleting a user row cascades into tenant-only tables, absent from the public schema:
        # operators are deactivated (is_active) instead.
        return False

    def save_model(self, request, obj, form, change):
        # Everyone in the public schema's user table is an operator.
        obj.is_superuser = True
        obj.role = "admin"
        obj.sync_staff_flag()
        super().save_model(request, obj, form, change)
