"""A worker that serves more tenants than a per-process cache holds keeps the cache at its bound (ADR 0115).

Issue #17 item 3: every cache keyed per tenant in a worker process has a bound. Each test
touches more tenants than the bound (set small here) and checks the cache stays at it. The
course caches are keyed by the tenant's uuid, so tenants are stood in for by Tenant objects
with fresh uuids on acme's schema (creating hundreds of real schemas would take minutes);
the routing cache is keyed by host, so it is filled with real domains.
"""

import uuid

from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from core.local_cache import local_caches
from courses import cache as courses_cache
from courses import selectors
from courses.selectors import course_get_published, outline_for
from courses.templatetags import course_ui
from courses.tests.factories import make_course
from tenants import routing
from tenants.models import Tenant
from tenants.services import domain_add
from tests.fixtures import client_for

BOUND = 3


def _bounds(**names):
    return override_settings(PROCESS_CACHE_MAX={**settings.PROCESS_CACHE_MAX, **names})


def _stand_in(tenant: Tenant) -> Tenant:
    """Another tenant as far as the uuid-keyed caches can tell: same schema, a never-seen uuid."""
    return Tenant(pk=tenant.pk, schema_name=tenant.schema_name, slug=tenant.slug, uuid=uuid.uuid4())


def test_every_per_process_cache_has_a_bound_in_settings():
    names = {"tenant_routing", "course_lookup", "course_outline", "course_sidebar"}
    assert names <= set(local_caches())
    assert names <= set(settings.PROCESS_CACHE_MAX)
    assert all(local_caches()[name].max_size == settings.PROCESS_CACHE_MAX[name] for name in names)


def test_the_routing_cache_stays_at_its_bound_over_more_hosts(tenant):
    hosts = [f"host{i}.acme.localhost" for i in range(BOUND + 4)]
    for host in hosts:
        domain_add(tenant=tenant, domain=host)
    routing.routing_forget_local()
    client = client_for(tenant)
    with _bounds(tenant_routing=BOUND):
        for host in hosts:
            assert client.get("/", HTTP_HOST=host).status_code == 200
            assert len(routing._local) <= BOUND
        assert len(routing._local) == BOUND
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/", HTTP_HOST=hosts[-1]).status_code == 200  # still remembered
            assert client.get("/", HTTP_HOST=hosts[0]).status_code == 200  # dropped: looked up again
        domain_queries = [q for q in queries.captured_queries if 'FROM "tenants_domain"' in q["sql"]]
        assert len(domain_queries) == 1


def test_the_course_caches_stay_at_their_bound_over_more_tenants(tenant):
    connection.set_tenant(tenant)
    course = make_course(slug="bounded", modules=1, lessons=2)
    for cache in (courses_cache._local, selectors._LOCAL_OUTLINES, course_ui._SIDEBAR_PARTS):
        cache.clear()
    with _bounds(course_lookup=BOUND, course_outline=BOUND, course_sidebar=BOUND):
        for _ in range(BOUND + 5):
            connection.set_tenant(_stand_in(tenant))
            found = course_get_published(slug="bounded")
            outline = outline_for(found)
            course_ui.course_contents(outline, None, set(), "enrollments:lesson", "bounded", True)
            for cache in (courses_cache._local, selectors._LOCAL_OUTLINES, course_ui._SIDEBAR_PARTS):
                assert len(cache) <= BOUND
        assert len(courses_cache._local) == BOUND
        assert len(selectors._LOCAL_OUTLINES) == BOUND
        assert len(course_ui._SIDEBAR_PARTS) == BOUND
    assert found.pk == course.pk
