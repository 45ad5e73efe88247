"""track() -> Redis stream -> consumer -> reporting tables, against the real Redis and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from analytics.consumer import GROUP, Consumer, apply_events, dead_stream, parse
from analytics.ingest import REJECTED_KEY, encode, envelope, stream_for, stream_names, track
from analytics.models import CourseDay, LearnerCourse, LearnerDay, LessonLearner, ProcessedEvent, QuestionStat

COURSE = 9001
LESSON = 9101


def _entries(client, tenant) -> list[dict]:
    return [json.loads(fields[b"e"]) for _, fields in client.xrange(stream_for(str(tenant.uuid)))]


def _day() -> date:
    return datetime.now(UTC).date()


def _some_events(user_id: int) -> None:
    track("enrollment.created", user_id=user_id, payload={"course_id": COURSE})
    track("lesson.viewed", user_id=user_id, payload={"course_id": COURSE, "lesson_id": LESSON})
    for position in (15, 30, 45):
        track(
            "video.progress",
            user_id=user_id,
            payload={
                "course_id": COURSE,
                "lesson_id": LESSON,
                "position": position,
                "duration": 60,
                "seconds_watched": 15,
            },
        )
    track("lesson.completed", user_id=user_id, payload={"course_id": COURSE, "lesson_id": LESSON})


def _snapshot() -> dict:
    return {
        "course_day": list(
            CourseDay.objects.order_by("course_id", "day").values(
                "course_id",
                "day",
                "new_enrollments",
                "lesson_completions",
                "seconds_watched",
                "quiz_attempts",
                "score_sum",
            )
        ),
        "learner_day": list(
            LearnerDay.objects.order_by("course_id", "day", "user_id").values_list(
                "course_id", "day", "user_id"
            )
        ),
        "lessons": list(
            LessonLearner.objects.order_by("lesson_id", "user_id").values(
                "lesson_id", "user_id", "completed", "watch_percent"
            )
        ),
        "learners": list(
            LearnerCourse.objects.order_by("course_id", "user_id").values("user_id", "seconds_spent")
        ),
        "questions": list(
            QuestionStat.objects.order_by("question_id").values("question_id", "attempts", "correct")
        ),
    }


def test_track_appends_one_stamped_event_to_the_tenants_stream(streams, in_tenant):
    event_id = uuid.uuid4()
    track("lesson.viewed", user_id=7, payload={"course_id": 1, "lesson_id": 2}, event_id=event_id)
    [event] = _entries(streams, in_tenant)
    assert event["id"] == str(event_id)
    assert event["tenant"] == str(in_tenant.uuid) and event["schema"] == in_tenant.schema_name
    assert event["type"] == "lesson.viewed" and event["user"] == 7 and event["v"] == 1
    assert event["payload"] == {"course_id": 1, "lesson_id": 2}
    assert stream_for(str(in_tenant.uuid)) in stream_names()


@pytest.mark.parametrize(
    ("event_type", "payload", "user_id", "occurred_at"),
    [
        ("lesson.exploded", {"course_id": 1}, 7, None),
        ("lesson.viewed", {"course_id": 1}, 7, None),
        ("lesson.viewed", {"course_id": 1, "lesson_id": "2"}, 7, None),
        ("lesson.viewed", {"course_id": 1, "lesson_id": 2, "tenant": "globex"}, 7, None),
        ("lesson.viewed", {"course_id": 1, "lesson_id": 2}, None, None),
        ("lesson.viewed", {"course_id": 1, "lesson_id": 2}, 7, datetime.now(UTC) + timedelta(hours=2)),
        ("lesson.viewed", {"course_id": 1, "lesson_id": 2}, 7, datetime.now(UTC) - timedelta(days=30)),
        (
            "video.progress",
            {"course_id": 1, "lesson_id": 2, "position": -1, "duration": 60, "seconds_watched": 15},
            7,
            None,
        ),
        (
            "quiz.graded",
            {
                "course_id": 1,
                "lesson_id": 2,
                "assessment_id": 3,
                "attempt_id": 4,
                "score": 1,
                "max_score": 2,
                "passed": False,
                "questions": [{"question_id": 1, "correct": "yes", "points": 1, "max_points": 1}],
            },
            7,
            None,
        ),
    ],
)
def test_track_refuses_bad_events_without_raising_and_counts_them(
    streams, in_tenant, event_type, payload, user_id, occurred_at
):
    track(event_type, user_id=user_id, payload=payload, occurred_at=occurred_at)
    assert _entries(streams, in_tenant) == []
    assert streams.hget(REJECTED_KEY, "invalid") == b"1"


def test_track_outside_a_tenant_records_nothing(streams, db):
    connection.set_schema_to_public()
    track("lesson.viewed", user_id=7, payload={"course_id": 1, "lesson_id": 2})
    assert all(streams.xlen(name) == 0 for name in stream_names() if streams.exists(name))
    assert streams.hget(REJECTED_KEY, "invalid") == b"1"


def test_consumer_builds_the_reports(streams, in_tenant):
    _some_events(user_id=11)
    _some_events(user_id=12)
    track(
        "quiz.graded",
        user_id=11,
        payload={
            "course_id": COURSE,
            "lesson_id": LESSON,
            "assessment_id": 5,
            "attempt_id": 1,
            "score": 3,
            "max_score": 4,
            "passed": True,
            "questions": [
                {"question_id": 71, "correct": True, "points": 1, "max_points": 1},
                {"question_id": 72, "correct": False, "points": 0, "max_points": 1},
            ],
        },
    )
    track("course.published", user_id=99, payload={"course_id": COURSE, "revision": 2})  # the author
    result = Consumer(name="t1").drain(seconds=5)
    assert result.applied == 14 and result.rejected == 0 and result.failed == 0
    day = CourseDay.objects.get(course_id=COURSE, day=_day())
    assert (day.new_enrollments, day.lesson_completions, day.seconds_watched) == (2, 2, 90)
    assert day.quiz_attempts == 1 and day.score_sum == pytest.approx(0.75)
    assert LearnerDay.objects.filter(course_id=COURSE, day=_day()).count() == 2
    lesson = LessonLearner.objects.get(lesson_id=LESSON, user_id=11)
    assert lesson.viewed and lesson.completed and lesson.watch_percent == 100
    assert LearnerCourse.objects.get(course_id=COURSE, user_id=12).seconds_spent == 45
    assert dict(QuestionStat.objects.values_list("question_id", "correct")) == {71: 1, 72: 0}
    assert all(streams.xpending(name, GROUP)["pending"] == 0 for name in stream_names())


def test_redelivery_after_a_crash_before_xack_changes_nothing(streams, in_tenant):
    """Exactly-once effect: a batch committed but not acknowledged is delivered again and ignored."""
    _some_events(user_id=21)
    crashed = Consumer(name="crashed")
    entries = crashed.read()
    events = [parse(*entry, {str(in_tenant.uuid): in_tenant.schema_name}) for entry in entries]
    assert apply_events(in_tenant.schema_name, events) == (6, 0)  # committed, then the process died
    before = _snapshot()
    survivor = Consumer(name="survivor", claim_idle_ms=0)
    result = survivor.drain(seconds=5)
    assert result.claimed == 6 and result.duplicates == 6 and result.applied == 0
    assert _snapshot() == before
    assert all(streams.xpending(name, GROUP)["pending"] == 0 for name in stream_names())


def test_a_batch_of_seen_and_new_events_counts_only_the_new_ones(streams, in_tenant):
    """Part of a batch was applied before: the rest is applied, the seen part is not counted again."""
    tenants = {str(in_tenant.uuid): in_tenant.schema_name}
    _some_events(user_id=31)
    events = [parse(*entry, tenants) for entry in Consumer(name="first").read()]
    assert apply_events(in_tenant.schema_name, events[:3]) == (3, 0)  # enrolled, viewed, one heartbeat
    assert apply_events(in_tenant.schema_name, events) == (3, 3)
    assert apply_events(in_tenant.schema_name, events + events[:1]) == (0, 7)
    day = CourseDay.objects.get(course_id=COURSE, day=_day())
    assert (day.new_enrollments, day.lesson_completions, day.seconds_watched) == (1, 1, 45)
    assert LearnerCourse.objects.get(course_id=COURSE, user_id=31).seconds_spent == 45
    assert LessonLearner.objects.get(lesson_id=LESSON, user_id=31).watch_percent == 100
    assert ProcessedEvent.objects.count() == 6


def test_a_poison_event_is_dead_lettered_and_the_batch_goes_on(streams, in_tenant, settings):
    settings.ANALYTICS_MAX_FAILURES = 2
    good = envelope("lesson.viewed", user_id=5, payload={"course_id": COURSE, "lesson_id": LESSON})
    # Valid by its schema, but no bigint column holds this id: the database refuses it.
    poison = envelope("lesson.viewed", user_id=5, payload={"course_id": 2**70, "lesson_id": LESSON})
    stream = stream_for(str(in_tenant.uuid))
    consumer = Consumer(name="c", claim_idle_ms=0)
    streams.xadd(stream, {"e": encode(poison)})
    streams.xadd(stream, {"e": encode(good)})
    first = consumer.drain(seconds=5)
    assert first.applied == 1 and first.failed == 1 and first.dead == 0
    assert streams.xpending(stream, GROUP)["pending"] == 1
    second = consumer.drain(seconds=5)
    assert second.dead == 1
    [(_, dead)] = streams.xrange(dead_stream(stream))
    assert dead[b"event_id"].decode() == poison["id"] and b"out of range" in dead[b"error"]
    assert streams.xpending(stream, GROUP)["pending"] == 0
    assert ProcessedEvent.objects.filter(event_id=good["id"]).exists()
    assert not ProcessedEvent.objects.filter(event_id=poison["id"]).exists()

    # Once the cause is fixed, the operator sends it back (here: still poison, so it fails again).
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("replay_dead_letters", stdout=out)
    assert "1 replayed, 0 skipped" in out.getvalue() and streams.xlen(dead_stream(stream)) == 0
    assert consumer.drain(seconds=5).failed == 1


def test_malformed_entries_are_dropped_and_counted(streams, in_tenant, other_tenant):
    stream = stream_for(str(in_tenant.uuid))
    claims_other = envelope("lesson.viewed", user_id=5, payload={"course_id": 1, "lesson_id": 2})
    claims_other["schema"] = other_tenant.schema_name  # acme's uuid, globex's schema
    future = envelope("lesson.viewed", user_id=5, payload={"course_id": 1, "lesson_id": 2})
    future["at"] += 86400
    unknown = envelope("lesson.viewed", user_id=5, payload={"course_id": 1, "lesson_id": 2})
    unknown["type"] = "lesson.exploded"
    huge = b'{"v": 1, "pad": "' + b"x" * 20_000 + b'"}'
    for raw in (b"not json", encode(claims_other), encode(future), encode(unknown), huge):
        streams.xadd(stream, {"e": raw})
    result = Consumer(name="c").drain(seconds=5)
    assert result.rejected == 5 and result.applied == 0
    assert streams.hget(REJECTED_KEY, "invalid") == b"5"
    assert ProcessedEvent.objects.count() == 0
    with schema_context(other_tenant.schema_name):
        assert ProcessedEvent.objects.count() == 0


def test_reports_stay_in_their_tenant(streams, tenant, other_tenant):
    with schema_context(tenant.schema_name):
        track("enrollment.created", user_id=3, payload={"course_id": COURSE})
    with schema_context(other_tenant.schema_name):
        for _ in range(2):
            track("enrollment.created", user_id=3, payload={"course_id": COURSE})
    assert stream_for(str(tenant.uuid)) in stream_names()
    Consumer(name="c").drain(seconds=5)
    with schema_context(tenant.schema_name):
        assert CourseDay.objects.get(course_id=COURSE).new_enrollments == 1
    with schema_context(other_tenant.schema_name):
        assert CourseDay.objects.get(course_id=COURSE).new_enrollments == 2


def test_the_consumer_task_runs_without_a_tenant(streams, in_tenant):
    """Beat sends it with no tenant header; unlike tenant tasks it must run (it is cross-tenant)."""
    from analytics.tasks import consume_task, outbox_replay_task

    track("enrollment.created", user_id=4, payload={"course_id": COURSE})
    connection.set_schema_to_public()
    assert (
        consume_task.apply(kwargs={"seconds": 0.2}, headers={"_schema_name": "public"}).get()["applied"] == 1
    )
    assert outbox_replay_task.apply(headers={"_schema_name": "public"}).get() == 0
    connection.set_tenant(in_tenant)
    assert CourseDay.objects.get(course_id=COURSE).new_enrollments == 1


def test_old_dedupe_ids_are_pruned(in_tenant):
    from django.utils import timezone

    from analytics.tasks import processed_prune

    old, new = uuid.uuid4(), uuid.uuid4()
    ProcessedEvent.objects.create(event_id=old)
    ProcessedEvent.objects.create(event_id=new)
    ProcessedEvent.objects.filter(event_id=old).update(processed_at=timezone.now() - timedelta(days=31))
    assert processed_prune(tenant=in_tenant, days=30) == 1
    assert list(ProcessedEvent.objects.values_list("event_id", flat=True)) == [new]
