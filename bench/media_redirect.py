"""media_redirect_rps: GET /media/<id>/ for an enrolled learner (policy + signed URL + 302), under gunicorn.

A published course `bench-media` in the benchmark tenant has one video lesson whose file is
a small object in S3 with a ready media asset; learner@perf.test is enrolled. Without
CloudFront settings the answer is a SigV4 presigned S3 URL (reused within the expiry bucket).

Baseline, same server, same run: the minimal view /bench/minimal. Goal: ratio >= 0.5.
"""

from __future__ import annotations

import http.client

from django.contrib.auth import get_user_model
from django.db import transaction
from django_tenants.utils import schema_context

from bench.common import BENCH_TENANT, bench_tenant_ensure, gunicorn, signed_in_cookie, write_result, wrk
from courses.models import Course, Lesson, LessonKind
from courses.services import course_publish
from courses.tests.factories import lessons_of, make_course
from enrollments.models import Enrollment
from enrollments.services import enrollment_create
from media_delivery import storage
from media_delivery.models import AssetStatus, MediaAsset
from media_delivery.services import asset_adopt
from tenants.context import storage_prefix

SLUG = "bench-media"
LEARNER = f"learner@{BENCH_TENANT}.test"
CONNECTIONS = 32
SECONDS = 10
GOAL_RATIO = 0.5
VIDEO = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 4096


@transaction.atomic
def _asset() -> MediaAsset:
    course = Course.objects.filter(slug=SLUG).first()
    if course is None:
        admin = get_user_model().objects.get(email=f"admin@{BENCH_TENANT}.test")
        course = make_course(slug=SLUG, title="Benchmark: media", lessons=1, publish=False)
        name = "bench/media-redirect.mp4"
        storage.s3_client().put_object(
            Bucket=storage.settings.S3_BUCKET,
            Key=storage_prefix() + name,
            Body=VIDEO,
            ContentType="video/mp4",
        )
        lesson = lessons_of(course)[0]
        Lesson.objects.filter(pk=lesson.pk).update(kind=LessonKind.VIDEO, video=name)
        course_publish(actor=admin, course=course)
        asset_adopt(actor=admin, key=storage_prefix() + name, kind="video", lesson=lesson)
    learner = get_user_model().objects.get(email=LEARNER)
    if not Enrollment.objects.filter(user=learner, course=course).exists():
        enrollment_create(user=learner, course=course)
    return MediaAsset.objects.get(lesson__module__course=course, status=AssetStatus.READY)


def _check(port: int, path: str, host: str, cookie: str) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path, headers={"Host": host, "Cookie": cookie})
    response = conn.getresponse()
    location = response.getheader("Location", "")
    if response.status != 302 or "Signature" not in location:
        raise RuntimeError(f"{path} answered {response.status} {location!r}, not a signed redirect")
    return location


def run() -> dict:
    bench_tenant_ensure()
    with schema_context(BENCH_TENANT):
        asset = _asset()
    path = f"/media/{asset.pk}/"
    cookie = signed_in_cookie(BENCH_TENANT, LEARNER)
    host = f"{BENCH_TENANT}.localhost"
    with gunicorn(workers=2) as port:
        base = f"http://127.0.0.1:{port}"
        location = _check(port, path, host, cookie)
        wrk(f"{base}/bench/minimal", host=host, seconds=2)
        wrk(f"{base}{path}", host=host, cookie=cookie, seconds=2)
        baseline = wrk(f"{base}/bench/minimal", host=host, connections=CONNECTIONS, seconds=SECONDS)
        redirect = wrk(f"{base}{path}", host=host, cookie=cookie, connections=CONNECTIONS, seconds=SECONDS)
    for name, result in (("redirect", redirect), ("baseline", baseline)):
        if result["non_2xx"] or result["socket_errors"]:
            raise RuntimeError(f"{name}: {result['non_2xx']} error answers, {result['socket_errors']!r}")
    ratio = redirect["rps"] / baseline["rps"] if baseline["rps"] else 0.0
    return write_result(
        "media_redirect_rps",
        redirect["rps"],
        "requests/s",
        "minimal_django_view_rps",
        baseline["rps"],
        {
            "request": f"GET {path} on {host} as {LEARNER} (enrolled): access policy, then 302",
            "signed_with": "CloudFront" if "Key-Pair-Id" in location else "S3 presigned GET (SigV4)",
            "server": "gunicorn, 2 sync workers, DEBUG=False",
            "load": f"wrk, 1 thread, {CONNECTIONS} connections, {SECONDS} s, loopback",
            "redirect_latency": {k: v for k, v in redirect.items() if k.endswith("_ms")},
            "baseline_latency": {k: v for k, v in baseline.items() if k.endswith("_ms")},
            "goal": f"ratio >= {GOAL_RATIO}",
            "goal_met": ratio >= GOAL_RATIO,
        },
    )
