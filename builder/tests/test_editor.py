"""The lesson editor beside the builder's tree: it loads, saves through `lesson_update`, shows
field errors, is read only for assistants, 404 off the staff, and refuses a stale version."""

from __future__ import annotations

import html

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django_tenants.utils import schema_context

from accounts.models import AuditEntry
from courses.models import Course, CourseStaffRole, Lesson, LessonKind, Module
from courses.services import LessonChanged, lesson_update
from courses.tests.factories import make_course
from tests.fixtures import client_for

from .test_views import HTMX, _staff

User = get_user_model()


@pytest.fixture
def course(in_tenant) -> Course:
    return make_course(slug="editor-course", title="Editor course", modules=2, lessons=2)


@pytest.fixture
def lesson(course) -> Lesson:
    return Lesson.objects.filter(module__course=course).order_by("module__position", "position").first()


def _edit(course: Course, lesson_id: int) -> str:
    return f"/builder/{course.slug}/lessons/{lesson_id}/edit/"


def _text(response) -> str:
    return html.unescape(response.content.decode())


def _form(lesson: Lesson, **changes) -> dict:
    values = {
        "title": lesson.title,
        "duration_minutes": str(lesson.duration_minutes),
        "body": lesson.body,
        "version": str(lesson.version),
    }
    if lesson.is_required:
        values["is_required"] = "on"
    if lesson.is_preview:
        values["is_preview"] = "on"
    values.update(changes)
    return {name: value for name, value in values.items() if value is not None}


def _state(lesson: Lesson) -> tuple:
    """Everything a save could change, and the audit log's length."""
    with schema_context("acme"):
        row = Lesson.objects.filter(pk=lesson.pk).values_list(
            "title", "duration_minutes", "is_required", "is_preview", "body", "version"
        )
        return (row.get(), AuditEntry.objects.count())


def test_the_editor_loads_beside_the_tree_and_saves(tenant, course, lesson):
    client = client_for(tenant, as_role="admin")
    page = _text(client.get(f"/builder/{course.slug}/"))
    assert f'hx-get="/builder/{course.slug}/lessons/{lesson.pk}/edit/"' in page
    assert 'id="builder-editor"' in page  # the empty panel, ready for the partial

    response = client.get(_edit(course, lesson.pk), **HTMX)
    assert response.status_code == 200 and response["X-Builder-Editor"] == "1"
    body = _text(response)
    assert "<html" not in body and 'id="builder-editor-form"' in body
    assert 'value="Lesson 1.1"' in body and "Text of lesson 1.1." in body
    assert 'name="version" value="1"' in body

    data = _form(lesson, title="Warm welcome", duration_minutes="12", body="# Hello", is_required=None)
    data["is_preview"] = "on"
    response = client.post(_edit(course, lesson.pk), data, **HTMX)
    assert response.status_code == 200
    body = _text(response)
    # Only out-of-band parts: the fields being typed in are not replaced.
    assert 'id="builder-editor-form"' not in body and "<textarea" not in body
    assert "Saved" in body and 'id="editor-version" name="version" value="2" hx-swap-oob="true"' in body
    assert f'id="lesson-title-{lesson.pk}" hx-swap-oob="true"' in body and "Warm welcome" in body
    lesson.refresh_from_db()
    assert (lesson.title, lesson.duration_minutes, lesson.body) == ("Warm welcome", 12, "# Hello")
    assert (lesson.is_required, lesson.is_preview, lesson.version) == (False, True, 2)
    entry = AuditEntry.objects.filter(action="lesson.updated", target_id=str(lesson.pk)).get()
    assert entry.actor.email == "admin@acme.test" and entry.after["title"] == "Warm welcome"


def test_the_editor_works_without_javascript(tenant, course, lesson):
    client = client_for(tenant, as_role="admin")
    page = _text(client.get(f"/builder/{course.slug}/?lesson={lesson.pk}"))
    assert 'id="builder-tree"' in page and 'id="builder-editor-form"' in page and 'value="Lesson 1.1"' in page
    response = client.post(_edit(course, lesson.pk), _form(lesson, title="Plain form"))
    assert response.status_code == 302
    assert response["Location"] == f"/builder/{course.slug}/?lesson={lesson.pk}"
    lesson.refresh_from_db()
    assert lesson.title == "Plain form"


def test_a_non_text_lesson_has_no_body_field_and_keeps_its_body(tenant, course, lesson):
    Lesson.objects.filter(pk=lesson.pk).update(kind=LessonKind.QUIZ, body="Kept")
    lesson.refresh_from_db()
    client = client_for(tenant, as_role="admin")
    assert "<textarea" not in _text(client.get(_edit(course, lesson.pk), **HTMX))
    client.post(_edit(course, lesson.pk), _form(lesson, title="Quiz time", body="Dropped"), **HTMX)
    lesson.refresh_from_db()
    assert (lesson.title, lesson.body) == ("Quiz time", "Kept")


@pytest.mark.parametrize(
    ("changes", "field", "sentence"),
    [
        ({"title": "   "}, "title", "A title is needed."),
        ({"duration_minutes": "-5"}, "duration_minutes", "The duration cannot be negative."),
        ({"duration_minutes": "soon"}, "duration_minutes", "Give the duration as a whole number of minutes."),
        ({"title": "x" * 201}, "title", "at most 200 characters"),
        ({"body": "y" * 200_001}, "body", "The text is too long"),
        ({"version": ""}, "version", ""),
    ],
)
def test_bad_input_shows_field_errors_and_changes_nothing(tenant, course, lesson, changes, field, sentence):
    client = client_for(tenant, as_role="admin")
    before = _state(lesson)
    response = client.post(_edit(course, lesson.pk), _form(lesson, **changes), **HTMX)
    assert response.status_code == 400 and response["X-Builder-Editor"] == "1"
    body = _text(response)
    assert "Not saved: correct the fields marked." in body
    if field != "version":
        error = body.split(f'id="editor-error-{field}"', 1)[1].split("</p>", 1)[0]
        assert sentence in error
    assert _state(lesson) == before


def test_a_refusal_of_the_service_shows_in_the_panel(tenant, course, lesson):
    """The service's own rules still hold: an archived lesson is not changed."""
    Lesson.objects.filter(pk=lesson.pk).update(deleted_at=lesson.updated_at)
    client = client_for(tenant, as_role="admin")
    before = _state(lesson)
    response = client.post(_edit(course, lesson.pk), _form(lesson, title="Sneaky"), **HTMX)
    assert response.status_code == 400
    assert "Not saved: This lesson is deleted; restore it before changing it." in _text(response)
    assert _state(lesson) == before


def test_an_assistant_sees_the_editor_read_only_and_cannot_save(tenant, course, lesson):
    client = _staff(tenant, course, CourseStaffRole.ASSISTANT, "assistant")
    body = _text(client.get(_edit(course, lesson.pk), **HTMX))
    assert 'value="Lesson 1.1"' in body and "<fieldset disabled>" in body
    assert "hx-post" not in body and "data-autosave" not in body
    assert "only the course's instructors and the organization's admins can change it" in body
    # The row link without JavaScript (assistants' page loads no script).
    assert "<fieldset disabled>" in _text(client.get(f"/builder/{course.slug}/?lesson={lesson.pk}"))
    before = _state(lesson)
    response = client.post(_edit(course, lesson.pk), _form(lesson, title="Assistant's"), **HTMX)
    assert response.status_code == 403
    assert "Only this course's instructors" in _text(response)
    assert _state(lesson) == before


@pytest.mark.parametrize("role", ["instructor", "learner", None])
def test_people_off_the_staff_get_404(tenant, course, lesson, role):
    client = client_for(tenant, as_role=role)
    before = _state(lesson)
    assert client.get(_edit(course, lesson.pk), **HTMX).status_code == 404
    response = client.post(_edit(course, lesson.pk), _form(lesson, title="Off staff"), **HTMX)
    assert response.status_code == 404 and "Editor course" not in _text(response)
    assert _state(lesson) == before


def test_a_lesson_of_another_course_is_404(tenant, course, lesson):
    other = make_course(slug="editor-other", title="Other course", modules=1, lessons=1)
    theirs = Lesson.objects.get(module__course=other)
    client = client_for(tenant, as_role="admin")
    before = _state(theirs)
    assert client.get(_edit(course, theirs.pk), **HTMX).status_code == 404
    assert client.get(f"/builder/{course.slug}/?lesson={theirs.pk}").status_code == 404
    response = client.post(_edit(course, theirs.pk), _form(theirs, title="Crossed"), **HTMX)
    assert response.status_code == 404
    assert _state(theirs) == before
    assert client.get(_edit(course, 2**31), **HTMX).status_code == 404


def test_the_other_tenants_lesson_ids_are_unknown_here(tenant, other_tenant, course):
    with schema_context(other_tenant.schema_name):
        theirs = make_course(slug="globex-editor", modules=1, lessons=1, title="Globex editor secret")
        their_lesson = Lesson.objects.get(module=Module.objects.get(course=theirs))
        their_before = Lesson.objects.filter(pk=their_lesson.pk).values_list("title", "version").get()
    connection.set_tenant(tenant)
    client = client_for(tenant, as_role="admin")
    assert client.get(f"/builder/globex-editor/lessons/{their_lesson.pk}/edit/", **HTMX).status_code == 404
    for url in (_edit(course, their_lesson.pk), f"/builder/globex-editor/lessons/{their_lesson.pk}/edit/"):
        response = client.post(url, _form(their_lesson, title="Crossed"), **HTMX)
        assert "Globex editor secret" not in _text(response)
        if not Lesson.objects.filter(pk=their_lesson.pk, module__course=course).exists():
            assert response.status_code == 404
    their_admin = client_for(other_tenant, as_role="admin")
    assert their_admin.get(_edit(course, their_lesson.pk), **HTMX).status_code == 404
    with schema_context(other_tenant.schema_name):
        assert Lesson.objects.filter(pk=their_lesson.pk).values_list("title", "version").get() == their_before


# --- versions ---------------------------------------------------------------------------


def test_an_edit_counts_the_version_up_and_a_move_or_reorder_does_not(tenant, course, lesson):
    from courses.services import lesson_move, lesson_reorder

    admin = User.objects.get(email="admin@acme.test")
    lesson = lesson_update(actor=admin, lesson=lesson, title="Edited")
    assert lesson.version == 2
    lesson_update(actor=admin, lesson=lesson, title="Edited")  # nothing changed: same version
    assert Lesson.objects.get(pk=lesson.pk).version == 2
    ids = list(Lesson.objects.filter(module=lesson.module).order_by("-position").values_list("pk", flat=True))
    lesson_reorder(actor=admin, module=lesson.module, lesson_ids=ids)
    second = Module.objects.filter(course=course).exclude(pk=lesson.module_id).get()
    lesson_move(actor=admin, lesson=Lesson.objects.get(pk=lesson.pk), module=second)
    assert Lesson.objects.get(pk=lesson.pk).version == 2


def test_two_saves_of_the_same_version_the_second_is_refused(tenant, course, lesson):
    admin = User.objects.get(email="admin@acme.test")
    first_copy, second_copy = Lesson.objects.get(pk=lesson.pk), Lesson.objects.get(pk=lesson.pk)
    lesson_update(actor=admin, lesson=first_copy, version=1, title="First", body="One")
    before = _state(lesson)
    with pytest.raises(LessonChanged) as refused:
        lesson_update(actor=admin, lesson=second_copy, version=1, title="Second", body="Two")
    assert refused.value.status == 409 and refused.value.field == "version"
    assert refused.value.code == "lesson_changed" and refused.value.current_version == 2
    assert _state(lesson) == before
    assert before[0][0] == "First"
    # Without a version (the admin, the API) the save applies as before.
    lesson_update(actor=admin, lesson=second_copy, title="Admin")
    assert Lesson.objects.get(pk=lesson.pk).title == "Admin"


def test_a_conflict_in_the_panel_names_who_changed_it_and_overwrite_saves(tenant, course, lesson):
    other = _staff(tenant, course, CourseStaffRole.CO_INSTRUCTOR, "cora")
    User.objects.filter(email="cora@acme.test").update(full_name="Cora Writer")
    client = client_for(tenant, as_role="admin")
    loaded = Lesson.objects.get(pk=lesson.pk)
    assert (
        other.post(_edit(course, lesson.pk), _form(loaded, title="Cora's title"), **HTMX).status_code == 200
    )
    before = _state(lesson)

    response = client.post(_edit(course, lesson.pk), _form(loaded, title="Admin's title"), **HTMX)
    assert response.status_code == 409
    body = _text(response)
    assert "Changed by <strong>Cora Writer</strong> just now:" in body
    assert ">Reload</button>" in body and ">Overwrite</button>" in body
    assert 'hx-vals=\'{"overwrite": "2"}\'' in body
    assert _state(lesson) == before
    # Reload: the current version, the other person's text.
    reloaded = _text(client.get(_edit(course, lesson.pk), **HTMX))
    assert 'value="Cora\'s title"' in reloaded and 'name="version" value="2"' in reloaded
    # Overwrite: the same form again, over the version the conflict named.
    response = client.post(
        _edit(course, lesson.pk), _form(loaded, title="Admin's title", overwrite="2"), **HTMX
    )
    assert response.status_code == 200 and "Saved" in _text(response)
    stored = Lesson.objects.get(pk=lesson.pk)
    assert (stored.title, stored.version) == ("Admin's title", 3)
    # An overwrite of a version that moved on again is refused too.
    response = client.post(_edit(course, lesson.pk), _form(loaded, title="Late", overwrite="2"), **HTMX)
    assert response.status_code == 409
    assert Lesson.objects.get(pk=lesson.pk).title == "Admin's title"


def test_the_editor_partial_and_a_save_cost_a_few_queries(
    tenant, course, lesson, django_assert_max_num_queries
):
    """The panel reads the course through the door and one lesson: no query per module or lesson
    (the search path is the third)."""
    client = client_for(tenant, as_role="admin")
    client.get(_edit(course, lesson.pk), **HTMX)
    with django_assert_max_num_queries(3):
        assert client.get(_edit(course, lesson.pk), **HTMX).status_code == 200
    # The door, the lesson, then the service: savepoint, the locked row, the module check,
    # the update, the audit row.
    with django_assert_max_num_queries(9):
        assert (
            client.post(_edit(course, lesson.pk), _form(lesson, title="Counted"), **HTMX).status_code == 200
        )
