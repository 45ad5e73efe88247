"""A deleted tenant's cache keys never reach a new namesake; a new name costs no SCAN (ADR 0186)."""

import uuid

import pytest
import redis
from django.core.cache import cache
from django_tenants.utils import schema_context
from redis.cluster import RedisCluster

from tenants import cache as tenant_cache
from tenants.models import RetiredSchema, Tenant
from tenants.services import TenantError, tenant_create, tenant_delete


@pytest.fixture
def scans(monkeypatch) -> list:
    """Every SCAN sent through redis-py while the test runs (the calls still reach Redis)."""
    seen: list = []
    for cls in (redis.Redis, RedisCluster):
        for name in ("scan", "scan_iter"):
            real = getattr(cls, name)

            def spy(self, *args, _real=real, _name=name, **kwargs):
                seen.append((_name, kwargs.get("match")))
                return _real(self, *args, **kwargs)

            monkeypatch.setattr(cls, name, spy)
    return seen


@pytest.fixture
def slug():
    """A name no tenant ever had; its keys are purged afterwards (Redis does not roll back)."""
    name = f"pc-{uuid.uuid4().hex[:10]}"
    yield name
    tenant_cache.cache_purge_schema(name.replace("-", "_"))


def _raw_keys(schema: str) -> list[bytes]:
    return list(cache._cache.get_client(None).scan_iter(match=f"{schema}:*"))


def test_creating_a_tenant_with_a_never_used_name_sends_no_scan(db, scans, slug):
    created = tenant_create(slug=slug, name="Fresh", admin_email=f"a@{slug}.test")
    assert Tenant.objects.filter(schema_name=created.tenant.schema_name).exists()
    assert scans == []


def test_deleting_a_tenant_leaves_the_scan_to_a_task_after_commit(
    db, scans, slug, django_capture_on_commit_callbacks
):
    tenant = tenant_create(slug=slug, name="Short-lived", admin_email=f"a@{slug}.test").tenant
    schema = tenant.schema_name
    with schema_context(schema):
        cache.set("course-outline:1", "the outline", 300)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        tenant_delete(tenant=tenant, confirm=slug)
    assert scans == []  # the delete itself does not walk the keyspace
    retired = RetiredSchema.objects.get(schema_name=schema)
    assert retired.purged_at is None
    assert _raw_keys(schema)

    for callback in callbacks:
        callback()  # what happens on commit: the task, run eagerly in tests
    assert _raw_keys(schema) == []
    retired.refresh_from_db()
    assert retired.purged_at is not None
    assert ("scan_iter", f"{schema}:*") in scans


def test_a_reused_name_cannot_read_the_old_tenants_entries_when_the_purge_after_delete_never_ran(
    db, scans, slug
):
    old = tenant_create(slug=slug, name="Old", admin_email=f"a@{slug}.test").tenant
    schema = old.schema_name
    with schema_context(schema):
        cache.set("course-outline:1", "the old tenant's outline", 300)
        cache.set(f"session-like:{uuid.uuid4().hex}", {"_auth_user_id": "1"}, 300)
    tenant_delete(tenant=old, confirm=slug)  # the test's transaction never commits: no purge ran
    assert len(_raw_keys(schema)) == 2

    tenant_create(slug=slug, name="New", admin_email=f"b@{slug}.test")
    with schema_context(schema):
        assert cache.get("course-outline:1") is None
    assert _raw_keys(schema) == []
    assert RetiredSchema.objects.get(schema_name=schema).purged_at is not None


def test_a_reused_name_is_refused_while_redis_cannot_purge_the_old_entries(db, slug, monkeypatch):
    old = tenant_create(slug=slug, name="Old", admin_email=f"a@{slug}.test").tenant
    schema = old.schema_name
    with schema_context(schema):
        cache.set("course-outline:1", "the old tenant's outline", 300)
    tenant_delete(tenant=old, confirm=slug)

    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    with monkeypatch.context() as patch:
        patch.setattr(tenant_cache, "redis_from_url", lambda *a, **k: dead)
        with pytest.raises(TenantError, match="Redis does not answer"):
            tenant_create(slug=slug, name="New", admin_email=f"b@{slug}.test")
    assert not Tenant.objects.filter(schema_name=schema).exists()
    assert RetiredSchema.objects.get(schema_name=schema).purged_at is None
    with schema_context(schema):
        assert cache.get("course-outline:1") == "the old tenant's outline"  # still there, unread


def test_a_late_purge_task_leaves_the_new_tenant_of_the_name_alone(
    db, slug, django_capture_on_commit_callbacks
):
    old = tenant_create(slug=slug, name="Old", admin_email=f"a@{slug}.test").tenant
    schema = old.schema_name
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        tenant_delete(tenant=old, confirm=slug)
    tenant_create(slug=slug, name="New", admin_email=f"b@{slug}.test")
    with schema_context(schema):
        cache.set("course-outline:1", "the new tenant's outline", 300)

    for callback in callbacks:
        callback()  # the worker got to the delete's purge only now
    assert tenant_cache.retired_schemas_purge() == 0
    with schema_context(schema):
        assert cache.get("course-outline:1") == "the new tenant's outline"


def test_the_beat_purges_what_a_failed_task_left(db, slug):
    old = tenant_create(slug=slug, name="Old", admin_email=f"a@{slug}.test").tenant
    schema = old.schema_name
    with schema_context(schema):
        cache.set("course-outline:1", "the old tenant's outline", 300)
    tenant_delete(tenant=old, confirm=slug)  # its task never ran

    from tenants.tasks import retired_cache_purge_task

    assert retired_cache_purge_task.delay().get() >= 1
    assert _raw_keys(schema) == []
    assert RetiredSchema.objects.get(schema_name=schema).purged_at is not None
