"""Webhooks in the tenant admin: what an admin clicks, and who may not."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.fixtures import client_for
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db


def _endpoints(tenant):
    connection.set_tenant(tenant)
    try:
        return list(WebhookEndpoint.objects.all())
    finally:
        connection.set_schema_to_public()


def test_an_admin_adds_an_endpoint_tests_it_and_reads_the_log(
    tenant, receiver, django_capture_on_commit_callbacks
):
    client = client_for(tenant, as_role="admin")
    page = client.get("/admin/webhooks/webhookendpoint/add/")
    assert page.status_code == 200 and b"enrollment.created" in page.content
    response = client.post(
        "/admin/webhooks/webhookendpoint/add/",
        {
            "url": receiver.url(),
            "description": "CRM",
            "event_types": ["enrollment.created", "quiz.graded"],
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    [endpoint] = _endpoints(tenant)
    assert endpoint.description == "CRM" and endpoint.event_types == ["enrollment.created", "quiz.graded"]
    change = client.get(f"/admin/webhooks/webhookendpoint/{endpoint.pk}/change/")
    assert endpoint.secret.encode() in change.content and b"Delivery log" in change.content

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/webhooks/webhookendpoint/",
            {"action": "send_test", "_selected_action": [endpoint.pk]},
            follow=True,
        )
    assert b"Test event sent" in response.content
    [got] = receiver.wait_for(1)
    assert '"type":"webhook.test"' in got.body

    log = client.get(f"/admin/webhooks/webhookdelivery/?endpoint__id__exact={endpoint.pk}")
    assert log.status_code == 200 and b"webhook.test" in log.content
    connection.set_tenant(tenant)
    delivery = WebhookDelivery.objects.get()
    connection.set_schema_to_public()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    detail = client.get(f"/admin/webhooks/webhookdelivery/{delivery.pk}/change/")
    assert (
        detail.status_code == 200
        and b"200" in detail.content
        and delivery.message.msg_id.encode() in detail.content
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/webhooks/webhookdelivery/",
            {"action": "redeliver", "_selected_action": [delivery.pk]},
            follow=True,
        )
    assert b"queued again" in response.content
    assert len(receiver.wait_for(2)) == 2


def test_a_bad_url_is_a_field_error_and_saves_nothing(tenant):
    client = client_for(tenant, as_role="admin")
    response = client.post(
        "/admin/webhooks/webhookendpoint/add/",
        {"url": "ftp://example.com/", "event_types": ["quiz.graded"], "is_active": "on"},
    )
    assert response.status_code == 200
    assert b"errorlist" in response.content
    response = client.post(
        "/admin/webhooks/webhookendpoint/add/", {"url": "https://example.com/", "is_active": "on"}
    )
    assert response.status_code == 200 and b"errorlist" in response.content
    assert _endpoints(tenant) == []


@pytest.mark.parametrize("role", ["instructor", "learner"])
def test_people_who_are_not_admins_cannot_reach_webhooks(tenant, role):
    client = client_for(tenant, as_role=role)
    for path in (
        "/admin/webhooks/webhookendpoint/",
        "/admin/webhooks/webhookdelivery/",
        "/admin/webhooks/webhookendpoint/add/",
    ):
        assert client.get(path).status_code in (302, 403)


def test_saving_an_endpoint_resolves_its_host_once(tenant, receiver, monkeypatch):
    """The form's field check and the service share one DNS lookup (on add and on change)."""
    import socket
    from types import SimpleNamespace

    from webhooks import targets

    looked_up = []

    def getaddrinfo(host, *args, **kwargs):
        looked_up.append(host)
        return socket.getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(
        targets,
        "socket",
        SimpleNamespace(getaddrinfo=getaddrinfo, SOCK_STREAM=socket.SOCK_STREAM, gaierror=socket.gaierror),
    )
    client = client_for(tenant, as_role="admin")
    fields = {"url": receiver.url(), "event_types": ["quiz.graded"], "is_active": "on"}
    response = client.post("/admin/webhooks/webhookendpoint/add/", fields)
    assert response.status_code == 302
    assert looked_up == ["127.0.0.1"]
    [endpoint] = _endpoints(tenant)
    response = client.post(
        f"/admin/webhooks/webhookendpoint/{endpoint.pk}/change/",
        {**fields, "url": receiver.url("/moved"), "description": "moved"},
    )
    assert response.status_code == 302
    assert looked_up == ["127.0.0.1", "127.0.0.1"]
    assert _endpoints(tenant)[0].url == receiver.url("/moved")
