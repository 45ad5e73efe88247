"""api_course_list_rps: GET /api/v1/courses with an API key, under gunicorn.

The perf tenant gets 20 small published courses (once; later runs reuse them) and a
catalog:read key for its admin, made fresh each run. Every request is the real endpoint:
the gate (key lookup by prefix and hash, the per-key rate counter in Redis, ETag), the
catalog selector (cached per courses version) and the pydantic response schema.

Baseline, same server, same run: the minimal view /bench/minimal on the same tenant host.
Goal: ratio >= 0.5 at 32 connections.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context

from bench.common import BENCH_TENANT, bench_tenant_ensure, gunicorn, write_result, wrk

TENANT = BENCH_TENANT
COURSES = 20
CONNECTIONS = 32
SECONDS = 10
GOAL_RATIO = 0.5


def _courses_ensure() -> None:
    from courses.models import Course, Lesson, LessonKind, Module
    from courses.services import course_publish

    admin = get_user_model().objects.get(email=f"admin@{TENANT}.test")
    for n in range(COURSES):
        slug = f"bench-api-{n:02d}"
        if Course.objects.filter(slug=slug).exists():
            continue
        course = Course.objects.create(
            title=f"API benchmark course {n:02d}", slug=slug, summary="For the API list."
        )
        module = Module.objects.create(course=course, title="Module 1", position=0)
        Lesson.objects.create(module=module, title="Lesson 1", kind=LessonKind.TEXT, body="Text.", position=0)
        course_publish(actor=admin, course=course, summary="Benchmark course.")


def _key() -> str:
    from api.keys import api_key_create

    admin = get_user_model().objects.get(email=f"admin@{TENANT}.test")
    # A limit no benchmark reaches: the counter still runs, it just never refuses.
    return api_key_create(
        actor=admin, name="bench api_course_list", scopes=["catalog:read"], rate_limit_per_minute=100_000
    ).plaintext


def run() -> dict:
    bench_tenant_ensure()
    with schema_context(TENANT):
        _courses_ensure()
        key = _key()
    host = f"{TENANT}.localhost"
    auth = f"Bearer {key}"
    with gunicorn(workers=2) as port:
        base = f"http://127.0.0.1:{port}"
        url = f"{base}/api/v1/courses?limit=20"
        wrk(f"{base}/bench/minimal", host=host, seconds=2)
        wrk(url, host=host, seconds=2, headers={"Authorization": auth})
        baseline = wrk(f"{base}/bench/minimal", host=host, connections=CONNECTIONS, seconds=SECONDS)
        api = wrk(url, host=host, connections=CONNECTIONS, seconds=SECONDS, headers={"Authorization": auth})
    for name, result in (("api", api), ("baseline", baseline)):
        if result["non_2xx"] or result["socket_errors"]:
            raise RuntimeError(
                f"{name}: {result['non_2xx']} non-2xx answers, socket errors {result['socket_errors']!r}; "
                f"call {url} with the key by hand to see why"
            )
    ratio = api["rps"] / baseline["rps"] if baseline["rps"] else 0.0
    return write_result(
        "api_course_list_rps",
        api["rps"],
        "requests/s",
        "minimal_django_view_rps",
        baseline["rps"],
        {
            "request": f"GET /api/v1/courses?limit=20 on {host}, a catalog:read API key, {COURSES} courses",
            "server": "gunicorn, 2 sync workers, DEBUG=False",
            "load": f"wrk, 1 thread, {CONNECTIONS} connections, {SECONDS} s, loopback",
            "api_latency": {k: v for k, v in api.items() if k.startswith("p")},
            "baseline_latency": {k: v for k, v in baseline.items() if k.startswith("p")},
            "goal": f"ratio >= {GOAL_RATIO}",
            "goal_met": ratio >= GOAL_RATIO,
        },
    )
