"""Webhook endpoints and their delivery log, for the organization's admins (ADR 0160).

The same services as Admin → Webhook endpoints: every change is checked and audited there.
The signing secret is read from its own URL, so listing endpoints never shows it.
"""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status

from core.errors import NotFound
from core.events import EVENT_TYPES
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services import (
    webhook_delivery_redeliver,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_send_test,
    webhook_endpoint_update,
)

from ..gate import need_tenant_admin
from ..pagination import DEFAULT_LIMIT, page_of_queryset
from .base import PROBLEMS

router = Router(tags=["webhooks"])


class EventTypeOut(Schema):
    type: str
    description: str


class EndpointIn(Schema):
    url: str
    event_types: list[str]
    description: str = ""


class EndpointPatch(Schema):
    url: str | None = None
    event_types: list[str] | None = None
    description: str | None = None
    is_active: bool | None = None


class EndpointOut(Schema):
    id: int
    url: str
    description: str
    event_types: list[str]
    is_active: bool
    disabled_reason: str
    failures_in_a_row: int
    created_at: datetime


class EndpointPage(Schema):
    items: list[EndpointOut]
    next_cursor: str | None


class SecretOut(Schema):
    secret: str
    previous_secret: str | None
    previous_secret_expires_at: datetime | None


class DeliveryOut(Schema):
    id: int
    endpoint_id: int
    msg_id: str
    event_type: str
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str
    last_duration_ms: int | None
    next_attempt_at: datetime | None
    created_at: datetime
    finished_at: datetime | None


class DeliveryPage(Schema):
    items: list[DeliveryOut]
    next_cursor: str | None


def _admin(request: HttpRequest, scope: str):
    return need_tenant_admin(request, scope, doing="manage webhooks")


def _endpoint_or_404(endpoint_id: int) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id).first()
    if endpoint is None:
        raise NotFound("No such webhook endpoint.")
    return endpoint


def _endpoint(e: WebhookEndpoint) -> dict:
    return {
        "id": e.pk,
        "url": e.url,
        "description": e.description,
        "event_types": list(e.event_types),
        "is_active": e.is_active,
        "disabled_reason": e.disabled_reason,
        "failures_in_a_row": e.failures_in_a_row,
        "created_at": e.created_at,
    }


def _delivery(d: WebhookDelivery) -> dict:
    return {
        "id": d.pk,
        "endpoint_id": d.endpoint_id,
        "msg_id": d.message.msg_id,
        "event_type": d.message.event_type,
        "status": d.status,
        "attempts": d.attempts,
        "last_status_code": d.last_status_code,
        "last_error": d.last_error,
        "last_duration_ms": d.last_duration_ms,
        "next_attempt_at": d.next_attempt_at,
        "created_at": d.created_at,
        "finished_at": d.finished_at,
    }


@router.get("/webhooks/event-types", response={200: list[EventTypeOut], **PROBLEMS}, summary="Event types")
def event_types(request: HttpRequest):
    _admin(request, "webhooks:read")
    return [{"type": name, "description": sentence} for name, sentence in EVENT_TYPES.items()]


@router.get("/webhooks/endpoints", response={200: EndpointPage, **PROBLEMS}, summary="Webhook endpoints")
def endpoint_list(request: HttpRequest, cursor: str | None = None, limit: int = Query(DEFAULT_LIMIT)):
    _admin(request, "webhooks:read")
    items, next_cursor = page_of_queryset(
        WebhookEndpoint.objects.all(), fields=("-id",), cursor=cursor, limit=limit
    )
    return {"items": [_endpoint(e) for e in items], "next_cursor": next_cursor}


@router.post("/webhooks/endpoints", response={201: EndpointOut, **PROBLEMS}, summary="Add an endpoint")
def endpoint_add(request: HttpRequest, body: EndpointIn):
    """Register a receiver; read its signing secret from `/webhooks/endpoints/{id}/secret`."""
    principal = _admin(request, "webhooks:write")
    endpoint = webhook_endpoint_create(
        actor=principal.user, url=body.url, event_types=body.event_types, description=body.description
    )
    return Status(201, _endpoint(endpoint))


@router.get("/webhooks/endpoints/{endpoint_id}", response={200: EndpointOut, **PROBLEMS})
def endpoint_detail(request: HttpRequest, endpoint_id: int):
    _admin(request, "webhooks:read")
    return _endpoint(_endpoint_or_404(endpoint_id))


@router.patch("/webhooks/endpoints/{endpoint_id}", response={200: EndpointOut, **PROBLEMS})
def endpoint_change(request: HttpRequest, endpoint_id: int, body: EndpointPatch):
    """Change what is given; `is_active: true` enables a disabled endpoint again."""
    principal = _admin(request, "webhooks:write")
    endpoint = webhook_endpoint_update(
        actor=principal.user,
        endpoint=_endpoint_or_404(endpoint_id),
        url=body.url,
        event_types=body.event_types,
        description=body.description,
        is_active=body.is_active,
    )
    return _endpoint(endpoint)


@router.delete("/webhooks/endpoints/{endpoint_id}", response={204: None, **PROBLEMS})
def endpoint_remove(request: HttpRequest, endpoint_id: int):
    principal = _admin(request, "webhooks:write")
    webhook_endpoint_delete(actor=principal.user, endpoint=_endpoint_or_404(endpoint_id))
    return Status(204, None)


@router.get("/webhooks/endpoints/{endpoint_id}/secret", response={200: SecretOut, **PROBLEMS})
def endpoint_secret(request: HttpRequest, endpoint_id: int):
    """The `whsec_` secret that signs, and the previous one while it still signs too."""
    _admin(request, "webhooks:write")
    endpoint = _endpoint_or_404(endpoint_id)
    secrets = endpoint.signing_secrets()
    return {
        "secret": endpoint.secret,
        "previous_secret": secrets[1] if len(secrets) > 1 else None,
        "previous_secret_expires_at": endpoint.previous_secret_expires_at if len(secrets) > 1 else None,
    }


@router.post("/webhooks/endpoints/{endpoint_id}/rotate-secret", response={200: SecretOut, **PROBLEMS})
def endpoint_rotate(request: HttpRequest, endpoint_id: int):
    """A new secret signs from now on; the old one also signs for 24 hours."""
    principal = _admin(request, "webhooks:write")
    endpoint = webhook_endpoint_rotate_secret(actor=principal.user, endpoint=_endpoint_or_404(endpoint_id))
    return {
        "secret": endpoint.secret,
        "previous_secret": endpoint.previous_secret,
        "previous_secret_expires_at": endpoint.previous_secret_expires_at,
    }


@router.post("/webhooks/endpoints/{endpoint_id}/test", response={202: DeliveryOut, **PROBLEMS})
def endpoint_test(request: HttpRequest, endpoint_id: int):
    """Send a `webhook.test` message to this endpoint; follow it in its deliveries."""
    principal = _admin(request, "webhooks:write")
    delivery = webhook_endpoint_send_test(actor=principal.user, endpoint=_endpoint_or_404(endpoint_id))
    return Status(202, _delivery(delivery))


@router.get("/webhooks/endpoints/{endpoint_id}/deliveries", response={200: DeliveryPage, **PROBLEMS})
def delivery_list(
    request: HttpRequest,
    endpoint_id: int,
    status: str | None = None,
    cursor: str | None = None,
    limit: int = Query(DEFAULT_LIMIT),
):
    """The endpoint's delivery log, newest first; `status` filters (pending, retrying, succeeded, failed)."""
    _admin(request, "webhooks:read")
    deliveries = WebhookDelivery.objects.filter(endpoint=_endpoint_or_404(endpoint_id)).select_related(
        "message"
    )
    if status:
        deliveries = deliveries.filter(status=status)
    items, next_cursor = page_of_queryset(deliveries, fields=("-id",), cursor=cursor, limit=limit)
    return {"items": [_delivery(d) for d in items], "next_cursor": next_cursor}


@router.post("/webhooks/deliveries/{delivery_id}/redeliver", response={202: DeliveryOut, **PROBLEMS})
def delivery_redeliver(request: HttpRequest, delivery_id: int):
    """Send the same message (same `webhook-id`) again as a new delivery."""
    principal = _admin(request, "webhooks:write")
    delivery = WebhookDelivery.objects.select_related("message", "endpoint").filter(pk=delivery_id).first()
    if delivery is None:
        raise NotFound("No such webhook delivery.")
    return Status(202, _delivery(webhook_delivery_redeliver(actor=principal.user, delivery=delivery)))
