"""event_lag_p95_ms: time from track() to visible in a reporting table at a steady 2,000 events/s.

A `manage.py consume_events` process (the long-running consumer: a blocking XREADGROUP,
so it applies events as they land) runs against streams under their own prefix. This
process sends 2,000 events/s of the `perf` tenant for SECONDS (batches of 20 every 10 ms
through track_many, as many web workers would), and every 50th event is a probe: a
lesson.viewed of a lesson id of its own. A second database connection polls the
LessonLearner table every 5 ms and notes when each probe's row appears. Baseline in the
same run: the consumer's idle wake-up (a single probe sent to an idle consumer), so the
ratio shows what the load adds. Goal from issue #5: p95 under 2,000 ms.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time

import psycopg
from django.conf import settings
from django.db import connection
from django.test.utils import override_settings

from bench.common import ROOT, bench_tenant_ensure, write_result

RATE = 2000
SECONDS = 15
PREFIX = "bench-lag"
PROBE_COURSE = 8_000_000


def _db_url() -> str:
    db = settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgresql://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Watcher(threading.Thread):
    def __init__(self, schema: str, sent: dict[int, float]):
        super().__init__(daemon=True)
        self.schema, self.sent, self.seen, self.stop = schema, sent, {}, threading.Event()

    def run(self) -> None:
        sql = (
            f'SELECT lesson_id FROM "{self.schema}".analytics_lessonlearner '  # noqa: S608
            "WHERE (lesson_id < 5000 OR lesson_id >= 10000) AND course_id = %s"
        )
        with psycopg.connect(_db_url(), autocommit=True) as conn:
            while not self.stop.is_set():
                now = time.perf_counter()
                for (lesson,) in conn.execute(sql, [PROBE_COURSE]).fetchall():
                    self.seen.setdefault(lesson, now)
                time.sleep(0.005)


def _cleanup(schema: str) -> None:
    from analytics.ingest import redis_client

    client = redis_client()
    keys = list(client.scan_iter(f"{PREFIX}:*"))
    if keys:
        client.delete(*keys)
    with psycopg.connect(_db_url(), autocommit=True) as conn:
        for table in ("courseday", "learnerday", "lessonlearner", "learnercourse"):
            conn.execute(
                f'DELETE FROM "{schema}".analytics_{table} WHERE course_id BETWEEN %s AND %s',  # noqa: S608
                [PROBE_COURSE - 100, PROBE_COURSE],
            )


def _lags(watcher: Watcher, sent: dict[int, float]) -> list[float]:
    deadline = time.perf_counter() + 30
    while not set(sent) <= set(watcher.seen) and time.perf_counter() < deadline:
        time.sleep(0.05)
    missing = set(sent) - set(watcher.seen)
    if missing:
        raise RuntimeError(f"{len(missing)} probes never became visible: lessons {sorted(missing)[:10]}")
    return sorted((watcher.seen[k] - sent[k]) * 1000 for k in sent)


def run() -> dict:
    from analytics.ingest import reset_client, track_many

    tenant = bench_tenant_ensure()
    env = dict(os.environ, ANALYTICS_STREAM_PREFIX=PREFIX, LOG_LEVEL="WARNING")
    with override_settings(ANALYTICS_STREAM_PREFIX=PREFIX):
        reset_client()
        _cleanup(tenant.schema_name)
        connection.set_tenant(tenant)
        consumer = subprocess.Popen(
            [sys.executable, "manage.py", "consume_events"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL
        )
        try:
            time.sleep(3)  # the consumer process starts and creates its group
            # Baseline: single probes to an idle consumer.
            idle_sent: dict[int, float] = {}
            idle = Watcher(tenant.schema_name, idle_sent)
            idle.start()
            for n in range(10):
                lesson = 1 + n
                idle_sent[lesson] = time.perf_counter()
                track_many([("lesson.viewed", 1, {"course_id": PROBE_COURSE, "lesson_id": lesson})])
                time.sleep(0.3)
            idle_lags = _lags(idle, idle_sent)
            idle.stop.set()

            sent: dict[int, float] = {}
            watcher = Watcher(tenant.schema_name, sent)
            watcher.start()
            n, started = 0, time.perf_counter()
            while time.perf_counter() - started < SECONDS:
                batch = []
                for _ in range(RATE // 100):
                    n += 1
                    if n % 50 == 0:
                        probe = 10_000 + n
                        batch.append(
                            ("lesson.viewed", 1 + n % 500, {"course_id": PROBE_COURSE, "lesson_id": probe})
                        )
                    else:
                        batch.append(("video.progress", 1 + n % 500, {"course_id": PROBE_COURSE - 1 - n % 50,
                                      "lesson_id": 5000 + n % 400, "position": 30.0, "duration": 600.0,
                                      "seconds_watched": 15.0}))  # fmt: skip
                sent_at = time.perf_counter()
                track_many(batch)
                for _kind, _, payload in batch:
                    if payload["course_id"] == PROBE_COURSE:
                        sent[payload["lesson_id"]] = sent_at
                target = started + n / RATE
                pause = target - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
            achieved = n / (time.perf_counter() - started)
            lags = _lags(watcher, sent)
            watcher.stop.set()
        finally:
            consumer.terminate()
            consumer.wait(timeout=20)
            _cleanup(tenant.schema_name)
            connection.set_schema_to_public()
            reset_client()
    p95 = lags[int(len(lags) * 0.95) - 1]
    return write_result(
        "event_lag_p95_ms",
        p95,
        "ms",
        "p95 lag of single events to an idle consumer, same run",
        idle_lags[int(len(idle_lags) * 0.95) - 1],
        {
            "target_rate_eps": RATE,
            "achieved_rate_eps": round(achieved),
            "seconds": SECONDS,
            "probes": len(lags),
            "p50_ms": round(statistics.median(lags), 1),
            "max_ms": round(lags[-1], 1),
            "consumer": "manage.py consume_events (blocking XREADGROUP), one process",
            "goal": "p95 < 2000 ms",
            "note": "shared 2-core machine; producer, consumer, Redis and PostgreSQL on the same cores",
        },
    )
