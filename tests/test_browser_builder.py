"""In a real browser: the course builder reorders lessons by drag and drop and by keyboard, adds,
renames, archives and restores a lesson, all without a full page load, and the order holds after
a reload (issue #13, ADR 0205). The course is committed in tenant `acme` and deleted at the end.
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager

import pytest
from django.db import connection
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from courses.models import Lesson, Module
from courses.tests.factories import make_course
from tests.fixtures import PASSWORD, browser_sign_in, site_url

pytestmark = pytest.mark.browser
TENANT = "acme"


@pytest.fixture
def builder_course(browser, django_db_blocker):
    tag = uuid.uuid4().hex[:8]
    with django_db_blocker.unblock(), schema_context(TENANT):
        course = make_course(slug=f"builder-{tag}", title="Browser builder", modules=2, lessons=3)
        connection.close()
    try:
        yield course
    finally:
        with django_db_blocker.unblock(), schema_context(TENANT):
            course.delete()
            connection.close()


def _order(django_db_blocker, course) -> list[list[str]]:
    """Each live module's live lesson titles, in order, as the database has them."""
    with django_db_blocker.unblock(), schema_context(TENANT):
        titles = [
            list(
                Lesson.objects.alive()
                .filter(module=module)
                .order_by("position", "id")
                .values_list("title", flat=True)
            )
            for module in Module.objects.alive().filter(course=course).order_by("position", "id")
        ]
        connection.close()
    return titles


def _shown(page) -> list[list[str]]:
    return page.eval_on_selector_all(
        "ol.builder-modules > li.builder-module",
        "modules => modules.map(m => Array.from(m.querySelectorAll('ol.builder-lessons > li .builder-title'))"
        ".map(t => t.textContent.trim()))",
    )


@contextmanager
def _posted(page):
    """Wait for the builder's POST and then for its swap to settle: the page moves the focus
    when it settles, so a next step taken before that would land on the wrong element."""
    page.evaluate(
        "() => { window.__builderSettled = false; document.body.addEventListener("
        "'htmx:afterSettle', () => { window.__builderSettled = true; }, {once: true}); }"
    )
    with page.expect_response(lambda r: "/builder/" in r.url and r.request.method == "POST") as response:
        yield response
    page.wait_for_function("() => window.__builderSettled === true")


def _row(page, title: str):
    return page.locator("li.builder-lesson", has=page.locator(".builder-title", has_text=title)).first


def test_builder_reorders_adds_renames_archives_and_restores_without_page_loads(
    page, live_server_port, builder_course, django_db_blocker
):
    port, course = live_server_port, builder_course
    browser_sign_in(page, slug=TENANT, port=port, email=f"admin@{TENANT}.test", password=PASSWORD)
    page.goto(site_url(TENANT, port, f"/builder/{course.slug}/"))
    page.wait_for_function("() => Boolean(window.htmx && window.Sortable)")
    loads: list[str] = []
    page.on("load", lambda p: loads.append(p.url))
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # Drag and drop: Lesson 1.3 by its handle to the top of module 1.
    with _posted(page) as posted:
        handle = _row(page, "Lesson 1.3").locator(".builder-handle").bounding_box()
        # Where the rows are before the drag (they move under the pointer once it starts).
        middle, top = _row(page, "Lesson 1.2").bounding_box(), _row(page, "Lesson 1.1").bounding_box()
        page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
        page.mouse.down()
        for box in (middle, top):
            page.mouse.move(box["x"] + 30, box["y"] + box["height"] * 0.3, steps=8)
            page.wait_for_timeout(200)
        page.mouse.up()
    assert posted.value.status == 200
    expect(page.locator("#builder-live")).to_contain_text("“Lesson 1.3” moved to position 1 of 3")
    assert _order(django_db_blocker, course)[0] == ["Lesson 1.3", "Lesson 1.1", "Lesson 1.2"]

    # Keyboard: Lesson 1.1 down one place, then past the end of module 1 into module 2.
    _row(page, "Lesson 1.1").focus()
    with _posted(page):
        page.keyboard.press("Alt+ArrowDown")
    expect(page.locator("#builder-live")).to_contain_text(
        "“Lesson 1.1” moved to position 3 of 3 in “Module 1”"
    )
    expect(_row(page, "Lesson 1.1")).to_be_focused()
    with _posted(page):
        page.keyboard.press("Alt+ArrowDown")
    expect(page.locator("#builder-live")).to_contain_text(
        "“Lesson 1.1” moved to position 1 of 4 in “Module 2”"
    )
    expect(_row(page, "Lesson 1.1")).to_be_focused()
    assert _order(django_db_blocker, course) == [
        ["Lesson 1.3", "Lesson 1.2"],
        ["Lesson 1.1", "Lesson 2.1", "Lesson 2.2", "Lesson 2.3"],
    ]

    # Add a lesson to module 1 (title and kind), then rename it.
    module_one = page.locator("li.builder-module").first
    module_one.get_by_label("New lesson title").fill("Warm-up quiz")
    module_one.get_by_label("Kind").select_option("quiz")
    with _posted(page):
        module_one.get_by_role("button", name="Add lesson").click()
    added = _row(page, "Warm-up quiz")
    expect(added).to_be_focused()
    expect(added).to_contain_text("Quiz")
    expect(page.locator("#builder-live")).to_contain_text("Lesson “Warm-up quiz” added")
    added.locator("summary", has_text="Rename").click()
    added.get_by_label("Lesson title").fill("Opening quiz")
    with _posted(page):
        added.get_by_role("button", name="Save").click()
    renamed = _row(page, "Opening quiz")
    expect(renamed).to_be_focused()

    # Archive it: it leaves the list for "Archived lessons"; restore it: it comes back last.
    with _posted(page):
        renamed.get_by_role("button", name="Archive lesson Opening quiz").click()
    expect(page.locator("li.builder-module").first.locator("ol.builder-lessons > li")).to_have_count(2)
    archived = page.locator("li.builder-lesson--archived", has_text="Opening quiz")
    expect(archived).to_have_count(1)
    with _posted(page):
        page.get_by_role("button", name="Restore lesson Opening quiz").click()
    expect(page.locator("li.builder-module").first.locator("ol.builder-lessons > li")).to_have_count(3)
    expected = [
        ["Lesson 1.3", "Lesson 1.2", "Opening quiz"],
        ["Lesson 1.1", "Lesson 2.1", "Lesson 2.2", "Lesson 2.3"],
    ]
    assert _order(django_db_blocker, course) == expected
    assert _shown(page) == expected

    # A refusal shows its sentence in the page and changes nothing (an empty title, past the
    # browser's own check).
    renamed = _row(page, "Opening quiz")
    renamed.locator("summary", has_text="Rename").click()
    field = renamed.get_by_label("Lesson title")
    field.evaluate("input => input.removeAttribute('required')")
    field.fill("   ")
    with _posted(page) as refused:
        renamed.get_by_role("button", name="Save").click()
    assert refused.value.status == 400
    expect(page.locator("[data-builder-error]")).to_have_text("A title is needed.")
    assert _order(django_db_blocker, course) == expected

    # Keyboard on a module: Module 2 (with its lessons) up to the top.
    page.locator("li.builder-module[data-title='Module 2']").focus()
    with _posted(page):
        page.keyboard.press("Alt+ArrowUp")
    expect(page.locator("#builder-live")).to_contain_text("“Module 2” moved to position 1 of 2.")
    expect(page.locator("li.builder-module[data-title='Module 2']")).to_be_focused()
    expected = [expected[1], expected[0]]
    assert _order(django_db_blocker, course) == expected

    assert loads == [], f"full page loads while building: {loads}"
    page.reload()
    assert len(loads) == 1
    assert _shown(page) == expected
    assert errors == []
