"""The course admin writes through the authoring services: every admin save, delete, add and
move leaves the service's audit row, and a refusal is shown on the form with nothing changed."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from accounts.models import AuditEntry
from courses import admin as course_admin
from courses.models import Course, CourseStaffRole, Lesson, Module
from courses.services import CourseError
from courses.tests.factories import make_course
from courses.tests.test_admin import _course_form, _lesson_form, _staff_rows, _url
from tests.fixtures import client_for

User = get_user_model()


def _row(action: str, target) -> AuditEntry:
    return AuditEntry.objects.get(action=action, target_id=str(target.pk))


def test_creating_a_course_in_the_admin_is_audited_and_names_the_owner(in_tenant):
    client = client_for(in_tenant, as_role="instructor")
    data = {
        "title": "Sailing",
        "slug": "sailing",
        "summary": "",
        "description": "",
        "level": "beginner",
        "estimated_minutes": 30,
        "enrollment_policy": "open",
        **_staff_rows(None),
    }
    response = client.post("/admin/courses/course/add/", data)
    course = Course.objects.get(slug="sailing")
    assert response.status_code == 302 and response.url == f"{_url(course)}#curriculum"
    row = _row("course.created", course)
    assert row.actor.email == "instructor@acme.test" and row.after["title"] == "Sailing"
    assert _row("course.staff_changed", course).after == {"instructor@acme.test": CourseStaffRole.OWNER}


def test_saving_a_course_in_the_admin_audits_before_and_after(in_tenant):
    course = make_course(slug="audited", publish=False)
    client = client_for(in_tenant, as_role="admin")
    response = client.post(_url(course), _course_form(course, title="Audited course"))
    assert response.status_code == 302
    row = _row("course.updated", course)
    assert row.before == {"title": "Audited"} and row.after == {"title": "Audited course"}


def test_a_refusal_from_the_service_is_a_form_error_and_changes_nothing(in_tenant, monkeypatch):
    course = make_course(slug="refused", publish=False)

    def refuse(**_kwargs):
        raise CourseError("That title is reserved.", field="title")

    monkeypatch.setattr(course_admin, "course_update", refuse)
    response = client_for(in_tenant, as_role="admin").post(
        _url(course), _course_form(course, title="Reserved")
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["title"] == ["That title is reserved."]
    assert 'value="Reserved"' in response.content.decode()  # what the person typed is kept
    course.refresh_from_db()
    assert course.title == "Refused"


def test_deleting_a_course_in_the_admin_goes_through_the_service(in_tenant):
    course = make_course(slug="to-delete")
    response = client_for(in_tenant, as_role="admin").post(_url(course, "delete"), {"post": "yes"})
    assert response.status_code == 302
    assert Course.objects.get(pk=course.pk).is_deleted
    assert _row("course.deleted", course).before == {"deleted_at": None}


def test_module_and_lesson_admin_pages_go_through_the_services(in_tenant):
    course = make_course(slug="curriculum", modules=2, lessons=1, publish=False)
    first, second = course.modules.order_by("position")
    client = client_for(in_tenant, as_role="admin")
    response = client.post(
        "/admin/courses/module/add/", {"course": course.pk, "title": "Third", "summary": ""}
    )
    assert response.status_code == 302
    third = Module.objects.get(course=course, title="Third")
    assert third.position == 2 and _row("module.created", third).after["title"] == "Third"
    response = client.post("/admin/courses/lesson/add/", _lesson_form(third, title="Wrap-up"))
    lesson = Lesson.objects.get(title="Wrap-up")
    assert response.status_code == 302 and _row("lesson.created", lesson).after["module"] == third.pk
    moved = first.lessons.get()
    response = client.post(
        f"/admin/courses/lesson/{moved.pk}/change/", _lesson_form(second, title=moved.title, body=moved.body)
    )
    assert response.status_code == 302
    assert _row("lesson.moved", moved).after == {"module": second.pk, "position": 1}
    client.post(f"/admin/courses/lesson/{lesson.pk}/delete/", {"post": "yes"})
    client.post(f"/admin/courses/module/{third.pk}/delete/", {"post": "yes"})
    assert _row("lesson.deleted", lesson) and _row("module.deleted", third)


def test_builder_endpoints_go_through_the_services(in_tenant):
    course = make_course(slug="builder", modules=2, lessons=0, publish=False)
    first, second = course.modules.order_by("position")
    client = client_for(in_tenant, as_role="admin")
    client.post(_url(course, "modules/add"), {"title": "Quick", "summary": ""})
    quick = Module.objects.get(course=course, title="Quick")
    assert _row("module.created", quick)
    client.post(_url(course, f"modules/{quick.pk}/move"), {"direction": "up"})
    row = _row("course.modules_reordered", course)
    assert row.before == [first.pk, second.pk, quick.pk] and row.after == [first.pk, quick.pk, second.pk]
    client.post(f"/admin/courses/module/{quick.pk}/delete/", {"post": "yes"})
    client.post(_url(course, f"modules/{quick.pk}/undelete"))
    assert _row("module.restored", quick)


@pytest.mark.parametrize(
    "path",
    [
        "course/{course}/change/",
        "course/{course}/delete/",
        "course/{course}/modules/add/",
        "module/{module}/change/",
        "module/{module}/delete/",
        "lesson/{lesson}/change/",
        "lesson/{lesson}/delete/",
    ],
)
def test_another_tenants_course_module_or_lesson_is_not_found(tenant, other_tenant, path):
    connection.set_tenant(tenant)
    highest = {
        "course": Course.objects.order_by("-pk").values_list("pk", flat=True).first() or 0,
        "module": Module.objects.order_by("-pk").values_list("pk", flat=True).first() or 0,
        "lesson": Lesson.objects.order_by("-pk").values_list("pk", flat=True).first() or 0,
    }
    connection.set_tenant(other_tenant)
    n = 0
    while True:
        n += 1
        course = make_course(slug=f"theirs-{n}", modules=1, lessons=1, publish=False)
        module = course.modules.get()
        lesson = module.lessons.get()
        if course.pk > highest["course"] and module.pk > highest["module"] and lesson.pk > highest["lesson"]:
            break
    connection.set_schema_to_public()
    url = "/admin/courses/" + path.format(course=course.pk, module=module.pk, lesson=lesson.pk)
    response = client_for(tenant, as_role="admin").post(url, {"title": "Planted", "post": "yes"})
    assert response.status_code == 404
    connection.set_tenant(other_tenant)
    assert Course.objects.filter(pk=course.pk, deleted_at__isnull=True, title__startswith="Theirs").exists()
    assert not Module.objects.filter(title="Planted").exists()
