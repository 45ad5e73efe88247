"""A learner sees a drip-locked lesson's unlock date (and a prerequisite's reason) in a real browser."""

import uuid
from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django_tenants.utils import schema_context

from accounts.services import user_create
from courses.services import course_publish, lesson_set_prerequisites
from courses.tests.factories import lessons_of, make_course
from enrollments.services import enrollment_create
from tests.fixtures import PASSWORD, browser_sign_in, site_url

pytestmark = pytest.mark.browser
TENANT = "globex"


@pytest.fixture
def gated(browser, django_db_blocker):
    tag = uuid.uuid4().hex[:8]
    with django_db_blocker.unblock(), schema_context(TENANT):
        admin = get_user_model().objects.get(email=f"admin@{TENANT}.test")
        learner = user_create(email=f"gated-{tag}@globex.test", role="learner", password=PASSWORD)
        course = make_course(slug=f"gated-{tag}", title=f"Gated course {tag}", lessons=3, publish=False)
        first, second, third = lessons_of(course)
        second.drip_at = datetime(2031, 3, 14, 8, 0, tzinfo=UTC)  # globex's time zone is UTC
        second.save()
        lesson_set_prerequisites(actor=admin, lesson=third, prerequisites=[first])
        course_publish(actor=admin, course=course)
        enrollment_create(user=learner, course=course)
    try:
        yield {"course": course, "learner": learner, "lessons": (first, second, third)}
    finally:
        with django_db_blocker.unblock(), schema_context(TENANT):
            course.delete()
            learner.delete()
        connection.close()


def test_the_syllabus_and_the_locked_lesson_show_when_and_why(browser, live_server_port, gated):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    try:
        browser_sign_in(page, slug=TENANT, port=live_server_port, email=gated["learner"].email)
        slug = gated["course"].slug
        page.goto(site_url(TENANT, live_server_port, f"/courses/{slug}/"))
        syllabus = page.locator(".lesson-list").inner_text()
        assert "This lesson unlocks on 14 March 2031 at 08:00." in syllabus
        assert "Complete 'Lesson 1.1' first." in syllabus
        first, second, _third = gated["lessons"]
        response = page.goto(site_url(TENANT, live_server_port, f"/learning/{slug}/lessons/{second.pk}/"))
        assert response.status == 403
        assert page.get_by_text("This lesson unlocks on 14 March 2031 at 08:00.").first.is_visible()
        page.goto(site_url(TENANT, live_server_port, f"/learning/{slug}/lessons/{first.pk}/"))
        sidebar = page.locator(".contents").inner_text()
        assert "unlocks on 14 March 2031" in sidebar
    finally:
        context.close()
