"""In a real browser: the builder's lesson editor opens beside the tree, saves by itself while
the person types (no page load), and two staff editing the same lesson get "Changed by X:
Reload or Overwrite" instead of a silent last-save-wins (issue #13, ADR 0205). The course and
the second staff member are committed in tenant `acme` and deleted at the end.
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager

import pytest
from django.db import connection
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from accounts.services import user_create
from courses.models import CourseStaff, CourseStaffRole, Lesson
from courses.tests.factories import make_course
from tests.fixtures import PASSWORD, browser_sign_in, site_url

pytestmark = pytest.mark.browser
TENANT = "acme"


@pytest.fixture
def editor_course(browser, django_db_blocker):
    """A course of one module of two lessons, and a co-instructor, Cora Writer, on its staff."""
    tag = uuid.uuid4().hex[:8]
    with django_db_blocker.unblock(), schema_context(TENANT):
        course = make_course(slug=f"editor-{tag}", title="Browser editor", modules=1, lessons=2)
        cora = user_create(email=f"cora-{tag}@{TENANT}.test", role="instructor", password=PASSWORD)
        cora.full_name = "Cora Writer"
        cora.save(update_fields=["full_name"])
        CourseStaff.objects.create(course=course, user=cora, role=CourseStaffRole.CO_INSTRUCTOR)
        connection.close()
    try:
        yield course, cora.email
    finally:
        with django_db_blocker.unblock(), schema_context(TENANT):
            course.delete()
            cora.delete()
            connection.close()


def _stored(django_db_blocker, course, title: str) -> Lesson:
    with django_db_blocker.unblock(), schema_context(TENANT):
        lesson = Lesson.objects.get(module__course=course, title=title)
        connection.close()
    return lesson


@contextmanager
def _answered(page, method: str):
    """Wait for the editor's request and then for its swap to settle: a next step taken before
    the answer is in would act on the panel as it was."""
    page.evaluate(
        "() => { window.__editorSettled = false; document.body.addEventListener("
        "'htmx:afterSettle', () => { window.__editorSettled = true; }, {once: true}); }"
    )
    with page.expect_response(
        lambda r: "/edit/" in r.url and r.request.method == method, timeout=15000
    ) as response:
        yield response
    page.wait_for_function("() => window.__editorSettled === true")


def _open_editor(page, port: int, course, title: str) -> None:
    page.goto(site_url(TENANT, port, f"/builder/{course.slug}/"))
    page.wait_for_function("() => Boolean(window.htmx && window.Sortable)")
    with _answered(page, "GET"):
        page.locator(".builder-edit-link", has_text=title).click()
    expect(page.locator("#builder-editor-form")).to_be_visible()
    expect(page.get_by_label("Title", exact=True)).to_have_value(title)


def test_the_editor_autosaves_without_a_page_load(page, live_server_port, editor_course, django_db_blocker):
    port, (course, _cora) = live_server_port, editor_course
    browser_sign_in(page, slug=TENANT, port=port, email=f"admin@{TENANT}.test", password=PASSWORD)
    _open_editor(page, port, course, "Lesson 1.1")
    loads: list[str] = []
    page.on("load", lambda p: loads.append(p.url))
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    status = page.locator("#builder-editor-status")

    # Typing then stopping: one save shortly after, and "Saved".
    with _answered(page, "POST") as saved:
        page.get_by_label("Title", exact=True).fill("Welcome aboard")
        expect(status).to_have_text("Unsaved changes")
    assert saved.value.status == 200
    expect(status).to_have_text("Saved")
    expect(
        page.locator(f"#lesson-title-{_stored(django_db_blocker, course, 'Welcome aboard').pk}")
    ).to_have_text("Welcome aboard")

    # Leaving a field saves at once (the change event), with the version the last save brought.
    body = page.get_by_label("Text (Markdown)")
    with _answered(page, "POST") as saved:
        # One input event, then the blur before the debounce is due: exactly one save.
        body.fill(body.input_value() + " More to read.")
        page.get_by_label("Duration in minutes").focus()
    assert saved.value.status == 200
    expect(status).to_have_text("Saved")
    lesson = _stored(django_db_blocker, course, "Welcome aboard")
    assert lesson.body == "Text of lesson 1.1. More to read."
    assert lesson.version == 3

    assert loads == [], f"full page loads while editing: {loads}"
    assert errors == []


def test_two_staff_editing_the_same_lesson_get_the_conflict(
    browser, page, live_server_port, editor_course, django_db_blocker
):
    port, (course, cora_email) = live_server_port, editor_course
    browser_sign_in(page, slug=TENANT, port=port, email=f"admin@{TENANT}.test", password=PASSWORD)
    _open_editor(page, port, course, "Lesson 1.2")
    other_context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        cora = other_context.new_page()
        cora.set_default_timeout(15000)
        browser_sign_in(cora, slug=TENANT, port=port, email=cora_email, password=PASSWORD)
        _open_editor(cora, port, course, "Lesson 1.2")

        # Cora saves first.
        with _answered(cora, "POST"):
            cora.get_by_label("Title", exact=True).fill("Cora's title")
        expect(cora.locator("#builder-editor-status")).to_have_text("Saved")

        # The admin, still on the version both loaded, is told who changed it; nothing is saved.
        status = page.locator("#builder-editor-status")
        with _answered(page, "POST") as refused:
            page.get_by_label("Title", exact=True).fill("Admin's title")
        assert refused.value.status == 409
        expect(status).to_contain_text("Changed by Cora Writer just now")
        expect(status.get_by_role("button", name="Reload")).to_be_visible()
        assert _stored(django_db_blocker, course, "Cora's title").version == 2
        # The admin's text stays in the form, and more typing does not save over Cora's.
        expect(page.get_by_label("Title", exact=True)).to_have_value("Admin's title")

        # Overwrite saves the admin's text over Cora's version.
        with _answered(page, "POST") as overwritten:
            status.get_by_role("button", name="Overwrite").click()
        assert overwritten.value.status == 200
        expect(status).to_have_text("Saved")
        lesson = _stored(django_db_blocker, course, "Admin's title")
        assert lesson.version == 3

        # Cora's next edit conflicts in turn; Reload brings her the admin's text.
        cora_status = cora.locator("#builder-editor-status")
        with _answered(cora, "POST") as refused:
            cora.get_by_label("Title", exact=True).fill("Cora again")
        assert refused.value.status == 409
        expect(cora_status).to_contain_text("Changed by")
        with _answered(cora, "GET"):
            cora_status.get_by_role("button", name="Reload").click()
        expect(cora.get_by_label("Title", exact=True)).to_have_value("Admin's title")
        assert _stored(django_db_blocker, course, "Admin's title").version == 3
    finally:
        other_context.close()
