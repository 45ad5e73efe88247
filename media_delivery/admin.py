"""Media assets in the tenant admin: what was uploaded, whether it was accepted, and why not.

Read only: files arrive through the upload page and leave through media_audit; the rows are
their record. Tenant admins see this screen (instructors manage media from their lessons).
"""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from accounts.admin_site import tenant_admin_site

from .models import MediaAsset


@admin.register(MediaAsset, site=tenant_admin_site)
class MediaAssetAdmin(admin.ModelAdmin):
    list_display = ("__str__", "kind", "status", "size", "transcode_status", "lesson", "owner", "created_at")
    list_filter = ("kind", "status", "transcode_status")
    search_fields = ("filename", "key")
    list_select_related = ("lesson", "owner")
    readonly_fields = (
        "id",
        "kind",
        "filename",
        "status",
        "reason",
        "size",
        "content_type",
        "verified_etag",
        "grant_expires_at",
        "duration_seconds",
        "transcode_status",
        "transcode_error",
        "lesson",
        "owner",
        "created_at",
        "ready_at",
        "open_link",
    )
    fields = readonly_fields

    @admin.display(description="File")
    def open_link(self, obj):
        if not obj.is_ready:
            return "Not served: the upload is not ready."
        return format_html(
            '<a href="{}">Open (checked against the access policy)</a>', reverse("media:file", args=[obj.pk])
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
