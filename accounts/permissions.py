"""The tenant-role layer of the access policy: admin > instructor > learner (ADR 0165).

The one place that reads a person's tenant role. Every other module asks these predicates
(or the doors built on them: `courses.permissions`, `enrollments.access`), each beside the
query listing the people who pass it. `tests/test_one_door.py` refuses a role compared
anywhere else.

| person     | the admin (`/admin/`) | settings, people, every course        | joins a course's staff |
| ---------- | --------------------- | ------------------------------------- | ---------------------- |
| admin      | yes                   | yes                                   | yes                    |
| instructor | yes                   | no (only the courses they staff)      | yes                    |
| learner    | no                    | no                                    | no                     |

An operator (`is_superuser`) counts as an admin of any organization they act in. Inactive
people pass nothing.
"""

from __future__ import annotations

from django.db.models import QuerySet

from .models import STAFF_ROLES, Role, User


def _active(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def has_staff_role(user) -> bool:
    """Instructor or admin by role, active or not: what Django's `is_staff` column mirrors."""
    return user.is_superuser or user.role in STAFF_ROLES


def is_tenant_admin(user) -> bool:
    """The one answer to "is this person an admin of the organization?"."""
    return _active(user) and (user.role == Role.ADMIN or user.is_superuser)


def is_instructor(user) -> bool:
    """An active instructor (not an admin): their rights on a course come from its staff rows."""
    return _active(user) and user.role == Role.INSTRUCTOR


def may_use_admin(user) -> bool:
    """May open the tenant's `/admin/` (and the staff pages beside it: grading, reports)."""
    return _active(user) and user.role in STAFF_ROLES


#: Who may be named to a course's staff: the people who may use the admin at all.
may_join_course_staff = may_use_admin


def people_for_course_staff() -> QuerySet[User]:
    """The people `may_join_course_staff` allows, as a queryset (the staff form's choices)."""
    return User.objects.filter(is_active=True, role__in=STAFF_ROLES)


def tenant_admins() -> QuerySet[User]:
    """The organization's active admins by role (operators live in the public schema)."""
    return User.objects.filter(is_active=True, role=Role.ADMIN)


def holds_role(user, role: str) -> bool:
    """Does `user` hold exactly `role` now (to skip a change that changes nothing)?"""
    return user.role == role


def people_with_role(role: str) -> QuerySet[User]:
    """The people holding `role`, for lists narrowed by role (the API's people list)."""
    return User.objects.filter(role=role)


def leaves_no_admin(*, user: User, role: str | None = None, active: bool = True) -> bool:
    """Would giving `user` this role (or deactivating them) leave the organization without an
    active admin?"""
    if user.role != Role.ADMIN:
        return False
    if (role or user.role) == Role.ADMIN and active:
        return False
    return not tenant_admins().exclude(pk=user.pk).exists()
