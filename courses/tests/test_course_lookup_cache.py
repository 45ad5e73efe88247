"""The per-process layer of the published-course lookup never outlives a change (ADR 0052)."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from courses.selectors import course_get_published
from courses.services import course_archive, course_delete
from courses.tests.factories import make_course

User = get_user_model()


def test_a_deleted_course_is_gone_on_the_next_lookup(in_tenant):
    admin = User.objects.get(email="admin@acme.test")
    course = make_course(slug="lookup-deleted")
    assert course_get_published(slug="lookup-deleted").pk == course.pk
    with CaptureQueriesContext(connection) as queries:
        assert course_get_published(slug="lookup-deleted").pk == course.pk
    assert not queries.captured_queries  # remembered
    course_delete(actor=admin, course=course)
    with pytest.raises(Http404):
        course_get_published(slug="lookup-deleted")


def test_an_archived_course_shows_its_new_status_at_once(in_tenant):
    admin = User.objects.get(email="admin@acme.test")
    course = make_course(slug="lookup-archived")
    assert course_get_published(slug="lookup-archived").status == "published"
    course_archive(actor=admin, course=course)
    assert course_get_published(slug="lookup-archived").status == "archived"


def test_each_caller_gets_its_own_course_object(in_tenant):
    make_course(slug="lookup-copy")
    first = course_get_published(slug="lookup-copy")
    first.title = "Changed in memory"
    second = course_get_published(slug="lookup-copy")
    assert second is not first
    assert second.title != "Changed in memory"


def test_the_same_slug_in_two_tenants_gives_each_its_own_course(tenant, other_tenant):
    connection.set_tenant(tenant)
    acme_course = make_course(slug="lookup-shared-slug", title="Acme's course")
    assert course_get_published(slug="lookup-shared-slug").title == "Acme's course"
    connection.set_tenant(other_tenant)
    with pytest.raises(Http404):  # globex has no such course, whatever acme's process remembers
        course_get_published(slug="lookup-shared-slug")
    globex_course = make_course(slug="lookup-shared-slug", title="Globex's course")
    found = course_get_published(slug="lookup-shared-slug")
    assert (found.pk, found.title) == (globex_course.pk, "Globex's course")
    connection.set_tenant(tenant)
    assert course_get_published(slug="lookup-shared-slug").title == acme_course.title


def test_a_slug_longer_than_any_course_is_not_found_without_a_query_or_a_cache_key(in_tenant):
    from django.core.cache import cache

    slug = "x" * 10_000
    with CaptureQueriesContext(connection) as queries, pytest.raises(Http404):
        course_get_published(slug=slug)
    assert not queries.captured_queries
    assert not [key for key in cache._cache.get_client().scan_iter(match="*xxxxxxxxxx*")]


@pytest.mark.parametrize("slug", ["with space", "ünïcode", "tab\there", "private, no-store", "nul\x00"])
def test_a_slug_no_course_can_have_is_not_found_without_a_query_or_a_cache_key(in_tenant, slug):
    """The API's path parameters take any text; only a SlugField's characters reach the cache."""
    from django.core.cache import cache

    with CaptureQueriesContext(connection) as queries, pytest.raises(Http404):
        course_get_published(slug=slug)
    assert not queries.captured_queries
    client = cache._cache.get_client()
    assert not [key for key in client.scan_iter(match="*:published:*") if slug.encode() in key]
