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
    from demo.media import demo_video
    from enrollments.services import enrollment_create
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
        course = Course.objects.get(pk=course.pk)
        enrollment_create(user=learner, course=course)
        from datetime import timedelta

        from django.utils import timezone

        from enrollments.services import video_progress_record

        # The learner watched the first 4 s last time and stopped: the player resumes there.
        # The heartbeats carry their times: the server counts watching by wall-clock time.
        started = timezone.now() - timedelta(seconds=5)
        for position, at in ((0, started), (4, started + timedelta(seconds=4))):
            video_progress_record(
                user=learner,
                course=course,
                lesson_id=lesson.pk,
                position=position,
                duration=10,
                watched_seconds=position,
                now=at,
            )
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
        page.wait_for_function("document.querySelector('video').currentTime >= 3.9")  # resumed
        # Double speed, the fastest Chromium's own controls offer and the fastest the server
        # counts in full (VIDEO_MAX_PLAYBACK_RATE, ADR 0076).
        page.locator("video").evaluate("v => { v.muted = true; v.playbackRate = 2; return v.play(); }")
        page.wait_for_function("document.querySelector('video').ended", timeout=60_000)
        page.locator("[data-lesson-done]").wait_for(state="visible", timeout=15_000)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "media-hls-lesson-phone.png"), full_page=True)
    finally:
        context.close()
    with django_db_blocker.unblock(), schema_context(TENANT):
        progress = LessonProgress.objects.get(user=info["learner"], lesson_id=info["lesson"])
        assert progress.status == ProgressStatus.COMPLETED


@pytest.fixture
def draft_lesson(browser, django_db_blocker):
    """A committed draft course with one lesson in acme; removed with its uploads afterwards."""
    from courses.models import Course
    from courses.tests.factories import lessons_of, make_course
    from media_delivery import storage
    from media_delivery.models import MediaAsset
    from tenants.context import storage_prefix

    tag = uuid.uuid4().hex[:8]
    with django_db_blocker.unblock(), schema_context(TENANT):
        course = make_course(slug=f"upload-{tag}", title=f"Upload {tag}", lessons=1, publish=False)
        lesson = lessons_of(course)[0]
    try:
        yield lesson
    finally:
        with django_db_blocker.unblock(), schema_context(TENANT):
            for asset in MediaAsset.objects.filter(lesson_id=lesson.pk):
                storage.objects_delete_prefix(f"{storage_prefix()}media/{asset.pk}/")
                asset.delete()
            Course.objects.filter(pk=course.pk).delete()
        connection.set_schema_to_public()


def test_an_instructor_uploads_a_pdf_from_the_browser_and_a_fake_one_is_rejected(
    browser, live_server_port, draft_lesson, django_db_blocker
):
    from core.pdf import pdf_document
    from media_delivery.models import AssetStatus, MediaAsset

    port = live_server_port
    page = browser.new_page()
    try:
        browser_sign_in(page, slug=TENANT, port=port, email=f"admin@{TENANT}.test")
        page.goto(site_url(TENANT, port, f"/media/upload/?lesson={draft_lesson.pk}"))
        page.get_by_label("Kind").select_option("document")
        pdf = pdf_document(title="Safety notes", subtitle="uploaded in a browser test", body="Hello.")
        page.get_by_label("File").set_input_files(
            {"name": "notes.pdf", "mimeType": "application/pdf", "buffer": pdf}
        )
        page.get_by_role("button", name="Upload").click()
        page.get_by_text("is uploaded and checked").wait_for(timeout=20_000)
        # A PNG pretending to be a PDF reaches storage (S3 checks only type and size) but the
        # server's check of its first bytes rejects it.
        page.locator(".asset-list").get_by_text("notes.pdf").wait_for(timeout=10_000)  # the page reloaded
        page.get_by_label("Kind").select_option("document")
        fake = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
        page.get_by_label("File").set_input_files(
            {"name": "fake.pdf", "mimeType": "application/pdf", "buffer": fake}
        )
        page.get_by_role("button", name="Upload").click()
        page.get_by_text("The file's contents are not PDF").first.wait_for(timeout=20_000)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "media-upload.png"), full_page=True)
    finally:
        page.close()
    with django_db_blocker.unblock(), schema_context(TENANT):
        statuses = sorted(
            MediaAsset.objects.filter(lesson_id=draft_lesson.pk).values_list("filename", "status")
        )
        assert statuses == [("fake.pdf", AssetStatus.REJECTED), ("notes.pdf", AssetStatus.READY)]


def test_a_large_video_goes_up_in_parts_from_the_browser(
    browser, live_server_port, draft_lesson, django_db_blocker, monkeypatch
):
    """Multipart through uploader.js: presigned part URLs, PUTs to S3, then the server completes it."""
    from media_delivery import services
    from media_delivery.models import AssetStatus, MediaAsset

    # The live server runs in this process: a 6 MB file in two parts stands in for gigabytes.
    monkeypatch.setattr(services, "MULTIPART_THRESHOLD", 1024 * 1024)
    monkeypatch.setattr(services, "PART_SIZE", 5 * 1024 * 1024)
    video = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * (6 * 1024 * 1024)
    page = browser.new_page()
    try:
        browser_sign_in(page, slug=TENANT, port=live_server_port, email=f"admin@{TENANT}.test")
        page.goto(site_url(TENANT, live_server_port, f"/media/upload/?lesson={draft_lesson.pk}"))
        page.get_by_label("Kind").select_option("video")
        page.get_by_label("File").set_input_files(
            {"name": "big.mp4", "mimeType": "video/mp4", "buffer": video}
        )
        page.get_by_role("button", name="Upload").click()
        page.get_by_text("is uploaded and checked").wait_for(timeout=30_000)
    finally:
        page.close()
    with django_db_blocker.unblock(), schema_context(TENANT):
        asset = MediaAsset.objects.get(lesson_id=draft_lesson.pk, filename="big.mp4")
        assert (asset.status, asset.size, asset.upload_id) == (AssetStatus.READY, len(video), "")
