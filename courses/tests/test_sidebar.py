"""The lesson player's sidebar: pre-rendered per revision, still escaped and per learner (ADR 0052)."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import connection

from courses.models import Lesson
from courses.outline import outline_from
from courses.selectors import outline_for
from courses.services import course_publish
from courses.templatetags import course_ui
from courses.tests.factories import lessons_of, make_course


@dataclass
class Gate:
    reason: str


def _render(outline, current, completed, open_all, locked=None):
    return course_ui.course_contents(
        outline, current, completed, "enrollments:lesson", "sidebar", open_all, locked
    )


def test_the_pre_rendered_sidebar_matches_a_fresh_one_in_every_state(in_tenant):
    course = make_course(slug="sidebar", modules=2, lessons=3, publish=False)
    first, *_ = lessons = lessons_of(course)
    Lesson.objects.filter(pk=first.pk).update(title='<script>alert("x")</script> & more', is_preview=True)
    course_publish(actor=get_user_model().objects.get(email="admin@acme.test"), course=course)
    course.refresh_from_db()
    outline = outline_for(course)
    ids = [lesson.pk for lesson in lessons]
    cases = [
        (ids[1], set(), True, None),
        (ids[2], {ids[0], ids[1]}, True, {ids[4]: Gate("Opens <on> 3 Dec & later")}),
        (ids[0], {ids[3]}, False, None),
    ]
    for case in cases:
        course_ui._SIDEBAR_PARTS.clear()
        fresh = _render(outline, *case)
        assert _render(outline, *case) == fresh  # now from the pre-rendered parts
    html = _render(outline, *cases[1])
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "Opens &lt;on&gt; 3 Dec &amp; later" in html
    assert html.count('class="is-done"') == 2  # ids[0] and ids[1]; ids[2] is the current one
    assert 'class="is-current is-done"' not in html
    assert (
        f'data-lesson-id="{ids[2]}"><a href="/learning/sidebar/lessons/{ids[2]}/" aria-current="page"' in html
    )


def test_the_same_revision_id_in_two_tenants_keeps_two_sidebars(tenant, other_tenant):
    """Revision ids repeat across schemas; the pre-rendered parts are keyed by the tenant's uuid."""

    def outline(title):
        lesson = {"id": 1, "title": title, "kind": "text", "body": "", "is_preview": False}
        module = {"id": 1, "title": "Module", "lessons": [lesson]}
        return outline_from(987654, {"course": {"id": 1, "title": "Course"}, "modules": [module]})

    rendered = {}
    for current, title in ((tenant, "Acme's lesson"), (other_tenant, "Globex's lesson")):
        connection.set_tenant(current)
        _render(outline(title), 0, set(), True)  # pre-render
        rendered[current.slug] = _render(outline(title), 0, set(), True)
    assert "Acme&#x27;s lesson" in rendered["acme"] and "Globex" not in rendered["acme"]
    assert "Globex&#x27;s lesson" in rendered["globex"] and "Acme" not in rendered["globex"]
