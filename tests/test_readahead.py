"""A request's first Redis round trip reads what it will need next (core.readahead, ADR 0190)."""

from __future__ import annotations

import pickle

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.signals import request_finished
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from accounts.models import User
from core import readahead
from courses.models import Course
from courses.tests.factories import lessons_of, make_course
from enrollments.cache import learner_state
from enrollments.models import Enrollment
from enrollments.services import enrollment_create
from tenants import routing
from tests.fixtures import client_for


@pytest.fixture
def commands(monkeypatch):
    """Every command the cache's Redis client sends, as (name, keys...)."""
    sent: list[tuple] = []
    client = cache._cache.get_client(None)
    real = client.execute_command

    def recording(*args, **options):
        sent.append(tuple(a.decode(errors="replace") if isinstance(a, bytes) else str(a) for a in args))
        return real(*args, **options)

    monkeypatch.setattr(client, "execute_command", recording)
    return sent


def _session_key(client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def test_a_signed_in_page_reads_session_user_and_version_with_the_routing_token(tenant, commands):
    client = client_for(tenant, as_role="learner")
    client.get("/")  # this process now knows the host, the session and its user
    commands.clear()
    assert client.get("/").status_code == 200
    first = commands[0]
    session_key = _session_key(client)
    with schema_context(tenant.schema_name):
        user = User.objects.get(email="learner@acme.test")
        expected = [
            cache.make_key("django.contrib.sessions.cached_db" + session_key),
            cache.make_key(f"auth-user:{user.pk}"),
            cache.make_key("courses:version"),
        ]
    with schema_context("public"):
        token_key = cache.make_key(routing.TOKEN_KEY)
    assert first[0] == "MGET" and first[1] == token_key
    assert set(expected) <= set(first[2:])
    # Nothing read ahead is read a second time.
    later_keys = {key for command in commands[1:] for key in command[1:]}
    assert not later_keys & set(expected), commands


def test_a_read_ahead_entry_of_one_tenant_is_no_answer_for_another(tenant, other_tenant):
    readahead.keep({readahead.schema_key(tenant.schema_name, "some:key"): pickle.dumps("acme's")})
    try:
        with schema_context(other_tenant.schema_name):
            assert readahead.take("some:key") == (False, None)
        with schema_context(tenant.schema_name):
            assert readahead.take("some:key") == (True, "acme's")
    finally:
        readahead.forget()


def test_the_full_key_is_the_one_the_cache_makes(tenant):
    with schema_context(tenant.schema_name):
        assert readahead.schema_key(tenant.schema_name, "a:b") == cache.make_and_validate_key("a:b")


def test_entries_are_dropped_when_the_request_ends(tenant):
    readahead.keep({readahead.schema_key(tenant.schema_name, "k"): b"1"})
    request_finished.send(sender=None)
    with schema_context(tenant.schema_name):
        assert readahead.take("k") == (False, None)


def test_a_write_is_read_back_not_the_entry_read_ahead(tenant):
    with schema_context(tenant.schema_name):
        user = User.objects.get(email="learner@acme.test")
        key = f"auth-user:{user.pk}"
        readahead.keep({cache.make_key(key): pickle.dumps("stale")})
        user.full_name = "Renamed"
        user.save()  # the user cache forgets the entry, here too
        assert readahead.take(key) == (False, None)
    readahead.forget()


def test_a_moved_routing_token_reads_nothing_ahead(tenant, commands):
    client = client_for(tenant, as_role="learner")
    client.get("/")
    routing.routing_token_replace()  # as another process's Tenant or Domain write would
    commands.clear()
    assert client.get("/").status_code == 200
    session_key = _session_key(client)
    with schema_context(tenant.schema_name):
        session_cache_key = cache.make_key("django.contrib.sessions.cached_db" + session_key)
    # The guess was not trusted: the session was read on its own, after the host was looked up.
    assert any(command[0] == "GET" and command[1] == session_cache_key for command in commands), commands


def test_another_tenants_session_cookie_signs_nobody_in(tenant, other_tenant):
    acme = client_for(tenant, as_role="learner")
    acme.get("/")
    globex = client_for(other_tenant)
    globex.get("/")
    globex.cookies[settings.SESSION_COOKIE_NAME] = _session_key(acme)
    for _ in range(2):  # the second time with the host known: the read-ahead path
        response = globex.get("/learning/")
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("cookie", ["../../x", "A" * 40, "short", "x" * 65, "abc def ghi jkl"])
def test_a_malformed_session_cookie_is_not_read_ahead(tenant, commands, cookie):
    client = client_for(tenant)
    client.get("/")
    client.cookies[settings.SESSION_COOKIE_NAME] = cookie
    commands.clear()
    assert client.get("/").status_code == 200
    assert not any("sessions" in key for key in commands[0][1:]), commands[0]
    # Nor later: the session store takes such a cookie for no session at all.
    assert not any(cookie in " ".join(map(str, command)) for command in commands), commands


def _lesson_page(tenant, slug: str) -> tuple:
    """A learner enrolled in a new course of `tenant`: (signed-in client, lesson URL, user id, course id)."""
    with schema_context(tenant.schema_name):
        course = make_course(slug=slug, modules=1, lessons=3)
        user = User.objects.get(email=f"learner@{tenant.slug}.test")
        enrollment_create(user=user, course=course)
        lesson = lessons_of(course)[1]
    return client_for(tenant, as_role="learner"), f"/learning/{slug}/lessons/{lesson.pk}/", user.pk, course.pk


def test_a_lesson_page_reads_the_learners_state_with_the_routing_token(tenant, commands):
    client, url, user_id, course_id = _lesson_page(tenant, "ahead")
    assert client.get(url).status_code == 200  # this process now knows the session's user and the slug
    assert client.get(url).status_code == 200  # and the learner's state is in the cache
    commands.clear()
    assert client.get(url).status_code == 200
    with schema_context(tenant.schema_name):
        state_key = cache.make_key(f"learner-state:{user_id}:{course_id}")
    assert commands[0][0] == "MGET" and state_key in commands[0][2:], commands[0]
    assert not [c for c in commands[1:] if state_key in c[1:]], commands  # read once, written by nobody
    reads = [c for c in commands if c[0] in ("GET", "MGET")]
    assert len(reads) == 1, commands  # one read round trip for the whole page


def test_a_lesson_page_after_a_progress_write_reads_the_new_state(tenant):
    """The entry read ahead is forgotten by the write of the same request, so nothing stale is taken."""
    client, url, user_id, course_id = _lesson_page(tenant, "ahead-write")
    client.get(url)
    client.get(url)
    with schema_context(tenant.schema_name):
        key = f"learner-state:{user_id}:{course_id}"
        readahead.keep({cache.make_key(key): pickle.dumps("stale")})
        user = User.objects.get(pk=user_id)
        course = Course.objects.get(pk=course_id)
        Enrollment.objects.get(user=user, course=course).save()  # a write of the learner's state
        assert readahead.take(key) == (False, None)
        enrollment, _rows = learner_state(user=user, course=course)
        assert enrollment is not None
    readahead.keep({})


def test_another_tenants_lesson_hint_reads_nothing_of_this_tenant(tenant, other_tenant, commands):
    """Same slug in two tenants: the state read ahead on globex's host is globex's key only."""
    acme_client, acme_url, acme_user, acme_course = _lesson_page(tenant, "same-slug")
    globex_client, globex_url, globex_user, globex_course = _lesson_page(other_tenant, "same-slug")
    for _ in range(2):
        assert acme_client.get(acme_url).status_code == 200
        assert globex_client.get(globex_url).status_code == 200
    commands.clear()
    assert globex_client.get(globex_url).status_code == 200
    with schema_context(tenant.schema_name):
        acme_key = cache.make_key(f"learner-state:{acme_user}:{acme_course}")
    with schema_context(other_tenant.schema_name):
        globex_key = cache.make_key(f"learner-state:{globex_user}:{globex_course}")
    keys = commands[0][2:]
    assert globex_key in keys and acme_key not in keys
    assert not any(k.startswith(f"{tenant.schema_name}:") for k in keys), keys


def test_a_signed_in_catalog_reads_the_badges_with_the_routing_token_and_no_query(tenant, commands):
    client, _url, user_id, _course = _lesson_page(tenant, "badged")
    client.get("/")  # this process now knows the session's user
    client.get("/")  # and the badges are cached
    commands.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/")
    assert response.status_code == 200 and b"Enrolled" in response.content
    assert not queries.captured_queries
    with schema_context(tenant.schema_name):
        key = cache.make_key(f"learner-badges:{user_id}")
    assert commands[0][0] == "MGET" and key in commands[0][2:], commands[0]
    assert not [c for c in commands[1:] if key in c[1:]], commands


def test_the_catalog_badge_follows_the_enrollment_at_once(tenant):
    client, _url, user_id, course_id = _lesson_page(tenant, "badge-moves")
    assert b"Enrolled \xc2\xb7 0%" in client.get("/").content
    with schema_context(tenant.schema_name):
        enrollment = Enrollment.objects.get(user_id=user_id, course_id=course_id)
        enrollment.status = "completed"
        enrollment.save()
    assert b">Completed<" in client.get("/").content
    with schema_context(tenant.schema_name):
        Enrollment.objects.filter(pk=enrollment.pk).get().delete()
    page = client.get("/").content
    assert b">Completed<" not in page and b"Enrolled" not in page


def test_one_tenants_badges_are_never_another_tenants(tenant, other_tenant):
    """The same slug in two schemas: each catalog shows its own learner's badge."""
    acme, _u, acme_user, acme_course = _lesson_page(tenant, "twin")
    globex, *_ = _lesson_page(other_tenant, "twin")
    with schema_context(tenant.schema_name):
        e = Enrollment.objects.get(user_id=acme_user, course_id=acme_course)
        e.status = "completed"
        e.save()
    for _ in range(2):
        assert b">Completed<" in acme.get("/").content
        assert b">Completed<" not in globex.get("/").content and b"Enrolled" in globex.get("/").content
