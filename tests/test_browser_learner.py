"""A learner's journey in a real browser: catalog, enroll, read, complete, watch, resume.

The live server only sees committed rows, so each test commits a fresh course and a fresh
learner in tenant `globex` and deletes both at the end (the fixture users stay untouched).
"""

from __future__ import annotations

import io
import struct
import uuid
import wave
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django_tenants.utils import schema_context

from courses.models import Category, LessonKind
from courses.services import course_publish
from courses.tests.test_views import build_course, lesson_ids
from tests.fixtures import PASSWORD, browser_sign_in

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
TENANT = "globex"
PHONE = {"width": 390, "height": 844}

DESCRIPTION = """A practical tour of the warehouse floor for new starters.

- How orders flow from the dock to the shelf
- Safety rules that keep everyone well
- Who to ask when something looks wrong
"""

LESSON_BODY = """Welcome to your first day. This reading takes **five minutes**.

## Before you start

Collect your badge at reception and read the safety card. Every aisle is numbered;
pickers walk clockwise so nobody meets a trolley head-on.

> Ask your team lead whenever you are unsure: questions are part of the job.
"""


def _url(port: int, path: str = "/") -> str:
    return f"http://{TENANT}.localhost:{port}{path}"


def _silent_wav(seconds: int) -> bytes:
    """A mono 8 kHz WAV of silence: a media file any browser plays, made without ffmpeg."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(struct.pack("<h", 0) * 8000 * seconds)
    return buffer.getvalue()


@pytest.fixture
def journey(browser, django_db_blocker):
    """A committed published course and learner in globex, removed afterwards.

    Depends on `browser` so that Playwright (and DJANGO_ALLOW_ASYNC_UNSAFE) is set up before
    these ORM calls run next to its event loop.
    """
    from accounts.services import user_create

    tag = uuid.uuid4().hex[:8]
    with django_db_blocker.unblock(), schema_context(TENANT):
        category = Category.objects.create(name=f"Operations {tag}", slug=f"operations-{tag}")
        learner = user_create(
            email=f"journey-{tag}@globex.test", role="learner", password=PASSWORD, full_name="Jo Journey"
        )
        video_name = default_storage.save(f"lessons/video/journey-{tag}.wav", ContentFile(_silent_wav(10)))
        course = build_course(
            slug=f"warehouse-{tag}",
            title=f"Warehouse basics {tag}",
            summary="Your first week on the warehouse floor, step by step.",
            description=DESCRIPTION,
            modules=2,
            lessons=2,
            kinds=[LessonKind.TEXT, LessonKind.TEXT, LessonKind.VIDEO, LessonKind.TEXT],
            category=category,
            level="beginner",
            estimated_minutes=45,
            publish=False,
        )
        first = course.modules.order_by("position").first().lessons.order_by("position").first()
        first.title, first.body = "Your first day", LESSON_BODY
        first.save()
        video = course.modules.order_by("position").last().lessons.order_by("position").first()
        video.video.name = video_name
        video.save()
        # What the transcoder would measure (a WAV makes no HLS ladder): video completion
        # counts watching against it (ADR 0076).
        from media_delivery.models import MediaAsset
        from tenants.context import storage_prefix

        MediaAsset.objects.update_or_create(
            key=storage_prefix() + video_name,
            defaults={"kind": "video", "status": "ready", "lesson": video, "duration_seconds": 10},
        )
        course_publish(actor=get_user_model().objects.get(email="admin@globex.test"), course=course)
        course.refresh_from_db()
        ids = lesson_ids(course)
    try:
        yield {"tag": tag, "course": course, "learner": learner, "ids": ids}
    finally:
        with django_db_blocker.unblock(), schema_context(TENANT):
            course.delete()  # cascades modules, lessons, revisions, enrollments, progress
            category.delete()
            learner.delete()
            default_storage.delete(video_name)
            # Next to Playwright's event loop the ORM opened a connection of its own; close it,
            # or dropping the test database at the end of the session finds it still in use.
            connection.close()


def _fits(page, width: int) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"page is {scroll}px wide on a {width}px phone"


def test_learner_finds_enrolls_reads_and_completes_a_lesson(browser, live_server_port, journey):
    ARTIFACTS.mkdir(exist_ok=True)
    port, tag, ids = live_server_port, journey["tag"], journey["ids"]
    title = f"Warehouse basics {tag}"
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(15000)
    browser_sign_in(page, slug=TENANT, port=port, email=journey["learner"].email)

    # The catalog: search by title, then open the course.
    assert page.get_by_role("link", name="My learning").is_visible()
    page.get_by_label("Search by title").fill(f"warehouse basics {tag}")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(lambda url: "q=warehouse" in url)
    card = page.locator(".course-card", has_text=title)
    assert card.count() == 1
    assert "45 min" in card.inner_text() and "4 lessons" in card.inner_text()
    page.get_by_label("Search by title").fill("")
    page.get_by_label("Category").select_option(f"operations-{tag}")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(lambda url: f"category=operations-{tag}" in url)
    page.screenshot(path=str(ARTIFACTS / "learner-catalog.png"), full_page=True)
    page.get_by_role("link", name=title).click()

    # The landing page: enroll.
    page.wait_for_url(_url(port, f"/courses/warehouse-{tag}/"))
    assert page.get_by_role("heading", name=title).is_visible()
    assert page.get_by_role("heading", name="Syllabus").is_visible()
    page.screenshot(path=str(ARTIFACTS / "learner-course-landing.png"), full_page=True)
    page.get_by_role("button", name="Enroll").click()

    # The first lesson: read it, see 0 %, mark it complete, see the bar move.
    page.wait_for_url(_url(port, f"/learning/warehouse-{tag}/lessons/{ids[0]}/"))
    assert page.get_by_role("heading", name="Your first day", level=1).is_visible()
    assert f"You are enrolled in {title}" in page.locator(".messages").inner_text()
    bar = page.get_by_role("progressbar", name="Course progress")
    assert bar.get_attribute("aria-valuenow") == "0"
    page.screenshot(path=str(ARTIFACTS / "learner-lesson-desktop.png"), full_page=True)
    page.get_by_role("button", name="Mark complete").click()
    page.wait_for_url(_url(port, f"/learning/warehouse-{tag}/lessons/{ids[1]}/"))
    assert "Lesson completed: Your first day." in page.locator(".messages").inner_text()
    assert bar.get_attribute("aria-valuenow") == "25"
    done = page.locator(f'.contents-list li[data-lesson-id="{ids[0]}"]')
    assert "is-done" in done.get_attribute("class") and "(completed)" in done.inner_text()
    fill = page.locator(".player-aside .progress-fill").evaluate("el => el.getBoundingClientRect().width")
    assert fill > 0

    # Keyboard: the first Tab reaches the skip link.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"

    # A phone: the syllabus moves under the lesson and nothing scrolls sideways.
    page.set_viewport_size(PHONE)
    page.goto(_url(port, f"/learning/warehouse-{tag}/lessons/{ids[0]}/"))
    main_box = page.locator(".player-main").bounding_box()
    aside_box = page.locator(".player-aside").bounding_box()
    assert aside_box["y"] >= main_box["y"] + main_box["height"]
    _fits(page, PHONE["width"])
    page.screenshot(path=str(ARTIFACTS / "learner-lesson-phone.png"), full_page=True)
    page.goto(_url(port, "/"))
    _fits(page, PHONE["width"])
    page.screenshot(path=str(ARTIFACTS / "learner-catalog-phone.png"), full_page=True)

    page.set_viewport_size({"width": 1280, "height": 860})
    page.get_by_role("link", name="My learning").click()
    assert page.get_by_role("heading", name="Continue where you left off").is_visible()
    page.screenshot(path=str(ARTIFACTS / "learner-my-learning.png"), full_page=True)
    context.close()

    from enrollments.models import Enrollment

    with schema_context(TENANT):
        assert Enrollment.objects.get(user=journey["learner"]).progress_percent == 25


def test_the_video_player_reports_progress_and_resumes(browser, live_server_port, journey, django_db_blocker):
    from enrollments.models import LessonProgress
    from enrollments.services import enrollment_create

    with django_db_blocker.unblock(), schema_context(TENANT):
        enrollment_create(user=journey["learner"], course=journey["course"])
    ARTIFACTS.mkdir(exist_ok=True)
    port, tag, video_id = live_server_port, journey["tag"], journey["ids"][2]
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(15000)
    browser_sign_in(page, slug=TENANT, port=port, email=journey["learner"].email)
    lesson = _url(port, f"/learning/warehouse-{tag}/lessons/{video_id}/")
    page.goto(lesson)
    page.wait_for_function("document.querySelector('video').readyState >= 1")

    # Play a little, pause: the pause sends a heartbeat with the CSRF header.
    with page.expect_response(lambda r: r.url.endswith("/progress/")) as beat:
        page.locator("video").evaluate("v => { v.muted = true; return v.play(); }")
        page.wait_for_function("document.querySelector('video').currentTime >= 1.5")
        page.evaluate("document.querySelector('video').pause()")
    assert beat.value.status == 200
    assert beat.value.json()["status"] == "in_progress"
    with django_db_blocker.unblock(), schema_context(TENANT):
        progress = LessonProgress.objects.get(user=journey["learner"], lesson_id=video_id)
    assert progress.last_position_seconds >= 1 and progress.time_spent_seconds >= 1

    # Reloading resumes where the learner paused.
    page.goto(lesson)
    assert "You left off at 0:0" in page.locator(".resume-note").inner_text()
    page.wait_for_function(f"document.querySelector('video').currentTime >= {progress.last_position_seconds}")

    # Skipping to the end completes nothing: the server counts watching, not the position.
    with page.expect_response(lambda r: r.url.endswith("/progress/")) as beat:
        page.locator("video").evaluate("v => { v.muted = true; v.currentTime = 9.3; return v.play(); }")
    assert beat.value.json()["status"] == "in_progress"

    # Watching the rest (at double speed) completes the lesson; the sidebar updates without a reload.
    page.wait_for_function("document.querySelector('video').ended")
    with page.expect_response(lambda r: r.url.endswith("/progress/")) as beat:
        resume = progress.last_position_seconds
        play = f"v => {{ v.currentTime = {resume}; v.playbackRate = 2; return v.play(); }}"
        page.locator("video").evaluate(play)
    assert beat.value.json() == {"percent": 100, "status": "completed", "course_percent": 25}
    sidebar_item = f'.contents-list li[data-lesson-id="{video_id}"]'
    page.wait_for_function(f"document.querySelector('{sidebar_item}').classList.contains('is-done')")
    assert page.get_by_role("progressbar", name="Course progress").get_attribute("aria-valuenow") == "25"
    assert page.locator("[data-lesson-done]").is_visible()
    page.screenshot(path=str(ARTIFACTS / "learner-video-lesson.png"), full_page=True)
    context.close()
