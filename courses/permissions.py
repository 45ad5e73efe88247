"""The staff layers of the access policy: tenant role, then the person's role on a course.

`enrollments/access.py` is the policy's one interface: every caller above `courses`
(learner pages, media, quizzes, analytics) asks it, and it takes these answers from
here. They live in `courses` because the course admin and `courses.services`, which
cannot import `enrollments`, need them too (ADR 0012). Each check sits beside the query
that lists what passes it, so "listed" and "allowed" cannot drift.

Who may do what on a course:

| person                         | sees | edits, publishes | grades | manages staff | deletes, restores |
| ------------------------------ | ---- | ---------------- | ------ | ------------- | ----------------- |
| tenant admin                   | yes  | yes              | yes    | yes           | yes               |
| owner (an instructor)          | yes  | yes              | yes    | yes           | no                |
| co-instructor                  | yes  | yes              | yes    | no            | no                |
| teaching assistant             | yes  | no               | yes    | no            | no                |
| any other instructor, learners | no   | no               | no     | no            | no                |

"Sees" is the course in the admin (read only for assistants); "deletes, restores" is deleting
the course and restoring an earlier revision.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

# `is_tenant_admin` is the table's first row; callers in courses import it from here.
from accounts.permissions import is_instructor, is_tenant_admin

from .models import Course, CourseStaff, CourseStaffRole

#: The tenant admin's place in the table above, ranked above every course role.
ADMIN = "admin"
OWNER = CourseStaffRole.OWNER.value
CO_INSTRUCTOR = CourseStaffRole.CO_INSTRUCTOR.value
ASSISTANT = CourseStaffRole.ASSISTANT.value

EDITING_ROLES = frozenset({ADMIN, OWNER, CO_INSTRUCTOR})
GRADING_ROLES = EDITING_ROLES | {ASSISTANT}
STAFF_MANAGING_ROLES = frozenset({ADMIN, OWNER})
#: Who teaches a course, as its pages and the admin's list name them (assistants do not).
TEACHING_ROLES = frozenset({OWNER, CO_INSTRUCTOR})


# Bumped on every staff row written or deleted in this process, so a user object that read its
# roles before a change in the same process (a command, a test) reads them again.
_generation = 0


def staff_changed(**_kwargs) -> None:
    """Signal receiver (post_save / post_delete of CourseStaff)."""
    global _generation
    _generation += 1


def course_roles(user) -> dict[int, str]:
    """Course id -> the person's staff role there; one query per user object (per request)."""
    if not is_instructor(user):
        return {}
    cached = getattr(user, "_course_roles", None)
    if cached is None or getattr(user, "_course_roles_generation", _generation) != _generation:
        cached = dict(CourseStaff.objects.filter(user_id=user.pk).values_list("course_id", "role"))
        user._course_roles, user._course_roles_generation = cached, _generation
    return cached


def course_role(user, course: Course | int) -> str | None:
    """ADMIN, OWNER, CO_INSTRUCTOR, ASSISTANT, or None for everyone else."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if is_tenant_admin(user):
        return ADMIN
    return course_roles(user).get(course if isinstance(course, int) else course.pk)


def is_owner(user, course: Course | int) -> bool:
    """The course's owner (not an admin standing in): who must name a successor to step down."""
    return course_role(user, course) == OWNER


def may_view(user, course: Course | int) -> bool:
    return course_role(user, course) is not None


def may_edit(user, course: Course | int) -> bool:
    return course_role(user, course) in EDITING_ROLES


def may_grade(user, course: Course | int) -> bool:
    return course_role(user, course) in GRADING_ROLES


def may_manage_staff(user, course: Course | int) -> bool:
    return course_role(user, course) in STAFF_MANAGING_ROLES


def courses_for_staff(user, *, roles: frozenset[str] = EDITING_ROLES) -> QuerySet[Course]:
    """The courses where the person holds one of `roles` (by default: may edit). All for admins."""
    courses = Course.objects.all()
    if is_tenant_admin(user):
        return courses
    if not is_instructor(user):
        return courses.none()
    return courses.filter(staff__user=user, staff__role__in=roles - {ADMIN})


def courses_visible_to_staff(user) -> QuerySet[Course]:
    """Courses the person sees in the admin: every course where they have any staff role."""
    return courses_for_staff(user, roles=GRADING_ROLES)


def teaching_staff(rows: Iterable[CourseStaff]) -> list[CourseStaff]:
    """The staff rows of those who teach (`TEACHING_ROLES`), the owner first, else in order."""
    teachers = [row for row in rows if row.role in TEACHING_ROLES]
    return sorted(teachers, key=lambda row: row.role != OWNER)
