from django.contrib.auth import get_user_model
from django.db import connection
from django_tenants.utils import schema_context

from tenants.services import tenant_resume, tenant_suspend
from tests.fixtures import client_for


def test_each_tenant_host_reaches_its_own_schema(tenant, other_tenant):
    for current in (tenant, other_tenant):
        response = client_for(current).get("/")
        assert response.status_code == 200
        assert response.wsgi_request.tenant.pk == current.pk
        assert connection.schema_name == current.schema_name
        assert current.name.encode() in response.content


def test_signed_in_page_shows_the_tenant_users_own_data(tenant):
    response = client_for(tenant, as_role="learner").get("/")
    assert response.status_code == 200
    assert b"Welcome back" in response.content
    assert b"Acme Corp" in response.content


def test_unknown_host_is_a_plain_404_not_the_public_site(db):
    response = client_for(None).get("/", HTTP_HOST="nobody.localhost")
    assert response.status_code == 404
    assert b"no site at this address" in response.content
    assert b"Operator" not in response.content


def test_host_outside_allowed_hosts_is_refused(db):
    response = client_for(None).get("/", HTTP_HOST="evil.example.com")
    # django-tenants answers a host outside ALLOWED_HOSTS before anything else: an empty 404.
    assert response.status_code == 404
    assert response.content == b""


def test_root_domain_is_the_operator_site(db):
    response = client_for(None).get("/")
    assert response.status_code == 200
    assert b"Operator administration" in response.content
    assert client_for(None).get("/admin/").status_code == 302


def test_suspended_tenant_answers_403_and_keeps_its_data(tenant):
    with schema_context(tenant.schema_name):
        users_before = get_user_model().objects.count()
    tenant_suspend(tenant=tenant, reason="unpaid")
    for path in ("/", "/accounts/login/", "/admin/"):
        response = client_for(tenant).get(path)
        assert response.status_code == 403
        assert b"This site is suspended" in response.content
    with schema_context(tenant.schema_name):
        assert get_user_model().objects.count() == users_before
    tenant_resume(tenant=tenant)
    assert client_for(tenant).get("/").status_code == 200


def test_suspending_one_tenant_leaves_the_other_open(tenant, other_tenant):
    tenant_suspend(tenant=tenant)
    assert client_for(other_tenant).get("/").status_code == 200


def test_healthz_answers_on_every_host(tenant):
    for host in ("localhost", "acme.localhost", "nobody.localhost"):
        response = client_for(None).get("/healthz", HTTP_HOST=host)
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["status"] == "ok"
        assert set(body["checks"]) == {"database", "redis", "s3"}


def test_healthz_is_503_with_the_failing_part_named_when_redis_is_down(tenant, monkeypatch):
    import redis

    from lms import health

    # A real client aimed at a port where nothing listens: a real connection failure.
    monkeypatch.setattr(health, "_redis", redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5))
    response = client_for(tenant).get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["redis"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True
