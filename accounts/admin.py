from django.contrib import admin, messages
from django.db import transaction

from .admin_site import tenant_admin_site
from .forms import InvitationAdminForm, UserAdminForm
from .models import AuditEntry, Invitation, User
from .permissions import is_tenant_admin
from .services import (
    AccountError,
    invitation_create,
    invitation_revoke,
    user_set_active,
    user_set_role,
    user_update_profile,
)


@admin.register(User, site=tenant_admin_site)
class UserAdmin(admin.ModelAdmin):
    form = UserAdminForm
    list_display = ("email", "full_name", "role", "is_active", "last_login", "date_joined")
    list_filter = ("role", "is_active")
    search_fields = ("email", "full_name")
    ordering = ("email",)
    fields = ("email", "full_name", "role", "is_active", "last_login", "date_joined")
    readonly_fields = ("email", "last_login", "date_joined")
    actions = ["deactivate", "activate"]

    def has_add_permission(self, request):
        # People join through invitations (or self-registration where the tenant allows it).
        return False

    def has_delete_permission(self, request, obj=None):
        # Deactivate instead: their progress and history stay.
        return False

    def save_model(self, request, obj, form, change):
        original = User.objects.get(pk=obj.pk)
        try:
            with transaction.atomic():
                if "role" in form.changed_data:
                    user_set_role(actor=request.user, user=original, role=obj.role)
                if "is_active" in form.changed_data:
                    user_set_active(actor=request.user, user=original, active=obj.is_active)
                if "full_name" in form.changed_data:
                    user_update_profile(actor=request.user, user=original, full_name=obj.full_name)
        except AccountError as exc:
            self.message_user(request, str(exc), messages.ERROR)

    @admin.action(description="Deactivate selected people")
    def deactivate(self, request, queryset):
        self._set_active(request, queryset, False)

    @admin.action(description="Reactivate selected people")
    def activate(self, request, queryset):
        self._set_active(request, queryset, True)

    def _set_active(self, request, queryset, active):
        for user in queryset:
            try:
                user_set_active(actor=request.user, user=user, active=active)
            except AccountError as exc:
                self.message_user(request, f"{user.email}: {exc}", messages.ERROR)


@admin.register(Invitation, site=tenant_admin_site)
class InvitationAdmin(admin.ModelAdmin):
    form = InvitationAdminForm
    list_display = ("email", "role", "state_display", "invited_by", "created_at", "expires_at")
    list_filter = ("role",)
    search_fields = ("email",)
    actions = ["revoke"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("email", "role")
        return ("email", "role", "invited_by", "created_at", "expires_at", "accepted_at", "revoked_at")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return self.get_fields(request, obj)

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="State")
    def state_display(self, obj):
        return obj.state

    def save_model(self, request, obj, form, change):
        invitation, _link = invitation_create(actor=request.user, email=obj.email, role=obj.role)
        # The service wrote the row; the admin goes on (log entry, redirect) with it.
        obj.__dict__.update(invitation.__dict__)
        self.message_user(request, f"Invitation e-mailed to {invitation.email}.", messages.SUCCESS)

    @admin.action(description="Withdraw selected invitations")
    def revoke(self, request, queryset):
        for invitation in queryset:
            try:
                invitation_revoke(actor=request.user, invitation=invitation)
            except AccountError as exc:
                self.message_user(request, f"{invitation.email}: {exc}", messages.WARNING)


@admin.register(AuditEntry, site=tenant_admin_site)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: entries are written by the services, never edited."""

    list_display = ("created_at", "actor_email", "action", "target_label")
    list_filter = ("action", "target_type")
    search_fields = ("actor_email", "target_label", "action")
    date_hierarchy = "created_at"
    fields = (
        "created_at",
        "actor_email",
        "action",
        "target_type",
        "target_id",
        "target_label",
        "before",
        "after",
    )
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return is_tenant_admin(request.user)

    def has_module_permission(self, request):
        return is_tenant_admin(request.user)
