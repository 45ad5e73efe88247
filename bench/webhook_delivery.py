"""webhook_delivery_p95_ms: from a change's commit to the receiver, at a steady 200 events/s.

This process makes changes in the `perf` tenant at RATE transactions a second for SECONDS,
from PRODUCERS threads with a connection each (as several web workers would). Each is a
real `core.events.emit()` inside `transaction.atomic()`, so the outbox rows are written in
the transaction and the deliveries handed to Celery after commit, as a service does. A
Celery worker process (queue `webhooks`, threads pool) signs and POSTs each message to a
receiver in this process, which notes when every message arrives. The lag is arrival minus
the moment just before commit.

Baseline, same run: single events to an idle worker, so the ratio shows what the load adds.
Goal from issue #12: p95 under 1,000 ms at 200 events/s.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.contrib.auth import get_user_model
from django.db import connection, transaction

from bench.common import ROOT, bench_tenant_ensure, write_result

RATE = 200
SECONDS = 15
WORKER_THREADS = 16
PRODUCERS = 4
GOAL_MS = 1000


class Arrivals:
    def __init__(self) -> None:
        self.at: dict[int, float] = {}
        self.lock = threading.Lock()
        arrivals = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                now = time.time()
                seq = json.loads(body)["data"]["seq"]
                with arrivals.lock:
                    arrivals.at.setdefault(seq, now)
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, seqs, timeout: float = 60) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                if all(s in self.at for s in seqs):
                    return
            time.sleep(0.05)
        missing = [s for s in seqs if s not in self.at]
        raise RuntimeError(
            f"{len(missing)} webhooks never arrived (first: {missing[:5]}); see the worker's log"
        )


def _emit(seq: int, sent: dict[int, float]) -> None:
    from core.events import emit

    with transaction.atomic():
        emit("lesson.completed", data={"seq": seq})
        sent[seq] = time.time()


def _produce(tenant, index: int, started: float, sent: dict[int, float]) -> None:
    """One of PRODUCERS threads (as several web workers would be), each at RATE / PRODUCERS."""
    connection.set_tenant(tenant)
    rate, n = RATE / PRODUCERS, 0
    try:
        while time.perf_counter() - started < SECONDS:
            _emit(1000 + index + n * PRODUCERS, sent)
            n += 1
            pause = started + n / rate - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
    finally:
        connection.close()


def _lags(arrivals: Arrivals, sent: dict[int, float]) -> list[float]:
    arrivals.wait(list(sent))
    return sorted((arrivals.at[s] - sent[s]) * 1000 for s in sent)


def _p95(values: list[float]) -> float:
    return values[max(0, int(len(values) * 0.95) - 1)]


def run() -> dict:
    from webhooks.models import WebhookEndpoint, WebhookMessage
    from webhooks.services import webhook_endpoint_create

    tenant = bench_tenant_ensure()
    arrivals = Arrivals()
    connection.set_tenant(tenant)
    WebhookEndpoint.objects.all().delete()
    WebhookMessage.objects.all().delete()
    admin = get_user_model().objects.get(email=f"admin@{tenant.slug}.test")
    webhook_endpoint_create(
        actor=admin, url=f"http://127.0.0.1:{arrivals.port}/bench", event_types=["lesson.completed"]
    )
    env = dict(os.environ, LOG_LEVEL="WARNING", WEBHOOKS_ALLOW_PRIVATE_TARGETS="true")
    celery = [sys.executable, "-m", "celery", "-A", "lms", "worker", "-Q", "webhooks"]
    subprocess.run([*celery[:4], "purge", "-f", "-Q", "webhooks"], cwd=ROOT, env=env, capture_output=True)
    worker = subprocess.Popen(
        [*celery, "--pool", "threads", "--concurrency", str(WORKER_THREADS), "-l", "warning",
         "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        time.sleep(4)  # the worker starts and connects
        idle_sent: dict[int, float] = {}
        for n in range(20):
            _emit(n, idle_sent)
            time.sleep(0.25)
        idle = _lags(arrivals, idle_sent)

        sent: dict[int, float] = {}
        started = time.perf_counter()
        producers = [
            threading.Thread(target=_produce, args=(tenant, p, started, sent)) for p in range(PRODUCERS)
        ]
        for thread in producers:
            thread.start()
        for thread in producers:
            thread.join()
        achieved = len(sent) / (time.perf_counter() - started)
        lags = _lags(arrivals, sent)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        WebhookEndpoint.objects.all().delete()
        WebhookMessage.objects.all().delete()
        connection.set_schema_to_public()
        arrivals.server.shutdown()
    return write_result(
        "webhook_delivery_p95_ms",
        _p95(lags),
        "ms",
        "p95 of single events to an idle worker, same run",
        _p95(idle),
        {
            "target_rate_eps": RATE,
            "achieved_rate_eps": round(achieved),
            "producers": f"{PRODUCERS} threads, a database connection each",
            "seconds": SECONDS,
            "events": len(lags),
            "p50_ms": round(statistics.median(lags), 1),
            "max_ms": round(lags[-1], 1),
            "worker": f"celery worker -Q webhooks --pool threads --concurrency {WORKER_THREADS}",
            "path": "emit() in a transaction, outbox rows, after commit Celery: claim, sign, POST, record",
            "goal": f"p95 < {GOAL_MS} ms",
            "goal_met": _p95(lags) < GOAL_MS,
            "note": "2 shared cores: producer, receiver, worker, Redis and PostgreSQL on the same cores",
        },
    )
