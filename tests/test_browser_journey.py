"""From an empty course to a learner's progress, entirely through the browser.

An instructor builds and publishes a course in the tenant admin (course form, "Add module",
the module's "Add lesson", a refused publish, a successful one); a learner then finds it in
the catalog, enrolls, completes the first of its two lessons and sees 50 % everywhere.

Everything runs in tenant `globex` (other tests use acme's data). The course is made only
through the UI; the fixture deletes it, and everything under it, with the ORM afterwards.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from tests.fixtures import browser_sign_in

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
TENANT = "globex"
DESKTOP = {"width": 1280, "height": 800}
INSTRUCTOR = f"instructor@{TENANT}.test"
LEARNER = f"learner@{TENANT}.test"

SUMMARY = "Find your way around the warehouse in two short readings."
DESCRIPTION = """Two readings for your **first morning** on the floor.

- The floor plan
- Your first pick
"""
MODULE_TITLE = "Getting started"
LESSONS = [
    (
        "Reading the floor plan",
        """Every aisle on the floor plan has a **number** and a colour.

## Where to begin

Start at the dock doors and walk clockwise; the plan on the wall shows where you are.

- Green aisles hold fast movers
- Blue aisles hold bulky goods
""",
    ),
    (
        "Your first pick",
        """Scan the shelf label *before* you take anything.

## When the count is wrong

Tell your team lead and leave the shelf as you found it.
""",
    ),
]


def _url(port: int, path: str = "/") -> str:
    return f"http://{TENANT}.localhost:{port}{path}"


@pytest.fixture
def journey_course(browser, django_db_blocker):
    """The unique title and address of the course the test builds; the course is deleted afterwards.

    Depends on `browser` so that Playwright (and DJANGO_ALLOW_ASYNC_UNSAFE) is set up before
    the ORM runs next to its event loop.
    """
    from courses.models import Course

    tag = uuid.uuid4().hex[:8]
    title = f"Journey course {tag}"
    slug = f"journey-course-{tag}"
    with django_db_blocker.unblock(), schema_context(TENANT):
        assert not Course.objects.filter(slug=slug).exists()
    try:
        yield {"tag": tag, "title": title, "slug": slug}
    finally:
        with django_db_blocker.unblock(), schema_context(TENANT):
            # A hard delete cascades to modules, lessons, revisions, enrollments and progress.
            Course.objects.filter(slug=slug).delete()
            # The ORM opened a connection of its own next to Playwright's event loop; close it,
            # or dropping the test database at the end of the session finds it still in use.
            connection.close()


def _new_page(browser):
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.set_default_timeout(15000)
    return context, page


def _admin_messages(page) -> str:
    return page.locator(".messagelist").inner_text()


def _build_and_publish(page, port: int, title: str, slug: str) -> None:
    """The instructor's part: course form, module, refused publish, two lessons, publish."""
    # From the site's navigation into the admin, then to an empty course form.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Administration").click()
    page.wait_for_url(_url(port, "/admin/"))
    page.get_by_role("rowheader", name="Courses", exact=True).get_by_role("link").click()
    page.wait_for_url(_url(port, "/admin/courses/course/"))
    page.get_by_role("link", name="Add course").click()
    page.wait_for_url(_url(port, "/admin/courses/course/add/"))

    page.get_by_label("Title").fill(title)
    page.get_by_label("Summary").fill(SUMMARY)
    page.get_by_label("Description").fill(DESCRIPTION)
    # The admin's prepopulated field writes the address from the title.
    slug_field = page.get_by_label("Slug")
    slug_field.click()
    assert slug_field.input_value() == slug
    # No staff to pick on the add page: whoever creates a course owns it.
    assert (
        page.get_by_label("Enrollment policy")
        .locator("option:checked")
        .inner_text()
        .lower()
        .startswith("open")
    )
    page.get_by_role("button", name="Save", exact=True).click()

    # The builder: created, a draft, no modules yet.
    page.wait_for_url(re.compile(r"/admin/courses/course/\d+/change/"))
    builder_url = page.url.split("#")[0]
    assert f"Course “{title}” created" in _admin_messages(page)
    assert page.get_by_role("heading", name="Course builder").is_visible()
    status = page.get_by_role("region", name="Status")
    assert status.locator(".lms-badge").first.inner_text() == "Draft"
    curriculum = page.get_by_role("region", name="Curriculum")
    assert "No modules yet" in curriculum.inner_text()

    # Add a module with the builder's own form.
    curriculum.get_by_label("Title").fill(MODULE_TITLE)
    curriculum.get_by_label("Summary").fill("Where things are and how to pick them.")
    curriculum.get_by_role("button", name="Add module").click()
    page.wait_for_url(re.compile(r"#module-\d+$"))
    assert f"Module “{MODULE_TITLE}” added" in _admin_messages(page)
    module = curriculum.get_by_role("listitem").filter(
        has=page.get_by_role("heading", name=MODULE_TITLE, level=3)
    )
    assert "No lessons in this module yet." in module.inner_text()

    # Publishing a module without lessons is refused, and the builder says why.
    problems = status.get_by_role("note", name="Before this course can be published")
    assert f"Module '{MODULE_TITLE}' has no lessons" in problems.inner_text()
    status.get_by_role("button", name="Publish").click()
    page.wait_for_url(builder_url)
    errors = page.locator(".messagelist .error").all_inner_texts()
    assert "The course is not ready to publish." in errors
    assert any(f"Module '{MODULE_TITLE}' has no lessons" in error for error in errors)
    status = page.get_by_role("region", name="Status")
    assert status.locator(".lms-badge").first.inner_text() == "Draft"
    assert status.get_by_role("note", name="Before this course can be published").is_visible()

    # Two text lessons, each through the module's "Add lesson" link.
    for number, (lesson_title, body) in enumerate(LESSONS, start=1):
        page.get_by_role("link", name=f"Add lesson to module “{MODULE_TITLE}”").click()
        page.wait_for_url(re.compile(r"/admin/courses/lesson/add/\?module=\d+$"))
        assert (
            page.get_by_label("Module").locator("option:checked").inner_text() == f"{title} / {MODULE_TITLE}"
        )
        page.get_by_label("Title").fill(lesson_title)
        assert page.get_by_label("Kind").input_value() == "text"
        page.get_by_label("Body").fill(body)
        if number == 1:
            # The builder's Markdown preview shows the HTML learners will get.
            page.get_by_role("button", name="Preview", exact=True).click()
            preview = page.locator("#id_body_preview")
            preview.get_by_role("heading", name="Where to begin").wait_for()
            assert preview.locator("strong").inner_text() == "number"
            page.get_by_role("button", name="Edit", exact=True).click()
            assert page.get_by_label("Body").is_visible()
        page.get_by_label("Duration minutes").fill("5")
        page.get_by_role("button", name="Save", exact=True).click()
        page.wait_for_url(re.compile(r"/admin/courses/course/\d+/change/#lesson-\d+$"))
        assert f"“{lesson_title}” was added successfully" in _admin_messages(page)
        row = page.get_by_role("link", name=f"1.{number} {lesson_title}")
        assert row.is_visible()

    # Nothing stands in the way any more: publish.
    status = page.get_by_role("region", name="Status")
    assert status.get_by_role("note").count() == 0
    status.get_by_label("What changed?").fill("First edition")
    status.get_by_role("button", name="Publish").click()
    page.wait_for_url(builder_url)
    assert "Published revision 1. First edition" in _admin_messages(page)
    status = page.get_by_role("region", name="Status")
    assert status.locator(".lms-badge").first.inner_text() == "Published r1"
    assert status.get_by_role("button", name="Publish").is_disabled()
    revisions = page.get_by_role("region", name="Revision history")
    assert "First edition" in revisions.get_by_role("row").nth(1).inner_text()
    page.screenshot(path=str(ARTIFACTS / "journey-admin-builder.png"), full_page=True)


def _learn(page, port: int, title: str, slug: str) -> None:
    """The learner's part: find, enroll, read, complete, and see 50 %."""
    first_title, second_title = LESSONS[0][0], LESSONS[1][0]

    # The catalog's search form finds the course by its title.
    search = page.get_by_role("search", name="Find a course")
    search.get_by_label("Search by title").fill(title)
    search.get_by_role("button", name="Search").click()
    page.wait_for_url(lambda url: f"q=Journey+course+{slug.rsplit('-', 1)[1]}" in url)
    courses = page.get_by_role("list", name="Courses")
    assert courses.get_by_role("listitem").filter(has=page.get_by_role("heading", level=2)).count() == 1
    card = courses.get_by_role("listitem").filter(has=page.get_by_role("link", name=title))
    assert SUMMARY in card.inner_text()
    assert "2 lessons" in card.inner_text()
    page.screenshot(path=str(ARTIFACTS / "journey-catalog.png"), full_page=True)
    card.get_by_role("link", name=title).click()

    # The landing page: the syllabus, then enroll (the policy is open).
    page.wait_for_url(_url(port, f"/courses/{slug}/"))
    assert page.get_by_role("heading", name=title, level=1).is_visible()
    about = page.get_by_role("region", name="About this course")
    assert about.locator("strong").inner_text() == "first morning"
    syllabus = page.get_by_role("region", name="Syllabus")
    assert f"Module 1: {MODULE_TITLE}" in syllabus.inner_text()
    assert first_title in syllabus.inner_text() and second_title in syllabus.inner_text()
    page.get_by_role("region", name="Take this course").get_by_role("button", name="Enroll").click()

    # The first lesson opens: its Markdown is rendered, the bar starts at 0.
    page.wait_for_url(re.compile(rf"/learning/{slug}/lessons/\d+/$"))
    first_url = page.url
    assert f"You are enrolled in {title}" in page.get_by_role("status").first.inner_text()
    assert page.get_by_role("heading", name=first_title, level=1).is_visible()
    lesson = page.get_by_role("article")
    assert lesson.get_by_role("heading", name="Where to begin", level=2).is_visible()
    assert lesson.locator(".prose strong").inner_text() == "number"
    assert lesson.get_by_role("listitem").filter(has_text="Green aisles hold fast movers").is_visible()
    contents = page.get_by_role("complementary", name="Course contents")
    bar = contents.get_by_role("progressbar", name="Course progress")
    assert bar.get_attribute("aria-valuenow") == "0"
    assert "0% complete" in contents.inner_text()
    assert contents.get_by_role("link", name=f"{first_title} (completed)").count() == 0

    # Mark it complete: on to the second lesson, the bar at 50, a tick for the first.
    page.get_by_role("button", name="Mark complete").click()
    page.wait_for_url(lambda url: url != first_url and f"/learning/{slug}/lessons/" in url)
    second_url = page.url
    assert f"Lesson completed: {first_title}." in page.get_by_role("status").first.inner_text()
    assert page.get_by_role("heading", name=second_title, level=1).is_visible()
    contents = page.get_by_role("complementary", name="Course contents")
    bar = contents.get_by_role("progressbar", name="Course progress")
    assert bar.get_attribute("aria-valuenow") == "50"
    assert "50% complete" in contents.inner_text()
    done = contents.get_by_role("link", name=f"{first_title} (completed)")
    assert done.locator(".status").inner_text() == "✓"
    assert contents.get_by_role("link", name=f"{second_title} (completed)").count() == 0

    # Back on the first lesson (through the sidebar): it shows as completed.
    done.click()
    page.wait_for_url(first_url)
    assert page.get_by_text("✓ You completed this lesson.").is_visible()
    assert page.get_by_role("button", name="Mark complete").count() == 0
    bar = page.get_by_role("complementary", name="Course contents").get_by_role("progressbar")
    assert bar.get_attribute("aria-valuenow") == "50"
    fill = bar.locator(".progress-fill").evaluate("el => el.getBoundingClientRect().width")
    total = bar.evaluate("el => el.getBoundingClientRect().width")
    assert 0.45 < fill / total < 0.55
    page.screenshot(path=str(ARTIFACTS / "journey-lesson.png"), full_page=True)

    # My learning lists the course, half done.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My learning").click()
    page.wait_for_url(_url(port, "/learning/"))
    in_progress = page.get_by_role("region", name="In progress")
    item = in_progress.get_by_role("listitem").filter(has=page.get_by_role("link", name=title))
    assert item.count() == 1
    assert item.get_by_role("progressbar", name="Course progress").get_attribute("aria-valuenow") == "50"
    assert "50% complete · 2 lessons" in item.inner_text()
    # "Continue" skips the completed lesson and opens the next unfinished one.
    item.get_by_role("link", name=f"Continue {title}").click()
    page.wait_for_url(second_url)
    assert page.get_by_role("heading", name=second_title, level=1).is_visible()


def test_instructor_builds_and_publishes_a_course_a_learner_completes_half(
    browser, live_server_port, journey_course, django_db_blocker
):
    ARTIFACTS.mkdir(exist_ok=True)
    port, title, slug = live_server_port, journey_course["title"], journey_course["slug"]

    context, page = _new_page(browser)
    try:
        browser_sign_in(page, slug=TENANT, port=port, email=INSTRUCTOR)
        _build_and_publish(page, port, title, slug)
    finally:
        context.close()

    context, page = _new_page(browser)
    try:
        browser_sign_in(page, slug=TENANT, port=port, email=LEARNER)
        _learn(page, port, title, slug)
    finally:
        context.close()

    # What the pages showed is what was stored.
    from courses.models import Course, CourseStatus
    from enrollments.models import Enrollment

    with django_db_blocker.unblock(), schema_context(TENANT):
        course = Course.objects.get(slug=slug)
        assert course.status == CourseStatus.PUBLISHED
        assert course.staff.get(user__email=INSTRUCTOR).role == "owner"
        lessons = list(course.modules.get().lessons.order_by("position").values_list("title", "kind"))
        assert lessons == [(lesson_title, "text") for lesson_title, _ in LESSONS]
        assert Enrollment.objects.get(course=course, user__email=LEARNER).progress_percent == 50
