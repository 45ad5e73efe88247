"""lesson_page_rps: a signed-in learner opening a lesson of a 100-lesson course, under gunicorn.

The course `bench-10x10` (10 modules x 10 text lessons) is made once in the acme tenant of
the development database, published, and learner@acme.test is enrolled; later runs reuse it.
Every request is the real lesson page: the published outline (cached per revision), the
access decision, the learner's progress, and the write that records the visit.

Baseline, same server, same run: the minimal view /bench/minimal on the same tenant host.
Goal: ratio >= 0.4 and p99 < 50 ms at 32 connections.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django_tenants.utils import schema_context

from bench.common import (
    BENCH_TENANT,
    bench_tenant_ensure,
    check_signed_in,
    gunicorn,
    signed_in_cookie,
    write_result,
    wrk,
)
from courses.models import Course, CourseStatus, Lesson, LessonKind, Module
from courses.selectors import outline_for
from courses.services import course_publish
from enrollments.models import Enrollment
from enrollments.services import enrollment_create

TENANT = BENCH_TENANT
LEARNER = f"learner@{BENCH_TENANT}.test"
SLUG = "bench-10x10"
MODULES = LESSONS_PER_MODULE = 10
CONNECTIONS = 32
SECONDS = 10
GOAL_RATIO = 0.4
GOAL_P99_MS = 50.0

_BODY = """\
## Lesson {m}.{n}

A benchmark lesson of ordinary length: a few paragraphs of Markdown, as an author writes.
Rendering happens once per published revision, not per request.

- first point of lesson {m}.{n}
- second point, with *emphasis* and `code`

| column | value |
| --- | --- |
| module | {m} |
| lesson | {n} |

> A quotation, so the page has every block type a real lesson has.
"""


@transaction.atomic
def _course_create() -> Course:
    instructor = get_user_model().objects.get(email=f"instructor@{TENANT}.test")
    course = Course.objects.create(
        title="Benchmark: 10 modules x 10 lessons",
        slug=SLUG,
        summary="Made by `python -m bench` to measure the lesson page of a large course.",
        estimated_minutes=MODULES * LESSONS_PER_MODULE * 5,
    )
    course.instructors.add(instructor)
    for m in range(MODULES):
        module = Module.objects.create(course=course, title=f"Module {m + 1}", position=m)
        Lesson.objects.bulk_create(
            Lesson(
                module=module,
                title=f"Lesson {m + 1}.{n + 1}",
                kind=LessonKind.TEXT,
                body=_BODY.format(m=m + 1, n=n + 1),
                position=n,
                duration_minutes=5,
            )
            for n in range(LESSONS_PER_MODULE)
        )
    course_publish(actor=instructor, course=course, summary="Benchmark course.")
    course.refresh_from_db()
    return course


def lesson_path() -> str:
    """Make the course and the enrollment if missing; the path of a lesson in the middle."""
    bench_tenant_ensure()
    with schema_context(TENANT):
        course = Course.objects.filter(slug=SLUG).first() or _course_create()
        if course.status != CourseStatus.PUBLISHED:
            raise RuntimeError(f"{SLUG} exists in {TENANT} but is not published: publish it or delete it.")
        learner = get_user_model().objects.get(email=LEARNER)
        if not Enrollment.objects.filter(user=learner, course=course).exists():
            enrollment_create(user=learner, course=course)
        lessons = outline_for(course).lessons
        middle = lessons[len(lessons) // 2].id
        return reverse("enrollments:lesson", kwargs={"slug": SLUG, "lesson_id": middle})


def _latency(result: dict) -> dict:
    return {k: v for k, v in result.items() if k.startswith("p") and k.endswith("_ms")}


def run() -> dict:
    path = lesson_path()
    cookie = signed_in_cookie(TENANT, LEARNER)
    host = f"{TENANT}.localhost"
    with gunicorn(workers=2) as port:
        base = f"http://127.0.0.1:{port}"
        check_signed_in(port, path, host=host, cookie=cookie)
        wrk(f"{base}/bench/minimal", host=host, seconds=2)  # warm-up: connections, caches
        wrk(f"{base}{path}", host=host, cookie=cookie, seconds=2)
        baseline = wrk(f"{base}/bench/minimal", host=host, connections=CONNECTIONS, seconds=SECONDS)
        page = wrk(f"{base}{path}", host=host, cookie=cookie, connections=CONNECTIONS, seconds=SECONDS)
        # One connection per worker: the time a request takes when nobody queues for a
        # worker, to tell service time apart from waiting at 32 connections.
        unloaded = wrk(f"{base}{path}", host=host, cookie=cookie, connections=2, seconds=5)
    # The same page with the access policy replaced by allow-all (issue #4's comparison).
    with gunicorn(workers=2, app="bench.wsgi_allow_all:application") as port:
        base = f"http://127.0.0.1:{port}"
        wrk(f"{base}{path}", host=host, cookie=cookie, seconds=2)
        allow_all = wrk(f"{base}{path}", host=host, cookie=cookie, connections=CONNECTIONS, seconds=SECONDS)
    for name, result in (
        ("page", page),
        ("baseline", baseline),
        ("unloaded page", unloaded),
        ("allow-all page", allow_all),
    ):
        if result["non_2xx"] or result["socket_errors"]:
            raise RuntimeError(
                f"{name}: {result['non_2xx']} non-2xx answers, socket errors {result['socket_errors']!r}; "
                f"open http://{host}:8000{path} as {LEARNER} to see why"
            )
    ratio = page["rps"] / baseline["rps"] if baseline["rps"] else 0.0
    p99 = page.get("p99_ms", float("inf"))
    return write_result(
        "lesson_page_rps",
        page["rps"],
        "requests/s",
        "minimal_django_view_rps",
        baseline["rps"],
        {
            "page": f"GET {path} on {host} (lesson 51 of 100 in {SLUG}), signed in as {LEARNER}",
            "server": "gunicorn, 2 sync workers, DEBUG=False",
            "load": f"wrk, 1 thread, {CONNECTIONS} connections, {SECONDS} s, loopback",
            "page_latency": _latency(page),
            "baseline_latency": _latency(baseline),
            "unloaded_page": {"connections": 2, "rps": unloaded["rps"], **_latency(unloaded)},
            "allow_all_policy_page": {"rps": allow_all["rps"], **_latency(allow_all)},
            "policy_vs_allow_all_ratio": round(page["rps"] / allow_all["rps"], 3)
            if allow_all["rps"]
            else None,
            "policy_goal": "policy_vs_allow_all_ratio >= 0.9 (issue #4)",
            "goal": f"ratio >= {GOAL_RATIO} and p99 < {GOAL_P99_MS:g} ms at {CONNECTIONS} connections",
            "goal_met": ratio >= GOAL_RATIO and p99 < GOAL_P99_MS,
        },
    )
