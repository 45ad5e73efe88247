"""Who may call the API, how often, and what a repeated or conditional request gets."""

from __future__ import annotations

import time

import jwt
import pytest
from django.db import connection

from api.models import ApiKey, IdempotencyRecord
from api.tokens import _signing_key
from courses.tests.factories import make_course
from enrollments.models import Enrollment
from tests.fixtures import client_for, host_of

from .conftest import api_client, make_key

pytestmark = pytest.mark.django_db


def _course(tenant, **kw):
    connection.set_tenant(tenant)
    try:
        return make_course(**kw)
    finally:
        connection.set_schema_to_public()


def test_openapi_document_is_3_1_and_lists_the_endpoints(tenant):
    response = api_client(tenant).get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert doc["openapi"].startswith("3.1")
    assert "/api/v1/courses" in doc["paths"]
    assert "/api/v1/auth/token" in doc["paths"]


def test_no_credentials_is_401_with_a_problem_body(tenant):
    response = api_client(tenant).get("/api/v1/courses")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 401 and body["code"] == "unauthorized" and body["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_key_lists_the_catalog(tenant, admin_key):
    _course(tenant, slug="api-listed")
    response = api_client(tenant, admin_key).get("/api/v1/courses")
    assert response.status_code == 200
    assert "api-listed" in [c["slug"] for c in response.json()["items"]]


def test_a_key_of_another_tenant_is_401_here(tenant, other_admin_key):
    response = api_client(tenant, other_admin_key).get("/api/v1/courses")
    assert response.status_code == 401


def test_a_garbled_or_wrong_secret_is_401(tenant, admin_key):
    prefix = admin_key.rsplit("_", 1)[0]
    for credentials in (f"{prefix}_wrong", "lms_", "lms_x", "not-a-token", admin_key + "x"):
        assert api_client(tenant, credentials).get("/api/v1/courses").status_code == 401, credentials
    response = api_client(tenant).get("/api/v1/courses", HTTP_AUTHORIZATION=f"Basic {admin_key}")
    assert response.status_code == 401


def test_a_revoked_key_is_401_at_once(tenant, admin_key):
    from api.keys import api_key_revoke

    connection.set_tenant(tenant)
    key = ApiKey.objects.get(prefix=admin_key.split("_")[1])
    api_key_revoke(actor=key.created_by, key=key)
    connection.set_schema_to_public()
    assert api_client(tenant, admin_key).get("/api/v1/courses").status_code == 401


def test_the_key_is_stored_hashed_and_its_use_recorded(tenant, admin_key):
    api_client(tenant, admin_key).get("/api/v1/me")
    connection.set_tenant(tenant)
    key = ApiKey.objects.get(prefix=admin_key.split("_")[1])
    assert admin_key.split("_", 2)[2] not in key.secret_hash
    assert key.last_used_at is not None


def test_a_key_without_the_scope_is_403(tenant):
    key = make_key(tenant, scopes=["catalog:read"])
    client = api_client(tenant, key)
    assert client.get("/api/v1/courses").status_code == 200
    response = client.get("/api/v1/me/enrollments")
    assert response.status_code == 403
    assert response.json()["code"] == "missing_scope"


def test_a_token_works_on_its_site_and_is_401_on_another(tenant, other_tenant, admin_key):
    response = api_client(tenant, admin_key).post(
        "/api/v1/auth/token", content_type="application/json", data={}
    )
    assert response.status_code == 200
    token = response.json()["access_token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["aud"] == host_of(tenant) and claims["tenant"] == str(tenant.uuid)
    assert api_client(tenant, token).get("/api/v1/me").json()["via"] == "token"
    assert api_client(other_tenant, token).get("/api/v1/me").status_code == 401


def test_a_token_signed_for_another_host_of_the_same_tenant_is_401(tenant):
    claims = {
        "iss": "lms",
        "aud": "elsewhere.localhost",
        "sub": "1",
        "tenant": str(tenant.uuid),
        "scopes": ["catalog:read"],
        "iat": int(time.time()),
        "exp": int(time.time()) + 60,
    }
    token = jwt.encode(claims, _signing_key(tenant), algorithm="HS256")
    assert api_client(tenant, token).get("/api/v1/me").status_code == 401


def test_an_expired_token_is_401_with_the_reason(tenant, admin_key):
    claims = {
        "iss": "lms",
        "aud": host_of(tenant),
        "sub": "1",
        "tenant": str(tenant.uuid),
        "scopes": ["catalog:read"],
        "iat": int(time.time()) - 3600,
        "exp": int(time.time()) - 600,
    }
    token = jwt.encode(claims, _signing_key(tenant), algorithm="HS256")
    response = api_client(tenant, token).get("/api/v1/me")
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_a_token_dies_with_its_key(tenant, admin_key):
    from api.keys import api_key_revoke

    token = api_client(tenant, admin_key).post("/api/v1/auth/token").json()["access_token"]
    connection.set_tenant(tenant)
    key = ApiKey.objects.get(prefix=admin_key.split("_")[1])
    api_key_revoke(actor=key.created_by, key=key)
    connection.set_schema_to_public()
    assert api_client(tenant, token).get("/api/v1/me").status_code == 401


def test_a_token_cannot_widen_the_key_scopes(tenant):
    key = make_key(tenant, scopes=["catalog:read"])
    response = api_client(tenant, key).post(
        "/api/v1/auth/token", content_type="application/json", data={"scopes": ["people:write"]}
    )
    assert response.status_code == 403


def test_past_the_per_key_limit_is_429_with_retry_after(tenant):
    key = make_key(tenant, rate=3)
    client = api_client(tenant, key)
    answers = [client.get("/api/v1/me").status_code for _ in range(4)]
    assert answers[:3] == [200, 200, 200]
    assert answers[3] == 429
    response = client.get("/api/v1/me")
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response.json()["code"] == "rate_limited"


def test_a_matching_if_none_match_gets_304(tenant, admin_key):
    _course(tenant, slug="api-etag")
    client = api_client(tenant, admin_key)
    first = client.get("/api/v1/courses/api-etag")
    assert first.status_code == 200 and first["ETag"]
    again = client.get("/api/v1/courses/api-etag", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b""
    other = client.get("/api/v1/courses/api-etag", HTTP_IF_NONE_MATCH='"something-else"')
    assert other.status_code == 200


def test_a_post_repeated_with_its_idempotency_key_is_replayed_not_run_twice(tenant):
    course = _course(tenant, slug="api-idem")
    key = make_key(tenant, role="learner")
    client = api_client(tenant, key)
    first = client.post("/api/v1/courses/api-idem/enrollment", HTTP_IDEMPOTENCY_KEY="abc-1")
    assert first.status_code == 201
    second = client.post("/api/v1/courses/api-idem/enrollment", HTTP_IDEMPOTENCY_KEY="abc-1")
    assert second.status_code == 201 and second["Idempotent-Replayed"] == "true"
    assert second.content == first.content
    connection.set_tenant(tenant)
    assert Enrollment.objects.filter(course=course).count() == 1
    connection.set_schema_to_public()
    # Without the key the second enrollment is refused by the service (already enrolled).
    assert client.post("/api/v1/courses/api-idem/enrollment").status_code == 400


def test_the_same_idempotency_key_for_another_request_is_422(tenant):
    _course(tenant, slug="api-idem-a")
    _course(tenant, slug="api-idem-b")
    client = api_client(tenant, make_key(tenant, role="learner"))
    assert client.post("/api/v1/courses/api-idem-a/enrollment", HTTP_IDEMPOTENCY_KEY="k").status_code == 201
    response = client.post("/api/v1/courses/api-idem-b/enrollment", HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"


def test_idempotency_keys_of_two_tenants_never_meet(tenant, other_tenant):
    _course(tenant, slug="api-idem-t")
    _course(other_tenant, slug="api-idem-t")
    a = api_client(tenant, make_key(tenant, role="learner"))
    b = api_client(other_tenant, make_key(other_tenant, role="learner"))
    assert a.post("/api/v1/courses/api-idem-t/enrollment", HTTP_IDEMPOTENCY_KEY="same").status_code == 201
    response = b.post("/api/v1/courses/api-idem-t/enrollment", HTTP_IDEMPOTENCY_KEY="same")
    assert response.status_code == 201 and "Idempotent-Replayed" not in response
    connection.set_tenant(other_tenant)
    assert IdempotencyRecord.objects.filter(key="same").count() == 1


def test_the_session_works_and_its_unsafe_methods_need_csrf(tenant):
    _course(tenant, slug="api-csrf")
    client = client_for(tenant, as_role="learner")
    assert client.get("/api/v1/me").json()["via"] == "session"
    client.handler.enforce_csrf_checks = True
    refused = client.post("/api/v1/courses/api-csrf/enrollment")
    assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"
    token = client.cookies["csrftoken"].value if "csrftoken" in client.cookies else None
    if token is None:
        client.get("/accounts/login/")
        token = client.cookies["csrftoken"].value
    accepted = client.post("/api/v1/courses/api-csrf/enrollment", HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 201


def test_bad_input_is_422_with_the_field(tenant, admin_key):
    response = api_client(tenant, admin_key).get("/api/v1/courses?limit=abc")
    assert response.status_code == 422
    assert response.json()["field"] == "limit"
    response = api_client(tenant, admin_key).get("/api/v1/courses?limit=1000")
    assert response.status_code == 400 and response.json()["field"] == "limit"
    response = api_client(tenant, admin_key).get("/api/v1/courses?cursor=%%%")
    assert response.status_code == 400 and response.json()["field"] == "cursor"


def test_an_unknown_api_path_is_a_json_404(tenant, admin_key):
    response = api_client(tenant, admin_key).get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert "json" in response["Content-Type"]


def test_an_api_request_reads_the_keys_and_courses_versions_with_the_routing_token(
    tenant, admin_key, monkeypatch
):
    """Two round trips before the view: the routing MGET (token, keys version, courses version),
    then the rate counter's pipeline; neither version is read again (ADR 0190)."""
    from django.core.cache import cache
    from django_tenants.utils import schema_context

    from api.gate import keys_version_key
    from courses.cache import VERSION_KEY

    client = api_client(tenant, admin_key)
    client.get("/api/v1/courses")  # the host is known to this process now
    redis_client = cache._cache.get_client(None)
    sent = []
    real = redis_client.execute_command

    def recording(*args, **options):
        sent.append([a.decode(errors="replace") if isinstance(a, bytes) else str(a) for a in args])
        return real(*args, **options)

    monkeypatch.setattr(redis_client, "execute_command", recording)
    real_pipeline_execute = type(redis_client.pipeline()).execute

    def pipeline_execute(pipe, *args, **kwargs):
        sent.append(["PIPELINE", *[str(part) for args, _options in pipe.command_stack for part in args]])
        return real_pipeline_execute(pipe, *args, **kwargs)

    monkeypatch.setattr(type(redis_client.pipeline()), "execute", pipeline_execute)
    assert client.get("/api/v1/courses").status_code == 200
    with schema_context(tenant.schema_name):
        keys_version = cache.make_key(keys_version_key())
        courses_version = cache.make_key(VERSION_KEY)
    assert sent[0][0] == "MGET" and {keys_version, courses_version} <= set(sent[0])
    assert sent[1][0] == "PIPELINE" and keys_version not in sent[1]
    later = {part for command in sent[1:] for part in command}
    assert courses_version not in later and keys_version not in later
