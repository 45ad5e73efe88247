"""event_ingest_eps: events/s that track() accepts from a pool of worker processes.

Each of WORKERS processes (one per core) calls track() in a loop for SECONDS, with the
`perf` tenant active; the figure is the sum of their rates. Baseline in the same run:
the same processes sending a raw XADD of a same-sized entry in a loop (what
redis-benchmark would measure for XADD from one client per process), so the ratio is
the cost of stamping, validating and encoding an event. Events go to streams under a
separate prefix (bench-events:*), deleted afterwards, so no consumer sees them.
"""

from __future__ import annotations

import multiprocessing
import os
import time

from django.conf import settings
from django.db import connections
from django.test.utils import override_settings

from bench.common import BENCH_TENANT, bench_tenant_ensure, write_result

WORKERS = 2
SECONDS = 5.0
PREFIX = "bench-events"


def _payload(n: int) -> dict:
    return {"course_id": 1 + n % 50, "lesson_id": 1000 + n % 400, "position": 30.5, "duration": 600,
            "seconds_watched": 15}  # fmt: skip


def _worker(kind: str, queue) -> None:
    from django.db import connection

    from analytics.ingest import redis_client, reset_client, track
    from tenants.models import Tenant

    reset_client()
    connection.set_tenant(Tenant.objects.get(slug=BENCH_TENANT))
    client = redis_client()
    raw = b'{"id":"00000000-0000-0000-0000-000000000000","type":"video.progress","v":1,' + b"x" * 260 + b"}"
    stream = f"{PREFIX}:raw:{os.getpid()}"
    count, deadline = 0, time.perf_counter() + SECONDS
    started = time.perf_counter()
    if kind == "track":
        while time.perf_counter() < deadline:
            for _ in range(100):
                track("video.progress", user_id=1 + count % 500, payload=_payload(count))
                count += 1
    else:
        while time.perf_counter() < deadline:
            for _ in range(100):
                client.xadd(stream, {"e": raw}, maxlen=1_000_000, approximate=True)
                count += 1
    queue.put(count / (time.perf_counter() - started))


def _pool(kind: str) -> float:
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    connections.close_all()
    procs = [context.Process(target=_worker, args=(kind, queue)) for _ in range(WORKERS)]
    for proc in procs:
        proc.start()
    rates = [queue.get(timeout=SECONDS + 60) for _ in procs]
    for proc in procs:
        proc.join()
    return sum(rates)


def _cleanup() -> None:
    from analytics.ingest import redis_client

    client = redis_client()
    keys = list(client.scan_iter(f"{PREFIX}:*"))
    if keys:
        client.delete(*keys)


def run() -> dict:
    bench_tenant_ensure()
    with override_settings(ANALYTICS_STREAM_PREFIX=PREFIX):
        from analytics.ingest import reset_client

        reset_client()
        _cleanup()
        try:
            raw = _pool("xadd")
            tracked = _pool("track")
        finally:
            _cleanup()
            reset_client()
    return write_result(
        "event_ingest_eps",
        tracked,
        "events/s",
        "raw XADD loop, same processes and Redis (redis-benchmark style)",
        raw,
        {
            "workers": WORKERS,
            "seconds_per_side": SECONDS,
            "event": "video.progress, validated and stamped with the perf tenant",
            "redis": settings.ANALYTICS_REDIS_URL.rsplit("@", 1)[-1],
            "note": "shared 2-core machine; other engineers' tests and benchmarks may run at the same time",
        },
    )
