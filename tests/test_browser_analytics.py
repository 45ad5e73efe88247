"""The analytics dashboard in a real browser: a Chart.js chart renders, and a learner's new
event shows up on the open dashboard within seconds of the consumer applying it."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from analytics.consumer import Consumer
from analytics.ingest import reset_client
from analytics.models import CourseDay, LearnerCourse, LearnerDay, LessonLearner
from courses.tests.factories import lessons_of, make_course
from enrollments.services import enrollment_create
from tests.fixtures import PASSWORD, browser_sign_in, site_url
from tests.test_browser_learner import journey  # noqa: F401 - a committed course with a video lesson

pytestmark = pytest.mark.browser
TENANT = "globex"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def measured(browser, django_db_blocker):
    """A committed course with one enrolled learner in globex; removed (with its reports) afterwards."""
    from accounts.services import user_create

    tag = uuid.uuid4().hex[:8]
    reset_client()
    with django_db_blocker.unblock(), schema_context(TENANT):
        learner = user_create(email=f"measured-{tag}@globex.test", role="learner", password=PASSWORD)
        course = make_course(slug=f"measured-{tag}", title=f"Measured course {tag}", lessons=2)
        enrollment_create(user=learner, course=course)
        lesson = lessons_of(course)[0]
    try:
        yield {"course": course, "learner": learner, "lesson": lesson}
    finally:
        with django_db_blocker.unblock(), schema_context(TENANT):
            for model in (CourseDay, LearnerDay, LessonLearner, LearnerCourse):
                model.objects.filter(course_id=course.pk).delete()
            course.delete()
            learner.delete()
            connection.close()


def test_dashboard_draws_a_chart_and_shows_a_new_event_live(
    browser, live_server_port, measured, django_db_blocker
):
    port, course = live_server_port, measured["course"]
    staff = browser.new_context(viewport={"width": 1280, "height": 900})
    page = staff.new_page()
    page.set_default_timeout(15000)
    browser_sign_in(page, slug=TENANT, port=port, email="admin@globex.test")
    page.goto(site_url(TENANT, port, "/admin/"))
    page.get_by_role("link", name="Dashboards").click()
    page.get_by_role("link", name=course.title).click()
    page.wait_for_selector("#timeline-chart[data-ready='1']")  # Chart.js drew it
    assert page.locator("[data-live-total]").inner_text() == "0"  # nothing applied yet

    # The learner opens a lesson in another browser: lesson.viewed goes to the stream on commit.
    learner = browser.new_context()
    learner_page = learner.new_page()
    learner_page.set_default_timeout(15000)
    browser_sign_in(learner_page, slug=TENANT, port=port, email=measured["learner"].email)
    learner_page.goto(site_url(TENANT, port, f"/learning/{course.slug}/lessons/{lessons_of_ids(course)[1]}/"))
    with django_db_blocker.unblock():
        result = Consumer(name="browser-test").drain(seconds=10)
    assert result.applied >= 1
    # The open dashboard refreshes its series every 5 s: today's active learners go to 1 without a reload.
    page.wait_for_function("document.querySelector('[data-live-total]').textContent.trim() === '1'")
    page.reload()
    funnel = page.locator("table").first.inner_text()
    assert "Lesson 1.2\t1\t0" in funnel

    phone = browser.new_context(viewport=PHONE)
    small = phone.new_page()
    browser_sign_in(small, slug=TENANT, port=port, email="admin@globex.test")
    small.goto(site_url(TENANT, port, f"/analytics/courses/{course.pk}/"))
    small.wait_for_selector("#timeline-chart[data-ready='1']")
    assert small.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    for context in (staff, learner, phone):
        context.close()


def lessons_of_ids(course) -> list[int]:
    with schema_context(TENANT):
        return [lesson.pk for lesson in lessons_of(course)]


def test_the_player_beacon_sends_video_heartbeats(browser, live_server_port, journey, django_db_blocker):  # noqa: F811
    """beacon.js hooks the lesson's <video>: pausing sends a video.progress batch to /analytics/beacon/."""
    import json

    from analytics.ingest import redis_client, stream_for
    from tenants.models import Tenant

    with django_db_blocker.unblock(), schema_context(TENANT):
        enrollment_create(user=journey["learner"], course=journey["course"])
        stream = stream_for(str(Tenant.objects.get(slug=TENANT).uuid))
    reset_client()
    port, video_id = live_server_port, journey["ids"][2]
    page = browser.new_context().new_page()
    page.set_default_timeout(15000)
    browser_sign_in(page, slug=TENANT, port=port, email=journey["learner"].email)
    page.goto(site_url(TENANT, port, f"/learning/{journey['course'].slug}/lessons/{video_id}/"))
    page.wait_for_function("document.querySelector('video').readyState >= 1")
    with page.expect_response(lambda r: r.url.endswith("/analytics/beacon/")) as beat:
        page.locator("video").evaluate("v => { v.muted = true; return v.play(); }")
        page.wait_for_function("document.querySelector('video').currentTime >= 1.5")
        page.evaluate("document.querySelector('video').pause()")
    assert beat.value.status == 202 and beat.value.json()["accepted"] == 1
    mine = [
        json.loads(fields[b"e"])
        for _, fields in redis_client().xrevrange(stream, count=50)
        if json.loads(fields[b"e"])["user"] == journey["learner"].pk
    ]
    progress = [e for e in mine if e["type"] == "video.progress"]
    assert progress and progress[0]["payload"]["lesson_id"] == video_id
    assert 1 <= progress[0]["payload"]["seconds_watched"] <= 5 and progress[0]["payload"]["duration"] == 10
    page.context.close()
