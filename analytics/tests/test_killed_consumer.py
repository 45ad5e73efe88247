"""A consumer SIGKILLed mid-batch and restarted leaves the reports equal to the ground truth."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import psycopg
from django.conf import settings
from django.db import connection

from analytics.ingest import track
from analytics.models import CourseDay, LearnerDay, LessonLearner, ProcessedEvent

ROOT = Path(__file__).resolve().parents[2]
EVENTS = 6000


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _consumer(*extra: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_VERSION"}
    env.update(
        DATABASE_URL=_database_url(), ANALYTICS_REDIS_URL=settings.ANALYTICS_REDIS_URL, LOG_LEVEL="ERROR"
    )
    return subprocess.Popen(
        [sys.executable, "manage.py", "consume_events", "--batch", "50", *extra],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )


def _cleanup(schema: str, course_id: int, ids: list[str]) -> None:
    """The subprocess committed its rows; remove them so later tests start clean."""
    with psycopg.connect(_database_url(), autocommit=True) as conn:
        for table in ("courseday", "learnerday", "lessonlearner", "learnercourse"):
            conn.execute(f'DELETE FROM "{schema}".analytics_{table} WHERE course_id = %s', [course_id])  # noqa: S608
        conn.execute(
            f'DELETE FROM "{schema}".analytics_processedevent WHERE event_id = ANY(%s::uuid[])',  # noqa: S608
            [ids],
        )


def test_a_consumer_killed_mid_batch_and_restarted_matches_ground_truth(streams, in_tenant):
    import uuid

    course_id = random.randint(10**9, 2 * 10**9)
    rng = random.Random(5)
    truth = Counter()
    learners = set()
    ids = []
    for _ in range(EVENTS):
        user, lesson, event_id = rng.randint(1, 40), course_id + rng.randint(1, 5), uuid.uuid4()
        ids.append(str(event_id))
        learners.add(user)
        if rng.random() < 0.5:
            payload = {"course_id": course_id, "lesson_id": lesson, "position": 30, "duration": 60}
            track(
                "video.progress", user_id=user, payload={**payload, "seconds_watched": 15}, event_id=event_id
            )
            truth["seconds"] += 15
            truth[("viewed", lesson, user)] = 1
        else:
            track(
                "lesson.completed",
                user_id=user,
                payload={"course_id": course_id, "lesson_id": lesson},
                event_id=event_id,
            )
            truth["completions"] += 1
            truth[("viewed", lesson, user)] = 1
    before = ProcessedEvent.objects.count()
    first = _consumer()
    try:
        deadline = time.monotonic() + 60
        # A cheap count, polled often: on a quiet machine the consumer is fast, and a slow poll
        # (an IN list of 6,000 ids) could miss the moment to kill it mid-stream.
        while ProcessedEvent.objects.count() - before < 200:
            assert first.poll() is None and time.monotonic() < deadline, "the consumer did not start"
            time.sleep(0.002)
        first.send_signal(signal.SIGKILL)
        first.wait()
        done_at_kill = ProcessedEvent.objects.filter(event_id__in=ids).count()
        assert done_at_kill < EVENTS, "the consumer finished before it was killed: make the test bigger"

        second = _consumer("--claim-idle-ms", "0", "--until-empty")
        assert second.wait(timeout=120) == 0

        assert ProcessedEvent.objects.filter(event_id__in=ids).count() == EVENTS
        days = CourseDay.objects.filter(course_id=course_id)
        assert sum(d.lesson_completions for d in days) == truth["completions"]
        assert sum(d.seconds_watched for d in days) == truth["seconds"]
        viewed = sum(1 for key in truth if isinstance(key, tuple))
        assert LessonLearner.objects.filter(course_id=course_id).count() == viewed
        assert LearnerDay.objects.filter(course_id=course_id).values("user_id").distinct().count() == len(
            learners
        )
    finally:
        if first.poll() is None:
            first.kill()
        _cleanup(in_tenant.schema_name, course_id, ids)


def test_two_consumers_at_once_count_every_event_once(streams, in_tenant):
    import uuid

    course_id = random.randint(2 * 10**9, 3 * 10**9)
    ids = []
    for n in range(3000):
        event_id = uuid.uuid4()
        ids.append(str(event_id))
        payload = {"course_id": course_id, "lesson_id": course_id + n % 7}
        track("lesson.completed", user_id=1 + n % 30, payload=payload, event_id=event_id)
    first, second = _consumer("--until-empty"), _consumer("--until-empty")
    try:
        assert first.wait(timeout=120) == 0 and second.wait(timeout=120) == 0
        days = CourseDay.objects.filter(course_id=course_id)
        assert sum(d.lesson_completions for d in days) == 3000
        assert ProcessedEvent.objects.filter(event_id__in=ids).count() == 3000
        assert LessonLearner.objects.filter(course_id=course_id).count() == 7 * 30
        assert streams.hlen("analytics:failures") == 0
    finally:
        for proc in (first, second):
            if proc.poll() is None:
                proc.kill()
        _cleanup(in_tenant.schema_name, course_id, ids)
