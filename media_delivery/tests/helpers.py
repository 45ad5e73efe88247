"""Shared builders for media tests: small real files, a course with a video lesson, raw HTTP."""

from __future__ import annotations

import subprocess
import urllib.error
import urllib.request
from functools import lru_cache
from pathlib import Path

from django.contrib.auth import get_user_model

from core.ffmpeg import ffmpeg_path
from core.pdf import pdf_document
from courses.models import Lesson, LessonKind
from courses.services import course_publish
from courses.tests.factories import lessons_of, make_course
from media_delivery import storage
from media_delivery.services import asset_adopt
from tenants.context import storage_prefix

PDF = pdf_document(title="Test", subtitle="media tests", body="Hello.")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def http(method: str, url: str, data: bytes | None = None, headers: dict | None = None) -> tuple[int, bytes]:
    """One request with no credentials of ours; (status, body)."""
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - test endpoints
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@lru_cache(maxsize=4)
def tiny_video(tmp_root: str, *, width: int = 320, height: int = 240, seconds: float = 1.0) -> Path:
    """A small H.264/AAC MP4 made by ffmpeg (cached per session directory)."""
    target = Path(tmp_root) / f"tiny-{width}x{height}-{seconds}.mp4"
    if not target.exists():
        subprocess.run(
            [
                ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
                "-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate=10:duration={seconds}",
                "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
                "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                "-c:a", "aac", "-shortest", "-movflags", "+faststart", str(target),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )  # fmt: skip
    return target


def put(name: str, data: bytes, content_type: str) -> str:
    """Store bytes under the active tenant's prefix; returns the full key."""
    key = storage_prefix() + name
    storage.s3_client().put_object(
        Bucket=storage.settings.S3_BUCKET, Key=key, Body=data, ContentType=content_type
    )
    return key


def video_course(slug: str, *, key_name: str, data: bytes, kind: str = "video"):
    """A published course whose first lesson is a video (or document) lesson with a ready asset."""
    course = make_course(slug=slug, lessons=2, publish=False)
    lesson = lessons_of(course)[0]
    key = put(key_name, data, "video/mp4" if kind == "video" else "application/pdf")
    if kind == "video":
        Lesson.objects.filter(pk=lesson.pk).update(kind=LessonKind.VIDEO, video=key_name)
    else:
        Lesson.objects.filter(pk=lesson.pk).update(kind=LessonKind.DOCUMENT, document=key_name)
    admin = get_user_model().objects.filter(role="admin").first()
    course_publish(actor=admin, course=course)
    course.refresh_from_db()
    asset = asset_adopt(actor=admin, key=key, kind=kind, lesson=lesson)
    return course, lesson, asset
