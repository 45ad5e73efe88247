"""Every write on webhook endpoints and deliveries: tenant admins only, atomic, audited."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.audit import audit_record
from accounts.permissions import is_tenant_admin
from core.errors import Forbidden, InvalidRequest
from core.events import EVENT_TYPES, TEST_EVENT

from . import signing
from .models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookMessage
from .outbox import queue_deliveries, write_message
from .targets import Target, resolve

# How long the old secret keeps signing after a rotation, so receivers can switch.
ROTATION_OVERLAP = timedelta(hours=24)


class WebhookError(InvalidRequest):
    """A webhook change that cannot be made: the sentence says what to change."""


def _admin_only(actor, doing: str) -> None:
    if not is_tenant_admin(actor):
        raise Forbidden(f"Only the organization's admins can {doing}.", code="not_tenant_admin")


def _clean_types(event_types) -> list[str]:
    chosen = sorted(set(event_types or ()))
    unknown = [t for t in chosen if t not in EVENT_TYPES]
    if unknown:
        raise WebhookError(
            f"Unknown event type {unknown[0]!r}: choose from {', '.join(EVENT_TYPES)}.", field="event_types"
        )
    if not chosen:
        raise WebhookError("Choose at least one event type for the endpoint.", field="event_types")
    return chosen


def _clean_url(url: str, target: Target | None) -> str:
    """`url` once checked: by `target` when the caller already resolved it, else resolved now."""
    url = (url or "").strip()
    if target is None or not target.is_for(url):
        resolve(url)  # TargetRefused (a 400 with field="url") says what is wrong
    return url


def _clean_description(description: str) -> str:
    description = (description or "").strip()
    if len(description) > 200:
        raise WebhookError("A description has at most 200 characters.", field="description")
    return description


def _state(endpoint: WebhookEndpoint) -> dict:
    return {
        "url": endpoint.url,
        "description": endpoint.description,
        "event_types": list(endpoint.event_types),
        "active": endpoint.is_active,
    }


@transaction.atomic
def webhook_endpoint_create(
    *, actor, url: str, event_types: list[str], description: str = "", target: Target | None = None
) -> WebhookEndpoint:
    """`target`: what `webhooks.targets.resolve(url)` returned to the caller just now (the admin
    form checks the URL to show a field error), so the host is not resolved a second time."""
    _admin_only(actor, "add webhook endpoints")
    endpoint = WebhookEndpoint.objects.create(
        url=_clean_url(url, target),
        event_types=_clean_types(event_types),
        description=_clean_description(description),
        secret=signing.new_secret(),
        created_by=actor,
    )
    audit_record(actor=actor, action="webhook_endpoint.created", target=endpoint, after=_state(endpoint))
    return endpoint


@transaction.atomic
def webhook_endpoint_update(
    *,
    actor,
    endpoint: WebhookEndpoint,
    url: str | None = None,
    event_types: list[str] | None = None,
    description: str | None = None,
    is_active: bool | None = None,
    target: Target | None = None,
) -> WebhookEndpoint:
    """Change what is given; enabling again clears the failure count and the reason.

    `target` as for webhook_endpoint_create: the caller's check of `url`, not repeated."""
    _admin_only(actor, "change webhook endpoints")
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    before = _state(endpoint)
    if url is not None:
        endpoint.url = _clean_url(url, target)
    if event_types is not None:
        endpoint.event_types = _clean_types(event_types)
    if description is not None:
        endpoint.description = _clean_description(description)
    if is_active is not None and is_active != endpoint.is_active:
        endpoint.is_active = is_active
        if is_active:
            endpoint.failures_in_a_row, endpoint.disabled_at, endpoint.disabled_reason = 0, None, ""
        else:
            endpoint.disabled_at, endpoint.disabled_reason = timezone.now(), "Disabled by an admin."
    endpoint.save()
    after = _state(endpoint)
    if after != before:
        audit_record(
            actor=actor, action="webhook_endpoint.changed", target=endpoint, before=before, after=after
        )
    return endpoint


@transaction.atomic
def webhook_endpoint_rotate_secret(*, actor, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """A new secret signs from now on; the old one also signs for ROTATION_OVERLAP."""
    _admin_only(actor, "rotate webhook secrets")
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = timezone.now() + ROTATION_OVERLAP
    endpoint.secret = signing.new_secret()
    endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"])
    audit_record(
        actor=actor,
        action="webhook_endpoint.secret_rotated",
        target=endpoint,
        after={"previous_signs_until": endpoint.previous_secret_expires_at.isoformat()},
    )
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(*, actor, endpoint: WebhookEndpoint) -> None:
    """Delete the endpoint with its deliveries and their log (the audit log keeps the record)."""
    _admin_only(actor, "delete webhook endpoints")
    audit_record(actor=actor, action="webhook_endpoint.deleted", target=endpoint, before=_state(endpoint))
    messages = list(endpoint.deliveries.values_list("message_id", flat=True).distinct())
    endpoint.delete()
    # Messages no other endpoint got go with it.
    WebhookMessage.objects.filter(pk__in=messages, deliveries__isnull=True).delete()


@transaction.atomic
def webhook_endpoint_send_test(*, actor, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """A `webhook.test` message to this endpoint alone, delivered like any other."""
    _admin_only(actor, "send test webhooks")
    if not endpoint.is_active:
        raise WebhookError("Enable the endpoint before sending it a test event.", code="endpoint_disabled")
    data = {"endpoint_id": endpoint.pk, "sent_by": actor.email, "sent_at": timezone.now().isoformat()}
    written = write_message(event_type=TEST_EVENT, data=data, endpoint_ids=[endpoint.pk])
    if not written:  # disabled or deleted since it was read
        raise WebhookError("Enable the endpoint before sending it a test event.", code="endpoint_disabled")
    return WebhookDelivery.objects.get(pk=written[0])


@transaction.atomic
def webhook_delivery_redeliver(*, actor, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send the same message (same webhook-id) again as a new delivery; the old log stays."""
    _admin_only(actor, "redeliver webhooks")
    endpoint = delivery.endpoint
    if not endpoint.is_active:
        raise WebhookError("Enable the endpoint before redelivering to it.", code="endpoint_disabled")
    if delivery.status in (DeliveryStatus.PENDING, DeliveryStatus.RETRYING):
        raise WebhookError(
            "This delivery is still being tried; wait for it to succeed or give up.", code="delivery_pending"
        )
    now = timezone.now()
    again = WebhookDelivery.objects.create(
        message=delivery.message, endpoint=endpoint, next_attempt_at=now, created_at=now
    )
    queue_deliveries([again.pk])
    audit_record(
        actor=actor,
        action="webhook_delivery.redelivered",
        target=again,
        after={"message": delivery.message.msg_id, "endpoint": endpoint.url, "of_delivery": delivery.pk},
    )
    return again
