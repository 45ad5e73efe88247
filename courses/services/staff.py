"""A course's staff: who owns it, who co-teaches, who assists; replaced as a whole, audited."""

from __future__ import annotations

from django.db import transaction

from accounts.audit import audit_record
from accounts.permissions import may_join_course_staff

from ..models import Course, CourseStaff, CourseStaffRole
from ..permissions import is_owner, is_tenant_admin, may_manage_staff
from .common import CourseError


def course_staff_problems(*, actor, course: Course, members: dict) -> list[str]:
    """Why this staff list (user -> role) cannot replace the course's (empty when it can)."""
    problems = []
    owners = [user for user, role in members.items() if role == CourseStaffRole.OWNER]
    if len(owners) > 1:
        problems.append("A course has at most one owner: make the others co-instructors.")
    for user, role in members.items():
        if role not in CourseStaffRole.values:
            problems.append(f"'{role}' is not a course staff role.")
        if not may_join_course_staff(user):
            problems.append(
                f"{user} is not an instructor or admin of the organization: change their role first."
            )
    if actor is not None and not is_tenant_admin(actor) and course.pk is not None:
        if actor not in members:
            problems.append("You cannot remove yourself from the course's staff; ask an admin.")
        elif is_owner(actor, course) and members[actor] != CourseStaffRole.OWNER and not owners:
            problems.append("Name another owner before you step down, or ask an admin.")
    return problems


@transaction.atomic
def course_staff_set(*, actor, course: Course, members: dict) -> None:
    """Replace the course's staff with `members` (user -> role); audited with before and after."""
    if actor is not None and not may_manage_staff(actor, course):
        raise CourseError(
            "Only the course's owner and the organization's admins can change its staff.",
            status=403,
            code="not_course_staff",
        )
    _staff_write(actor=actor, course=course, members=members)


def _staff_write(*, actor, course: Course, members: dict) -> None:
    """The checked write of a staff list, for `course_staff_set` and a new course's first owner
    (whom `may_manage_staff` cannot know yet: `course_create` checked the actor instead)."""
    problems = course_staff_problems(actor=actor, course=course, members=members)
    if problems:
        raise CourseError(problems[0], problems)
    Course.objects.select_for_update().get(pk=course.pk)
    current = {row.user_id: row for row in CourseStaff.objects.filter(course=course).select_related("user")}
    before = {row.user.email: row.role for row in current.values()}
    wanted = {user.pk: (user, role) for user, role in members.items()}
    CourseStaff.objects.filter(course=course).exclude(user_id__in=wanted).delete()
    # Demote a leaving owner before promoting the new one (one owner per course, checked by the database).
    for user_id, (_, role) in sorted(wanted.items(), key=lambda item: item[1][1] == CourseStaffRole.OWNER):
        row = current.get(user_id)
        if row is None:
            CourseStaff.objects.create(course=course, user_id=user_id, role=role)
        elif row.role != role:
            row.role = role
            row.save(update_fields=["role"])
    after = {user.email: role for user, role in members.items()}
    if before != after:
        audit_record(actor=actor, action="course.staff_changed", target=course, before=before, after=after)
