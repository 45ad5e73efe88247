"""Hostname -> tenant is remembered per process and dropped by any Tenant/Domain write (ADR 0051)."""

from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from tenants import routing
from tenants.models import Domain
from tenants.services import domain_add, tenant_resume, tenant_suspend
from tests.fixtures import client_for


def _domain_queries(client, path="/", **extra) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, **extra)
    return response.status_code, sum('FROM "tenants_domain"' in q["sql"] for q in queries.captured_queries)


def test_a_known_host_is_looked_up_once_per_process(tenant):
    client = client_for(tenant)
    client.get("/")
    assert _domain_queries(client) == (200, 0)


def test_a_suspended_tenant_answers_403_on_the_next_request(tenant):
    client = client_for(tenant)
    assert _domain_queries(client)[0] == 200  # the host is remembered now
    tenant_suspend(tenant=tenant, reason="unpaid")
    response = client.get("/")
    assert response.status_code == 403
    assert b"This site is suspended" in response.content
    tenant_resume(tenant=tenant)
    assert client.get("/").status_code == 200


def test_another_process_sees_the_write_through_the_token(tenant):
    """A process that did not make the write still drops what it remembered: the shared token moved."""
    client = client_for(tenant)
    client.get("/")
    before = routing._token()
    # Another process suspends the tenant: the row changes and the token is replaced, but
    # this process's signal handlers never run. Simulated by writing the row with .update()
    # (no signal) and replacing the token as that process would.
    type(tenant).objects.filter(pk=tenant.pk).update(is_active=False)
    routing.routing_token_replace()
    assert routing._token() != before
    assert client.get("/").status_code == 403
    type(tenant).objects.filter(pk=tenant.pk).update(is_active=True)
    routing.routing_token_replace()
    assert client.get("/").status_code == 200


def test_a_removed_domain_stops_answering_and_a_new_one_starts(tenant):
    added = domain_add(tenant=tenant, domain="learn.acme.localhost")
    client = client_for(tenant)
    assert client.get("/", HTTP_HOST="learn.acme.localhost").status_code == 200
    added.delete()
    assert client.get("/", HTTP_HOST="learn.acme.localhost").status_code == 404


def test_each_request_gets_its_own_tenant_object(tenant):
    client = client_for(tenant)
    first = client.get("/").wsgi_request.tenant
    first.name = "Changed in memory, never saved"
    second = client.get("/")
    assert second.wsgi_request.tenant is not first
    assert second.wsgi_request.tenant.name == "Acme Corp"
    assert b"Changed in memory" not in second.content


def test_hosts_never_cross_tenants(tenant, other_tenant):
    acme, globex = client_for(tenant), client_for(other_tenant)
    for _ in range(2):  # cold, then remembered
        assert acme.get("/").wsgi_request.tenant.pk == tenant.pk
        assert globex.get("/").wsgi_request.tenant.pk == other_tenant.pk


def test_the_token_lives_in_the_public_namespace_and_is_random(tenant):
    with schema_context(tenant.schema_name):  # a write made from inside a tenant's request
        routing.routing_changed()
    token = routing._token()
    with schema_context("public"):
        assert cache.get(routing.TOKEN_KEY) == token
    with schema_context(tenant.schema_name):
        assert cache.get(routing.TOKEN_KEY) is None
    routing.routing_token_replace()
    assert routing._token() not in (None, token)


def test_without_the_cache_every_request_reads_the_database(tenant, monkeypatch):
    import redis

    client = client_for(tenant)
    client.get("/")
    # Redis down: every read of the cache (GET, and the routing read's MGET) is refused.
    down = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    monkeypatch.setattr(cache._cache, "get_client", lambda *args, **kwargs: down)
    _status, domain_queries = _domain_queries(client, "/healthz")
    assert domain_queries == 1
    assert Domain.objects.filter(domain="acme.localhost").exists()
