"""Webhooks in the tenant admin: endpoints (add, edit, rotate, test) and the delivery log.

Only tenant admins hold the `webhooks.*` permissions (accounts.backends). Every write goes
through webhooks.services, so it is checked and audited the same way as from anywhere else.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.html import format_html

from accounts.admin_site import tenant_admin_site
from core.errors import DomainError
from core.events import EVENT_TYPES

from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from .services import (
    webhook_delivery_redeliver,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_send_test,
    webhook_endpoint_update,
)
from .targets import TargetRefused, resolve


class EndpointForm(forms.ModelForm):
    url = forms.URLField(
        max_length=1000, assume_scheme="https", help_text=WebhookEndpoint._meta.get_field("url").help_text
    )
    event_types = forms.MultipleChoiceField(
        choices=[(name, f"{name} — {sentence}") for name, sentence in EVENT_TYPES.items()],
        widget=forms.CheckboxSelectMultiple,
        help_text="The endpoint hears only what is ticked.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ("url", "description", "event_types", "is_active")
        help_texts = {
            "url": "Where we POST each event (https). Check the webhook-signature header with the secret.",
            "is_active": (
                "Untick to stop: events while it is off are not kept for it; deliveries already "
                "waiting are sent when you tick it again."
            ),
        }

    def clean_url(self):
        """The SSRF check as a field error; the service is handed its result (one DNS lookup)."""
        url = self.cleaned_data["url"]
        try:
            self.target = resolve(url)
        except TargetRefused as exc:
            raise ValidationError(exc.message) from None
        return url


class AttemptInline(admin.TabularInline):
    model = WebhookAttempt
    fields = ("at", "status_code", "duration_ms", "error", "response_excerpt")
    readonly_fields = fields
    extra = 0
    can_delete = False
    max_num = 0
    verbose_name_plural = "Attempts"


@admin.register(WebhookEndpoint, site=tenant_admin_site)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = EndpointForm
    list_display = ("endpoint", "types", "state", "failures_in_a_row", "created_at")
    list_filter = ("is_active",)
    search_fields = ("url", "description")
    actions = ["send_test", "rotate_secret"]

    def get_fields(self, request, obj=None):
        fields = ["url", "description", "event_types", "is_active"]
        if obj is not None:
            fields += ["signing_secret", "disabled_reason", "failures_in_a_row", "deliveries_link"]
        return fields

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("signing_secret", "disabled_reason", "failures_in_a_row", "deliveries_link")

    @admin.display(description="Endpoint")
    def endpoint(self, obj):
        return format_html("{}<br><small>{}</small>", obj.description or "", obj.url)

    @admin.display(description="Events")
    def types(self, obj):
        return ", ".join(obj.event_types)

    @admin.display(description="State")
    def state(self, obj):
        return "active" if obj.is_active else "disabled"

    @admin.display(description="Signing secret")
    def signing_secret(self, obj):
        rotating = ""
        if obj.previous_secret_expires_at and len(obj.signing_secrets()) > 1:
            rotating = format_html(
                "<br><small>The previous secret also signs until {} UTC.</small>",
                f"{obj.previous_secret_expires_at:%Y-%m-%d %H:%M}",
            )
        return format_html("<code>{}</code>{}", obj.secret, rotating)

    @admin.display(description="Deliveries")
    def deliveries_link(self, obj):
        from django.urls import reverse

        url = reverse("admin:webhooks_webhookdelivery_changelist") + f"?endpoint__id__exact={obj.pk}"
        return format_html('<a href="{}">Delivery log</a>', url)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            saved = webhook_endpoint_update(
                actor=request.user,
                endpoint=obj,
                url=data["url"],
                event_types=list(data["event_types"]),
                description=data.get("description", ""),
                is_active=data.get("is_active", True),
                target=getattr(form, "target", None),
            )
        else:
            saved = webhook_endpoint_create(
                actor=request.user,
                url=data["url"],
                event_types=list(data["event_types"]),
                description=data.get("description", ""),
                target=getattr(form, "target", None),
            )
        obj.__dict__.update(saved.__dict__)

    def delete_model(self, request, obj):
        webhook_endpoint_delete(actor=request.user, endpoint=obj)

    def delete_queryset(self, request, queryset):
        for endpoint in queryset:
            webhook_endpoint_delete(actor=request.user, endpoint=endpoint)

    def _each(self, request, queryset, service, done: str):
        count = 0
        for endpoint in queryset:
            try:
                service(actor=request.user, endpoint=endpoint)
                count += 1
            except DomainError as exc:
                self.message_user(request, f"{endpoint}: {exc.message}", messages.ERROR)
        if count:
            self.message_user(request, done.format(count=count), messages.SUCCESS)

    @admin.action(description="Send a test event")
    def send_test(self, request, queryset):
        self._each(
            request,
            queryset,
            webhook_endpoint_send_test,
            "Test event sent to {count} endpoint(s): see the delivery log for the answer.",
        )

    @admin.action(description="Rotate the signing secret")
    def rotate_secret(self, request, queryset):
        self._each(
            request,
            queryset,
            webhook_endpoint_rotate_secret,
            "New secret for {count} endpoint(s); the old one also signs for 24 hours.",
        )


@admin.register(WebhookDelivery, site=tenant_admin_site)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = (
        "event",
        "msg_id",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "last_duration_ms",
        "created_at",
        "next_attempt_at",
    )
    list_filter = ("status", "message__event_type", "endpoint")
    search_fields = ("message__msg_id", "endpoint__url")
    list_select_related = ("message", "endpoint")
    actions = ["redeliver"]
    inlines = [AttemptInline]
    fields = (
        "event",
        "msg_id",
        "endpoint",
        "status",
        "attempts",
        "next_attempt_at",
        "last_status_code",
        "last_error",
        "last_duration_ms",
        "created_at",
        "finished_at",
        "payload",
    )
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # read-only log; redeliver is an action

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Event", ordering="message__event_type")
    def event(self, obj):
        return obj.message.event_type

    @admin.display(description="webhook-id")
    def msg_id(self, obj):
        return obj.message.msg_id

    @admin.display(description="Body")
    def payload(self, obj):
        return format_html("<pre style='white-space:pre-wrap'>{}</pre>", obj.message.body)

    @admin.action(description="Redeliver (same webhook-id, new delivery)")
    def redeliver(self, request, queryset):
        count = 0
        for delivery in queryset.select_related("message", "endpoint"):
            try:
                webhook_delivery_redeliver(actor=request.user, delivery=delivery)
                count += 1
            except DomainError as exc:
                self.message_user(request, f"{delivery}: {exc.message}", messages.ERROR)
        if count:
            self.message_user(request, f"{count} delivery(ies) queued again.", messages.SUCCESS)
