"""Event streams, cache and sessions on a real three-node Redis Cluster (ADR 0111).

The test starts three `redis-server --cluster-enabled yes` nodes on free ports in a temp
dir, joins them with `redis-cli --cluster create`, and points the event pipeline and
Django's cache (hence cached_db sessions) at the cluster.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.sessions.backends.cached_db import SessionStore
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from redis.cluster import RedisCluster

from analytics.consumer import GROUP, Consumer, consumer_client, dead_stream
from analytics.ingest import (
    encode,
    envelope,
    redis_client,
    reset_client,
    stream_for,
    stream_names,
    track,
    track_many,
)
from analytics.models import CourseDay, LessonLearner
from tenants.cache import cache_purge_schema
from tests.fixtures import client_for

pytestmark = pytest.mark.servers

COURSE = 9301
LESSON = 9401


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_node_port(taken: list[int]) -> int:
    """A free port whose cluster bus port (port + 10000) is free too; Redis refuses ports over 55535."""
    rng = random.Random()
    for _ in range(1000):
        port = rng.randrange(20000, 45000)
        if not {port, port + 10000} & {p for t in taken for p in (t, t + 10000)} and all(
            _bindable(p) for p in (port, port + 10000)
        ):
            return port
    raise RuntimeError("no free pair of ports (port, port + 10000) for a Redis Cluster node")


@pytest.fixture(scope="module")
def redis_cluster() -> Iterator[str]:
    """The URL of one node of a fresh three-node cluster; the nodes are stopped afterwards."""
    if not shutil.which("redis-server") or not shutil.which("redis-cli"):
        pytest.skip("redis-server and redis-cli (Debian: redis-server, redis-tools) are needed")
    with running_redis_cluster() as url:
        yield url


@contextmanager
def running_redis_cluster() -> Iterator[str]:
    server, cli = shutil.which("redis-server"), shutil.which("redis-cli")
    assert server is not None and cli is not None, "redis_cluster() skips when they are missing"
    base = Path(tempfile.mkdtemp(prefix="lms-redis-cluster-"))
    ports: list[int] = []
    for _ in range(3):
        ports.append(_free_node_port(ports))
    nodes: list[subprocess.Popen] = []
    try:
        for port in ports:
            node_dir = base / str(port)
            node_dir.mkdir()
            nodes.append(
                subprocess.Popen(
                    [
                        server,
                        "--port",
                        str(port),
                        "--bind",
                        "127.0.0.1",
                        "--cluster-enabled",
                        "yes",
                        "--cluster-config-file",
                        "nodes.conf",
                        "--dir",
                        str(node_dir),
                        "--save",
                        "",
                        "--appendonly",
                        "no",
                        "--protected-mode",
                        "no",
                    ],
                    stdout=(node_dir / "log").open("w"),
                    stderr=subprocess.STDOUT,
                )
            )
        for port, node in zip(ports, nodes, strict=True):
            _wait(
                lambda port=port: _cli(cli, port, "ping") == "PONG", f"node {port} to start ({node.poll()})"
            )
        created = subprocess.run(
            [cli, "--cluster", "create", *(f"127.0.0.1:{p}" for p in ports), "--cluster-replicas", "0",
             "--cluster-yes"],
            capture_output=True, text=True, check=False, timeout=60,
        )  # fmt: skip
        assert created.returncode == 0, created.stdout + created.stderr
        for port in ports:
            _wait(
                lambda port=port: "cluster_state:ok" in _cli(cli, port, "cluster", "info"), "cluster_state ok"
            )
        yield f"redis://127.0.0.1:{ports[0]}/0"
    finally:
        for node in nodes:
            node.terminate()
        for node in nodes:
            node.wait(timeout=10)
        shutil.rmtree(base, ignore_errors=True)


def _cli(cli: str, port: int, *args: str) -> str:
    out = subprocess.run([cli, "-p", str(port), *args], capture_output=True, text=True, check=False)
    return out.stdout.strip()


def _wait(ready, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not ready():
        if time.monotonic() > deadline:
            logs = "".join(
                p.read_text()[-1000:] for p in Path(tempfile.gettempdir()).glob("lms-redis-cluster-*/*/log")
            )
            raise RuntimeError(f"timed out waiting for {what}: {logs}")
        time.sleep(0.05)


@pytest.fixture
def on_cluster(redis_cluster, settings) -> Iterator[RedisCluster]:
    """Streams, cache and sessions on the cluster for one test; every key wiped before and after."""
    settings.REDIS_CLUSTER = True
    settings.ANALYTICS_REDIS_URL = redis_cluster
    settings.ANALYTICS_REDIS_CLUSTER = True
    settings.CACHES = {
        "default": {
            **settings.CACHES["default"],
            "BACKEND": "lms.cache.LMSRedisClusterCache",
            "LOCATION": redis_cluster,
        }
    }
    reset_client()
    client = RedisCluster.from_url(redis_cluster)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()
    reset_client()


def test_a_partitions_keys_share_a_slot_and_partitions_spread_over_the_nodes(on_cluster):
    nodes = set()
    for stream in stream_names():
        assert on_cluster.keyslot(stream) == on_cluster.keyslot(dead_stream(stream))
        nodes.add(on_cluster.get_node_from_key(stream).name)
    assert len({on_cluster.keyslot(s) for s in stream_names()}) == len(stream_names())
    assert len(nodes) == 3, nodes


def test_events_go_from_track_through_the_streams_to_the_reports(on_cluster, in_tenant):
    assert isinstance(redis_client(), RedisCluster)
    track("enrollment.created", user_id=41, payload={"course_id": COURSE})
    accepted = track_many(
        [
            ("lesson.viewed", 41, {"course_id": COURSE, "lesson_id": LESSON}),
            ("lesson.completed", 41, {"course_id": COURSE, "lesson_id": LESSON}),
        ]
    )
    assert accepted == 2
    stream = stream_for(str(in_tenant.uuid))
    assert on_cluster.xlen(stream) == 3
    consumer = Consumer(name="cluster", client=consumer_client())
    assert consumer.cluster
    result = consumer.drain(seconds=10)
    assert (result.read, result.applied, result.rejected, result.failed) == (3, 3, 0, 0)
    day = CourseDay.objects.get(course_id=COURSE, day=datetime.now(UTC).date())
    assert (day.new_enrollments, day.lesson_completions) == (1, 1)
    assert LessonLearner.objects.get(lesson_id=LESSON, user_id=41).completed
    assert all(on_cluster.xpending(name, GROUP)["pending"] == 0 for name in stream_names())
    # A blocking read over streams on three nodes returns when its time is up.
    started = time.monotonic()
    assert consumer.read(block_ms=200) == []
    assert 0.15 < time.monotonic() - started < 5


def test_a_poison_event_is_dead_lettered_and_replayed_on_the_cluster(on_cluster, in_tenant, settings):
    settings.ANALYTICS_MAX_FAILURES = 1
    poison = envelope("lesson.viewed", user_id=5, payload={"course_id": 2**70, "lesson_id": LESSON})
    stream = stream_for(str(in_tenant.uuid))
    on_cluster.xadd(stream, {"e": encode(poison)})
    consumer = Consumer(name="cluster", claim_idle_ms=0, client=consumer_client())
    assert consumer.drain(seconds=5).dead == 1
    [(_, dead)] = on_cluster.xrange(dead_stream(stream))
    assert dead[b"event_id"].decode() == poison["id"]
    out = StringIO()
    call_command("replay_dead_letters", stdout=out)  # XADD + XDEL in one MULTI: one slot
    assert "1 replayed, 0 skipped" in out.getvalue()
    assert on_cluster.xlen(dead_stream(stream)) == 0 and on_cluster.xlen(stream) == 2


def test_the_cache_keeps_tenants_apart_and_multi_key_calls_work_across_slots(
    on_cluster, tenant, other_tenant
):
    keys = [f"k{n}" for n in range(40)]
    connection.set_tenant(tenant)
    cache.set_many({k: f"acme-{k}" for k in keys}, timeout=60)
    cache.set("counter", 1)
    assert cache.incr("counter", 2) == 3
    slots = {on_cluster.keyslot(cache.make_key(k)) for k in keys}
    assert len({on_cluster.get_node_from_key(cache.make_key(k)).name for k in keys}) == 3, slots
    assert cache.get_many(keys) == {k: f"acme-{k}" for k in keys}
    connection.set_tenant(other_tenant)
    assert cache.get_many(keys) == {}
    assert cache.get("k1") is None
    cache.set("k1", "globex")
    connection.set_tenant(tenant)
    assert cache.get("k1") == "acme-k1"
    cache.delete_many(keys[:20])
    assert sorted(cache.get_many(keys)) == sorted(keys[20:])

    assert cache_purge_schema(tenant.schema_name) == 21  # 20 keys and the counter, on all nodes
    assert cache.get_many(keys) == {}
    connection.set_tenant(other_tenant)
    assert cache.get("k1") == "globex"


def test_sessions_live_in_the_cluster_cache(on_cluster, tenant, other_tenant):
    connection.set_tenant(tenant)
    store = SessionStore()
    store["marker"] = uuid.uuid4().hex
    store.save()
    assert on_cluster.exists(cache.make_key(store.cache_key))
    assert SessionStore(session_key=store.session_key)["marker"] == store["marker"]
    connection.set_tenant(other_tenant)
    assert SessionStore(session_key=store.session_key).get("marker") is None

    # A whole sign-in and a signed-in page, with the cache (routing, users, sessions) on the cluster.
    connection.set_schema_to_public()
    learner = client_for(tenant, as_role="learner")
    assert learner.get("/learning/").status_code == 200
    assert any(key.startswith(f"{tenant.schema_name}:".encode()) for key in on_cluster.scan_iter(count=1000))


def test_a_cluster_deployment_must_name_its_celery_broker():
    """Celery cannot use the cluster: with REDIS_CLUSTER the broker URL must be set apart."""
    root = Path(__file__).resolve().parents[2]
    base = {k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "PYTEST_"))}
    env = {**base, "LMS_NO_DOTENV": "1", "REDIS_CLUSTER": "1"}
    refused = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=root, env=env, capture_output=True, text=True, timeout=120
    )
    assert refused.returncode != 0
    assert "set CELERY_BROKER_URL and CELERY_RESULT_BACKEND" in refused.stderr
    brokers = {
        "CELERY_BROKER_URL": "amqp://guest@127.0.0.1//",
        "CELERY_RESULT_BACKEND": "redis://127.0.0.1:6379/1",
    }
    accepted = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=root,
        env={**env, **brokers},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert accepted.returncode == 0, accepted.stderr


def test_the_sign_in_throttle_script_runs_on_the_cluster(on_cluster, tenant):
    """Its Lua script reads the account's and the address's counters together: one slot."""
    from accounts import throttle

    connection.set_tenant(tenant)
    counters = throttle._counters(throttle.SIGNIN, "someone@acme.test", "192.0.2.7")
    assert len({on_cluster.keyslot(c.key) for c in counters}) == 1
    throttle.attempt(scope=throttle.SIGNIN, account="someone@acme.test", address="192.0.2.7")
    throttle.succeeded(scope=throttle.SIGNIN, account="someone@acme.test", address="192.0.2.7")
    assert not on_cluster.exists(*(c.key for c in counters))
