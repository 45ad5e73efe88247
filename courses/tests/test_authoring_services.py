"""The authoring services: each writes its audit row with before and after, a refusal changes
nothing, and another tenant's ids are not found."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from accounts.models import AuditEntry
from core.errors import NotFound
from courses.models import Course, CourseStaff, CourseStaffRole, CourseStatus, Lesson, Module
from courses.services import (
    CourseError,
    course_archive,
    course_create,
    course_delete,
    course_restore,
    course_unarchive,
    course_update,
    lesson_create,
    lesson_delete,
    lesson_move,
    lesson_reorder,
    lesson_restore,
    lesson_update,
    module_create,
    module_delete,
    module_reorder,
    module_restore,
    module_update,
)
from courses.tests.factories import make_course

User = get_user_model()


@pytest.fixture
def admin(in_tenant):
    return User.objects.get(email="admin@acme.test")


@pytest.fixture
def instructor(in_tenant):
    return User.objects.get(email="instructor@acme.test")


@pytest.fixture
def learner(in_tenant):
    return User.objects.get(email="learner@acme.test")


def _audit(action: str, target) -> AuditEntry:
    rows = AuditEntry.objects.filter(action=action, target_id=str(target.pk))
    assert rows.count() == 1, f"expected one {action} row, found {rows.count()}"
    return rows.get()


def _ids(queryset) -> list[int]:
    return list(queryset.order_by("position", "id").values_list("pk", flat=True))


# --- courses ----------------------------------------------------------------------


def test_course_create_makes_the_instructor_its_owner_and_audits(instructor):
    course = course_create(actor=instructor, title="Intro to Rust", summary="Ownership first.")
    assert course.slug == "intro-to-rust" and course.status == CourseStatus.DRAFT
    assert CourseStaff.objects.get(course=course).user == instructor
    assert CourseStaff.objects.get(course=course).role == CourseStaffRole.OWNER
    row = _audit("course.created", course)
    assert row.actor == instructor and row.before is None
    assert row.after["title"] == "Intro to Rust" and row.after["summary"] == "Ownership first."
    assert _audit("course.staff_changed", course).after == {instructor.email: CourseStaffRole.OWNER}
    second = course_create(actor=instructor, title="Intro to Rust")
    assert second.slug == "intro-to-rust-2"


def test_course_create_by_an_admin_names_no_owner(admin):
    course = course_create(actor=admin, title="Admin's course", slug="admins-course")
    assert not CourseStaff.objects.filter(course=course).exists()


def test_course_create_refusals_create_nothing(learner, instructor):
    count = Course.objects.count()
    with pytest.raises(CourseError):
        course_create(actor=learner, title="Not mine to make")
    with pytest.raises(CourseError) as refused:
        course_create(actor=instructor, title="   ")
    assert refused.value.field == "title"
    make_course(slug="taken", publish=False)
    with pytest.raises(CourseError) as refused:
        course_create(actor=instructor, title="Taken", slug="taken")
    assert refused.value.field == "slug"
    with pytest.raises(CourseError) as refused:
        course_create(actor=instructor, title="Odd", status="published")
    assert refused.value.field == "status"
    assert Course.objects.count() == count + 1
    assert not AuditEntry.objects.filter(action="course.created").exists()


def test_course_update_audits_only_what_changed(admin):
    course = make_course(slug="update-me", publish=False)
    course_update(actor=admin, course=course, title="Updated", summary=course.summary)
    course.refresh_from_db()
    assert course.title == "Updated"
    row = _audit("course.updated", course)
    assert row.before == {"title": "Update Me"} and row.after == {"title": "Updated"}
    course_update(actor=admin, course=course, title="Updated")
    assert AuditEntry.objects.filter(action="course.updated", target_id=str(course.pk)).count() == 1


def test_course_update_refusals_change_nothing(admin, instructor):
    make_course(slug="other-course", publish=False)
    course = make_course(slug="mine", publish=False)
    with pytest.raises(CourseError) as refused:
        course_update(actor=admin, course=course, slug="other-course", title="New title")
    assert refused.value.field == "slug"
    assert (course.slug, course.title) == ("mine", "Mine")  # the object is put back too
    with pytest.raises(CourseError):
        course_update(actor=instructor, course=course, title="Not on its staff")
    with pytest.raises(CourseError) as refused:
        course_update(actor=admin, course=course, status=CourseStatus.PUBLISHED)
    assert refused.value.field == "status"
    course.refresh_from_db()
    assert (course.slug, course.title, course.status) == ("mine", "Mine", CourseStatus.DRAFT)
    assert not AuditEntry.objects.filter(action="course.updated").exists()


def test_course_archive_and_unarchive_audit_the_status(admin, instructor):
    course = make_course(slug="archivable")
    with pytest.raises(CourseError):
        course_archive(actor=instructor, course=course)
    course_archive(actor=admin, course=course)
    row = _audit("course.archived", course)
    assert row.before == {"status": "published"} and row.after == {"status": "archived"}
    with pytest.raises(CourseError):
        course_archive(actor=admin, course=course)
    course_unarchive(actor=admin, course=course)
    assert _audit("course.unarchived", course).after == {"status": "published"}


def test_course_delete_is_soft_and_restorable_by_admins_only(admin, instructor):
    course = make_course(slug="deletable")
    CourseStaff.objects.create(course=course, user=instructor, role=CourseStaffRole.OWNER)
    with pytest.raises(CourseError):
        course_delete(actor=instructor, course=course)
    course.refresh_from_db()
    assert not course.is_deleted
    course_delete(actor=admin, course=course)
    assert Course.objects.filter(pk=course.pk).exists() and Course.objects.get(pk=course.pk).is_deleted
    assert _audit("course.deleted", course).before == {"deleted_at": None}
    with pytest.raises(CourseError):
        course_delete(actor=admin, course=course)
    course_restore(actor=admin, course=course)
    assert not Course.objects.get(pk=course.pk).is_deleted
    assert _audit("course.restored", course).after == {"deleted_at": None}


# --- modules ----------------------------------------------------------------------


def test_module_create_update_delete_restore_are_audited(admin):
    course = make_course(slug="modules", modules=1, publish=False)
    module = module_create(actor=admin, course=course, title="Second", summary="More.")
    assert module.position == 1
    assert _audit("module.created", module).after["title"] == "Second"
    module_update(actor=admin, module=module, title="Second part")
    row = _audit("module.updated", module)
    assert row.before == {"title": "Second"} and row.after == {"title": "Second part"}
    module_delete(actor=admin, module=module)
    assert Module.objects.get(pk=module.pk).is_deleted
    assert _audit("module.deleted", module).before["deleted_at"] is None
    module_restore(actor=admin, module=module)
    assert not Module.objects.get(pk=module.pk).is_deleted
    assert _audit("module.restored", module).after["position"] == 1


def test_module_refusals_change_nothing(admin, instructor):
    course = make_course(slug="guarded", modules=1, publish=False)
    other = make_course(slug="elsewhere", modules=1, publish=False)
    module = course.modules.get()
    count = Module.objects.count()
    with pytest.raises(CourseError) as refused:
        module_create(actor=instructor, course=course, title="Not my course")
    assert refused.value.field == "course"
    with pytest.raises(CourseError) as refused:
        module_create(actor=admin, course=course, title="")
    assert refused.value.field == "title"
    with pytest.raises(CourseError) as refused:
        module_update(actor=admin, module=module, course=other)
    assert refused.value.field == "course"
    with pytest.raises(CourseError):
        module_update(actor=instructor, module=module, title="Not mine")
    with pytest.raises(CourseError):
        module_delete(actor=instructor, module=module)
    module.refresh_from_db()
    assert (module.title, module.course_id, module.is_deleted) == ("Module 1", course.pk, False)
    assert Module.objects.count() == count
    assert not AuditEntry.objects.filter(action__startswith="module.").exists()


def test_module_reorder_puts_modules_in_the_given_order(admin):
    course = make_course(slug="reorder", modules=3, lessons=0, publish=False)
    first, second, third = _ids(course.modules)
    module_reorder(actor=admin, course=course, module_ids=[third, first, second])
    assert _ids(course.modules) == [third, first, second]
    row = _audit("course.modules_reordered", course)
    assert row.before == [first, second, third] and row.after == [third, first, second]


def test_module_reorder_refuses_other_courses_and_incomplete_lists(admin, instructor):
    course = make_course(slug="reorder-a", modules=2, lessons=0, publish=False)
    other = make_course(slug="reorder-b", modules=1, lessons=0, publish=False)
    first, second = _ids(course.modules)
    (foreign,) = _ids(other.modules)
    for ids in ([second, foreign], [second], [first, first, second], ["x"]):
        with pytest.raises(CourseError) as refused:
            module_reorder(actor=admin, course=course, module_ids=ids)
        assert refused.value.field == "module_ids"
    with pytest.raises(CourseError):
        module_reorder(actor=instructor, course=course, module_ids=[second, first])
    assert _ids(course.modules) == [first, second]
    assert not AuditEntry.objects.filter(action="course.modules_reordered").exists()


def _pk_only_in(other_tenant, tenant, model, make) -> int:
    """The id of a row made in `other_tenant` that names no row of `model` in `tenant`."""
    connection.set_tenant(tenant)
    highest = model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    connection.set_tenant(other_tenant)
    pk = make()
    while pk <= highest:
        pk = make()
    connection.set_tenant(tenant)
    return pk


def test_another_tenants_ids_are_not_found_by_the_reorders(admin, tenant, other_tenant):
    course = make_course(slug="reorder-home", modules=1, lessons=1, publish=False)
    module = course.modules.get()
    own_module, own_lesson = module.pk, module.lessons.get().pk
    counter = iter(range(10_000))

    def foreign_course():
        return make_course(slug=f"foreign-{next(counter)}", modules=1, lessons=1, publish=False)

    foreign_module = _pk_only_in(other_tenant, tenant, Module, lambda: foreign_course().modules.get().pk)
    foreign_lesson = _pk_only_in(
        other_tenant, tenant, Lesson, lambda: Lesson.objects.filter(module__course=foreign_course()).get().pk
    )
    with pytest.raises(NotFound):
        module_reorder(actor=admin, course=course, module_ids=[foreign_module, own_module])
    with pytest.raises(NotFound):
        lesson_reorder(actor=admin, module=module, lesson_ids=[foreign_lesson, own_lesson])
    assert not AuditEntry.objects.filter(action__endswith="_reordered").exists()


# --- lessons ----------------------------------------------------------------------


def test_lesson_create_update_delete_restore_are_audited(admin):
    course = make_course(slug="lessons", modules=1, lessons=1, publish=False)
    module = course.modules.get()
    lesson = lesson_create(actor=admin, module=module, title="Second", body="Read on.")
    assert lesson.position == 1 and lesson.kind == "text"
    assert _audit("lesson.created", lesson).after["body"] == "Read on."
    lesson_update(actor=admin, lesson=lesson, title="Second lesson", duration_minutes=7)
    row = _audit("lesson.updated", lesson)
    assert row.before == {"title": "Second", "duration_minutes": 0}
    assert row.after == {"title": "Second lesson", "duration_minutes": 7}
    lesson_delete(actor=admin, lesson=lesson)
    assert Lesson.objects.get(pk=lesson.pk).is_deleted
    lesson_restore(actor=admin, lesson=lesson)
    assert not Lesson.objects.get(pk=lesson.pk).is_deleted
    assert _audit("lesson.restored", lesson).before["deleted_at"]


def test_lesson_refusals_change_nothing(admin, instructor):
    course = make_course(slug="lesson-guard", modules=1, lessons=1, publish=False)
    module = course.modules.get()
    lesson = module.lessons.get()
    count = Lesson.objects.count()
    with pytest.raises(CourseError) as refused:
        lesson_create(actor=instructor, module=module, title="Not my course")
    assert refused.value.field == "module"
    with pytest.raises(CourseError) as refused:
        lesson_create(actor=admin, module=module, title="Embed", kind="embed", embed_url="")
    assert refused.value.field == "embed_url"
    with pytest.raises(CourseError) as refused:
        lesson_update(actor=admin, lesson=lesson, embed_url="https://example.com/video")
    assert refused.value.field == "embed_url"
    assert lesson.embed_url == ""
    with pytest.raises(CourseError):
        lesson_delete(actor=instructor, lesson=lesson)
    module_delete(actor=admin, module=module)
    lesson_delete(actor=admin, lesson=lesson)
    with pytest.raises(CourseError):
        lesson_restore(actor=admin, lesson=lesson)  # its module first
    lesson.refresh_from_db()
    assert lesson.is_deleted and lesson.embed_url == ""
    assert Lesson.objects.count() == count
    assert not AuditEntry.objects.filter(action__in=["lesson.created", "lesson.updated"]).exists()


def test_lesson_move_goes_to_the_end_of_another_module_of_its_course(admin):
    course = make_course(slug="mover", modules=2, lessons=2, publish=False)
    first, second = course.modules.order_by("position")
    lesson = first.lessons.order_by("position").first()
    lesson_move(actor=admin, lesson=lesson, module=second)
    lesson.refresh_from_db()
    assert (lesson.module_id, lesson.position) == (second.pk, 2)
    row = _audit("lesson.moved", lesson)
    assert row.before == {"module": first.pk, "position": 0}
    assert row.after == {"module": second.pk, "position": 2}


def test_lesson_move_refuses_another_course(admin):
    course = make_course(slug="stay", modules=1, lessons=1, publish=False)
    other = make_course(slug="away", modules=1, lessons=0, publish=False)
    lesson = Lesson.objects.get(module__course=course)
    with pytest.raises(CourseError) as refused:
        lesson_move(actor=admin, lesson=lesson, module=other.modules.get())
    assert refused.value.field == "module"
    with pytest.raises(CourseError) as refused:
        lesson_update(actor=admin, lesson=lesson, module=other.modules.get(), title="Moved?")
    assert Lesson.objects.get(pk=lesson.pk).module.course_id == course.pk
    assert Lesson.objects.get(pk=lesson.pk).title == "Lesson 1.1"
    assert not AuditEntry.objects.filter(action__in=["lesson.moved", "lesson.updated"]).exists()


def test_lesson_reorder_and_its_refusals(admin):
    course = make_course(slug="lesson-order", modules=2, lessons=3, publish=False)
    first, second = course.modules.order_by("position")
    a, b, c = _ids(first.lessons)
    (foreign, *_) = _ids(second.lessons)
    with pytest.raises(CourseError) as refused:
        lesson_reorder(actor=admin, module=first, lesson_ids=[c, b, foreign])
    assert refused.value.field == "lesson_ids"
    assert _ids(first.lessons) == [a, b, c]
    lesson_reorder(actor=admin, module=first, lesson_ids=[c, a, b])
    assert _ids(first.lessons) == [c, a, b]
    row = _audit("module.lessons_reordered", first)
    assert row.before == [a, b, c] and row.after == [c, a, b]


# --- the lesson's version (ADR 0205) ---------------------------------------------------------


def test_every_edit_of_a_lessons_content_counts_its_version_up(admin):
    from courses.services import LessonChanged, course_publish, lesson_save, revision_restore

    course = make_course(slug="versions", modules=1, lessons=1)
    lesson = Lesson.objects.get(module__course=course)
    assert lesson.version == 1
    lesson_update(actor=admin, lesson=lesson, body="Changed")
    assert Lesson.objects.get(pk=lesson.pk).version == 2
    lesson.title = "Saved whole"
    lesson_save(actor=admin, lesson=lesson)
    assert Lesson.objects.get(pk=lesson.pk).version == 3
    course_publish(actor=admin, course=course)
    revision_restore(actor=admin, revision=course.revisions.get(number=1))
    restored = Lesson.objects.get(pk=lesson.pk)
    assert (restored.title, restored.version) == ("Lesson 1.1", 4)
    before = list(AuditEntry.objects.values_list("pk", flat=True))
    with pytest.raises(LessonChanged):
        lesson_update(actor=admin, lesson=restored, version=3, title="Stale")
    assert Lesson.objects.get(pk=lesson.pk).title == "Lesson 1.1"
    assert list(AuditEntry.objects.values_list("pk", flat=True)) == before
