"""Redis down during track() loses nothing; domain events are tracked after commit."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time

import pytest
import redis
from django.contrib.auth import get_user_model

from analytics.consumer import Consumer
from analytics.ingest import redis_client, reset_client, stream_for, track
from analytics.models import CourseDay, OutboxEvent
from analytics.tasks import outbox_replay_task
from courses.tests.factories import lessons_of, make_course
from enrollments.services import enrollment_create, lesson_complete, lesson_open


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_redis(port: int) -> subprocess.Popen:
    server = shutil.which("redis-server")
    assert server is not None, "own_redis checks for redis-server first"
    proc = subprocess.Popen(
        [server, "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            return proc
        except redis.ConnectionError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("the throwaway redis-server did not start")


@pytest.fixture
def own_redis(settings):
    """A throwaway redis-server on a free port (the shared one on 6379 is never stopped)."""
    if shutil.which("redis-server") is None:
        pytest.fail("This test needs redis-server (Debian's redis-server package; `make services` has it).")
    port = _free_port()
    proc = _start_redis(port)
    settings.ANALYTICS_REDIS_URL = f"redis://127.0.0.1:{port}/0"
    reset_client()
    state = {"proc": proc, "port": port}
    yield state
    state["proc"].kill()
    state["proc"].wait()
    reset_client()


def test_events_tracked_while_redis_is_down_are_replayed_from_the_outbox(own_redis, in_tenant):
    track("enrollment.created", user_id=1, payload={"course_id": 77})
    own_redis["proc"].kill()
    own_redis["proc"].wait()
    for user_id in (2, 3):
        track("enrollment.created", user_id=user_id, payload={"course_id": 77})  # never raises
    assert OutboxEvent.objects.count() == 2
    assert outbox_replay_task() == 0  # still down: rows stay
    assert OutboxEvent.objects.count() == 2

    own_redis["proc"] = _start_redis(own_redis["port"])  # back, but empty: it kept nothing on disk
    reset_client()
    assert outbox_replay_task() == 2
    assert OutboxEvent.objects.count() == 0
    entries = redis_client().xrange(stream_for(str(in_tenant.uuid)))
    assert sorted(json.loads(f[b"e"])["user"] for _, f in entries) == [2, 3]
    Consumer(name="c").drain(seconds=5)
    assert CourseDay.objects.get(course_id=77).new_enrollments == 2
    # Nothing is left: the tenant's due mark is gone, so the next replay visits no schema.
    from tenants.models import TenantDue

    assert not TenantDue.objects.filter(queue="analytics-outbox").exists()


def test_the_replay_finds_due_tenants_in_one_query_and_visits_no_other_schema(
    django_assert_max_num_queries, tenant, other_tenant
):
    """At 2,000 tenants the replay (every 30 s) must not ask each schema whether it has rows."""
    from django.db import connection

    connection.set_schema_to_public()
    with django_assert_max_num_queries(2) as captured:
        assert outbox_replay_task() == 0
    assert not any("analytics_outboxevent" in q["sql"] for q in captured.captured_queries)


def test_domain_events_are_tracked_after_commit(streams, in_tenant, django_capture_on_commit_callbacks):
    learner = get_user_model().objects.get(email="learner@acme.test")
    with django_capture_on_commit_callbacks(execute=True):
        course = make_course(slug="tracked", lessons=1)
        lesson = lessons_of(course)[0]
        enrollment_create(user=learner, course=course)
        lesson_open(user=learner, course=course, lesson_id=lesson.pk)
        lesson_complete(user=learner, course=course, lesson_id=lesson.pk)
    entries = [json.loads(f[b"e"]) for _, f in streams.xrange(stream_for(str(in_tenant.uuid)))]
    assert [e["type"] for e in entries] == [
        "course.published",
        "enrollment.created",
        "lesson.viewed",
        "lesson.completed",
        "enrollment.completed",
    ]
    assert all(e["payload"]["course_id"] == course.pk for e in entries)
    assert {e["user"] for e in entries[1:]} == {learner.pk}


def test_a_rolled_back_write_tracks_nothing(streams, in_tenant, django_capture_on_commit_callbacks):
    from django.db import transaction

    learner = get_user_model().objects.get(email="learner@acme.test")
    course = make_course(slug="rolled-back", lessons=1)
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                enrollment_create(user=learner, course=course)
                raise RuntimeError("the request failed later")
        except RuntimeError:
            pass
    assert streams.xlen(stream_for(str(in_tenant.uuid))) == 0
