"""Webhook endpoints through the REST API: the same services and rules as the admin."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from standardwebhooks import Webhook

from webhooks.models import WebhookEndpoint, WebhookMessage

from .conftest import api_client, make_key

pytestmark = pytest.mark.django_db


def _post(client, path, body=None):
    return client.post(path, json.dumps(body or {}), content_type="application/json")


def test_an_admin_key_registers_tests_and_reads_the_log(
    tenant, admin_key, receiver, django_capture_on_commit_callbacks
):
    client = api_client(tenant, admin_key)
    types = client.get("/api/v1/webhooks/event-types").json()
    assert {"enrollment.created", "quiz.graded"} <= {t["type"] for t in types}
    made = _post(
        client, "/api/v1/webhooks/endpoints", {"url": receiver.url(), "event_types": ["quiz.graded"]}
    )
    assert made.status_code == 201, made.content
    endpoint = made.json()
    assert "secret" not in endpoint and endpoint["is_active"] is True
    secret = client.get(f"/api/v1/webhooks/endpoints/{endpoint['id']}/secret").json()["secret"]
    assert secret.startswith("whsec_")

    with django_capture_on_commit_callbacks(execute=True):
        sent = _post(client, f"/api/v1/webhooks/endpoints/{endpoint['id']}/test")
    assert sent.status_code == 202
    [got] = receiver.wait_for(1)
    assert Webhook(secret).verify(got.body, got.headers)["type"] == "webhook.test"
    log = client.get(f"/api/v1/webhooks/endpoints/{endpoint['id']}/deliveries").json()
    [delivery] = log["items"]
    assert delivery["status"] == "succeeded" and delivery["last_status_code"] == 200
    assert delivery["msg_id"] == got.headers["webhook-id"]

    with django_capture_on_commit_callbacks(execute=True):
        again = _post(client, f"/api/v1/webhooks/deliveries/{delivery['id']}/redeliver")
    assert again.status_code == 202 and again.json()["msg_id"] == delivery["msg_id"]
    assert len(receiver.wait_for(2)) == 2

    rotated = _post(client, f"/api/v1/webhooks/endpoints/{endpoint['id']}/rotate-secret").json()
    assert rotated["previous_secret"] == secret and rotated["secret"] != secret

    changed = client.patch(
        f"/api/v1/webhooks/endpoints/{endpoint['id']}",
        json.dumps({"is_active": False, "event_types": ["quiz.graded", "lesson.completed"]}),
        content_type="application/json",
    )
    assert changed.status_code == 200
    assert changed.json()["is_active"] is False and changed.json()["event_types"] == [
        "lesson.completed",
        "quiz.graded",
    ]
    assert client.delete(f"/api/v1/webhooks/endpoints/{endpoint['id']}").status_code == 204
    assert client.get(f"/api/v1/webhooks/endpoints/{endpoint['id']}").status_code == 404
    connection.set_tenant(tenant)
    assert not WebhookMessage.objects.exists()  # its messages went with it
    connection.set_schema_to_public()


def test_bad_input_is_a_problem_body_with_the_field(tenant, admin_key):
    client = api_client(tenant, admin_key)
    for body, field in (
        ({"url": "ftp://x.example/", "event_types": ["quiz.graded"]}, "url"),
        ({"url": "http://127.0.0.1:9/", "event_types": ["nope"]}, "event_types"),
        ({"url": "http://127.0.0.1:9/", "event_types": []}, "event_types"),
    ):
        answer = _post(client, "/api/v1/webhooks/endpoints", body)
        assert answer.status_code == 400, answer.content
        assert answer["Content-Type"] == "application/problem+json"
        assert answer.json()["field"] == field and answer.json()["detail"]
    connection.set_tenant(tenant)
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("role", ["instructor", "learner"])
def test_people_who_are_not_admins_are_refused(tenant, role):
    client = api_client(tenant, make_key(tenant, role=role))
    assert client.get("/api/v1/webhooks/endpoints").status_code == 403
    answer = _post(
        client, "/api/v1/webhooks/endpoints", {"url": "http://127.0.0.1:9/", "event_types": ["quiz.graded"]}
    )
    assert answer.status_code == 403 and answer.json()["code"] == "not_tenant_admin"


def test_a_key_without_the_webhooks_scope_is_refused(tenant):
    client = api_client(tenant, make_key(tenant, scopes=["catalog:read"]))
    assert client.get("/api/v1/webhooks/endpoints").status_code == 403
    read_only = api_client(tenant, make_key(tenant, scopes=["webhooks:read"]))
    assert read_only.get("/api/v1/webhooks/endpoints").status_code == 200
    answer = _post(
        read_only,
        "/api/v1/webhooks/endpoints",
        {"url": "http://127.0.0.1:9/", "event_types": ["quiz.graded"]},
    )
    assert answer.status_code == 403
