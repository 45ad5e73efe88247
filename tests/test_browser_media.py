"""The demo video, transcoded to HLS, plays to the end in chromium through hls.js and completes the lesson.

The page's <video> gets its playlist from /media/<id>/hls/ (access-checked, served by the
app with presigned segment URLs from the real S3 server); player.js reports progress.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import connection
from django_tenants.utils import schema_context

from tests.fixtures import PASSWORD, browser_sign_in, site_url

pytestmark = pytest.mark.browser
TENANT = "acme"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


@pytest.fixture
def demo_video_lesson(browser, django_db_blocker):
    """A committed course with the demo video as its one lesson, transcoded, and an enrolled learner."""
    from accounts.services import user_create
    from courses.models import Course, Lesson, LessonKind
    from courses.services import course_publish
    from courses.tests.factories import lessons_of, make_course
    from enrollments.services import enrollment_create
    from lms.demo_media import demo_video
    from media_delivery import storage
    from media_delivery.models import MediaAsset, TranscodeStatus
    from media_delivery.services import asset_adopt
    from media_delivery.tasks import asset_transcode_task
    from tenants.context import storage_prefix

    tag = uuid.uuid4().hex[:8]
    with django_db_blocker.unblock(), schema_context(TENANT):
        local = demo_video(colour="#2563eb")
        with local.open("rb") as handle:
            name = default_storage.save(f"lessons/video/media-{tag}.mp4", File(handle, name=local.name))
        course = make_course(slug=f"media-{tag}", title=f"Media {tag}", lessons=2, publish=False)
        lesson = lessons_of(course)[0]
        Lesson.objects.filter(pk=lesson.pk).update(kind=LessonKind.VIDEO, video=name)
        from django.contrib.auth import get_user_model

        admin = get_user_model().objects.get(email=f"admin@{TENANT}.test")
        course_publish(actor=admin, course=course)
        asset = asset_adopt(actor=admin, key=storage_prefix() + name, kind="video", lesson=lesson)
        asset.refresh_from_db()
        if asset.transcode_status != TranscodeStatus.DONE:
            asset_transcode_task(str(asset.pk))
            asset.refresh_from_db()
        assert asset.transcode_status == TranscodeStatus.DONE, asset.transcode_error
        learner = user_create(email=f"watcher-{tag}@{TENANT}.test", role="learner", password=PASSWORD)
        enrollment_create(user=learner, course=Course.objects.get(pk=course.pk))
    try:
        yield {"slug": course.slug, "lesson": lesson.pk, "learner": learner, "asset": asset}
    finally:
        with django_db_blocker.unblock(), schema_context(TENANT):
            storage.objects_delete_prefix(f"{storage_prefix()}media/{asset.pk}/")
            default_storage.delete(name)
            MediaAsset.objects.filter(pk=asset.pk).delete()
            Course.objects.filter(pk=course.pk).delete()
            learner.delete()
        connection.set_schema_to_public()


def test_the_demo_video_plays_to_the_end_with_hls_and_completes_the_lesson(
    browser, live_server_port, demo_video_lesson, django_db_blocker
):
    from enrollments.models import LessonProgress, ProgressStatus

    port, info = live_server_port, demo_video_lesson
    context = browser.new_context(viewport={"width": 390, "height": 844})  # a phone
    page = context.new_page()
    try:
        browser_sign_in(page, slug=TENANT, port=port, email=info["learner"].email)
        page.goto(site_url(TENANT, port, f"/learning/{info['slug']}/lessons/{info['lesson']}/"))
        video = page.locator("video[data-hls]")
        assert video.count() == 1
        # hls.js is attached (Media Source), not the progressive fallback.
        page.wait_for_function(
            "document.querySelector('video').hls && document.querySelector('video').readyState >= 1"
        )
        assert page.evaluate("document.querySelector('video').src.startsWith('blob:')")
        assert page.evaluate("document.querySelector('video').duration") > 9
        page.locator("video").evaluate("v => { v.muted = true; v.playbackRate = 4; return v.play(); }")
        page.wait_for_function("document.querySelector('video').ended", timeout=60_000)
        page.locator("[data-lesson-done]").wait_for(state="visible", timeout=15_000)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "media-hls-lesson-phone.png"), full_page=True)
    finally:
        context.close()
    with django_db_blocker.unblock(), schema_context(TENANT):
        progress = LessonProgress.objects.get(user=info["learner"], lesson_id=info["lesson"])
        assert progress.status == ProgressStatus.COMPLETED
