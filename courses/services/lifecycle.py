"""A course's own life: created (with its owner), edited, archived, deleted and restored."""

from __future__ import annotations

from django.db import transaction
from django.utils.text import slugify

from accounts.audit import audit_record

from ..models import Course, CourseStaffRole, CourseStatus
from ..permissions import is_tenant_admin
from .common import CourseError, _require_admin, _require_editor, apply_fields, values_of
from .staff import _staff_write

#: What an author sets on a course; status, revisions and deletion have their own services.
COURSE_FIELDS = frozenset(
    {
        "title",
        "slug",
        "summary",
        "description",
        "cover",
        "category",
        "level",
        "estimated_minutes",
        "enrollment_policy",
    }
)
_SLUG_MAX = Course._meta.get_field("slug").max_length


def _free_slug(title: str) -> str:
    """A slug from the title that no course (deleted ones too) uses yet: "intro", "intro-2", ..."""
    base = slugify(title)[: _SLUG_MAX - 4] or "course"
    taken = set(Course.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def _check_category(fields: dict) -> None:
    category = fields.get("category")
    if category is not None and category.is_deleted:
        raise CourseError("That category is deleted: choose another.", field="category")


@transaction.atomic
def course_create(*, actor, title: str, slug: str | None = None, **fields) -> Course:
    """A new draft course. An instructor who creates it becomes its owner (through the staff
    service); an admin's course starts without staff, as admins name them (ADR 0145)."""
    if actor is None or not actor.has_perm("courses.add_course"):
        raise CourseError(
            "Only the organization's instructors and admins can create courses.",
            status=403,
            code="not_instructor",
        )
    if not (title or "").strip():
        raise CourseError("The course needs a title.", field="title")
    _check_category(fields)
    course = Course()
    apply_fields(
        course, {"title": title.strip(), "slug": slug or _free_slug(title), **fields}, allowed=COURSE_FIELDS
    )
    course.save()
    audit_record(
        actor=actor,
        action="course.created",
        target=course,
        after=values_of(course, sorted(COURSE_FIELDS)),
    )
    if not is_tenant_admin(actor):
        _staff_write(actor=actor, course=course, members={actor: CourseStaffRole.OWNER})
    return course


@transaction.atomic
def course_update(*, actor, course: Course, **fields) -> Course:
    """Change the course's own fields (`COURSE_FIELDS`); audited with the values before and after.

    `course` may already carry the new values (a model form sets them): `before` is read from
    the database, and a refusal puts the object back as it was given.
    """
    _require_editor(actor, course)
    stored = Course.objects.select_for_update().get(pk=course.pk)
    if "title" in fields and not (fields["title"] or "").strip():
        raise CourseError("The course needs a title.", field="title")
    _check_category(fields)
    apply_fields(course, fields, allowed=COURSE_FIELDS)
    before, after = values_of(stored, sorted(fields)), values_of(course, sorted(fields))
    changed = sorted(name for name in fields if before[name] != after[name] or name == "cover")
    if not changed:
        return course
    course.save(update_fields=[*changed, "updated_at"])
    after = values_of(course, changed)
    audit_record(
        actor=actor,
        action="course.updated",
        target=course,
        before={name: before[name] for name in changed},
        after=after,
    )
    return course


def _set_status(*, actor, course: Course, status: str, action: str) -> Course:
    before = course.status
    course.status = status
    course.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=actor, action=action, target=course, before={"status": before}, after={"status": status}
    )
    return course


@transaction.atomic
def course_archive(*, actor, course: Course) -> Course:
    """Take the course out of the catalog; enrolled learners keep what they have."""
    _require_editor(actor, course)
    if course.status != CourseStatus.PUBLISHED:
        raise CourseError("Only a published course can be archived.")
    return _set_status(actor=actor, course=course, status=CourseStatus.ARCHIVED, action="course.archived")


@transaction.atomic
def course_unarchive(*, actor, course: Course) -> Course:
    """Back in the catalog (published) or, if it never was published, back to a draft."""
    _require_editor(actor, course)
    if course.status != CourseStatus.ARCHIVED:
        raise CourseError("This course is not archived.")
    status = CourseStatus.PUBLISHED if course.published_revision_id else CourseStatus.DRAFT
    return _set_status(actor=actor, course=course, status=status, action="course.unarchived")


@transaction.atomic
def course_delete(*, actor, course: Course) -> Course:
    """Soft delete: the course disappears for learners; an admin can restore it (ADR 0145)."""
    _require_admin(actor)
    if course.is_deleted:
        raise CourseError("This course is already deleted.")
    course.soft_delete()
    audit_record(
        actor=actor,
        action="course.deleted",
        target=course,
        before={"deleted_at": None},
        after={"deleted_at": course.deleted_at.isoformat()},
    )
    return course


@transaction.atomic
def course_restore(*, actor, course: Course) -> Course:
    """Undo a soft delete: the course comes back with the status it had."""
    _require_admin(actor)
    if not course.is_deleted:
        raise CourseError("This course is not deleted.")
    deleted_at = course.deleted_at
    course.restore()
    audit_record(
        actor=actor,
        action="course.restored",
        target=course,
        before={"deleted_at": deleted_at.isoformat()},
        after={"deleted_at": None},
    )
    return course
