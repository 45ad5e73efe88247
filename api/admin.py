"""API keys in the tenant admin: made by tenant admins, shown once, revoked with one action."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse

from accounts.admin_site import tenant_admin_site

from .keys import AREAS, SCOPES, api_key_create, api_key_revoke
from .models import ApiKey


class ApiKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=[(s, f"{s} — {AREAS[s.split(':')[0]]}") for s in SCOPES],
        widget=forms.CheckboxSelectMultiple,
        help_text="Write includes read. Give a program only what it needs.",
    )

    class Meta:
        model = ApiKey
        fields = ("name", "scopes", "rate_limit_per_minute")
        help_texts = {"rate_limit_per_minute": "Requests a minute; 0 takes the site's default."}


@admin.register(ApiKey, site=tenant_admin_site)
class ApiKeyAdmin(admin.ModelAdmin):
    form = ApiKeyForm
    list_display = ("name", "key_start", "scope_list", "created_by", "created_at", "last_used_at", "state")
    search_fields = ("name", "prefix")
    actions = ["revoke"]
    readonly_fields = (
        "name",
        "key_start",
        "scope_list",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    )

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("name", "scopes", "rate_limit_per_minute")
        return self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the audit log keeps naming the key

    @admin.display(description="Key")
    def key_start(self, obj):
        return f"lms_{obj.prefix}_…"

    @admin.display(description="Scopes")
    def scope_list(self, obj):
        return ", ".join(obj.scopes)

    @admin.display(description="State")
    def state(self, obj):
        return "revoked" if obj.revoked_at else "active"

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        made = api_key_create(
            actor=request.user,
            name=data["name"],
            scopes=list(data["scopes"]),
            rate_limit_per_minute=data.get("rate_limit_per_minute") or 0,
        )
        # The service wrote the row; the admin goes on (log entry, response) with it.
        obj.__dict__.update(made.key.__dict__)
        request._api_key_plaintext = made.plaintext

    def response_add(self, request, obj, post_url_continue=None):
        # The only time the whole key exists outside the program it is given to.
        return TemplateResponse(
            request,
            "api/key_created.html",
            {
                **self.admin_site.each_context(request),
                "key": obj,
                "plaintext": request._api_key_plaintext,
                "opts": self.model._meta,
                "title": "API key created",
            },
        )

    @admin.action(description="Revoke selected keys")
    def revoke(self, request, queryset):
        for key in queryset:
            api_key_revoke(actor=request.user, key=key)
        self.message_user(request, "Revoked: they stop working at once.", messages.SUCCESS)
