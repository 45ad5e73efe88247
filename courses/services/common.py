"""What every authoring service shares: the refusal type, the editor checks, the audit values."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Max

from core.errors import DomainError, NotFound

from ..models import Course
from ..permissions import is_tenant_admin, may_edit


class CourseError(DomainError):
    """A refused change to a course, with sentences saying what to fix."""

    def __init__(self, message: str, problems: list[str] | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.problems = problems or [message]


class LessonChanged(CourseError):
    """A save over a version of the lesson that is no longer the stored one (ADR 0205)."""

    status = 409
    code = "lesson_changed"

    def __init__(self, message: str, *, current_version: int) -> None:
        super().__init__(message, field="version")
        self.current_version = current_version


def _require_editor(actor, course: Course) -> None:
    if actor is None or not may_edit(actor, course):
        raise CourseError(
            "Only this course's instructors and the organization's admins can change it.",
            status=403,
            code="not_course_staff",
        )


def _require_admin(actor) -> None:
    if not is_tenant_admin(actor):
        raise CourseError(
            "Only an admin of the organization can do this.", status=403, code="not_tenant_admin"
        )


def next_position(queryset) -> int:
    # Not `or -1`: a highest position of 0 is a position, and the next one is 1.
    highest = queryset.aggregate(p=Max("position"))["p"]
    return 0 if highest is None else highest + 1


def audit_value(value: Any) -> Any:
    """A field's value as the audit log's JSON keeps it: files by name, rows by id, times as text."""
    if isinstance(value, models.Model):
        return value.pk
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, models.fields.files.FieldFile):
        return value.name or ""
    return value


def values_of(obj: models.Model, names) -> dict:
    """`names` of `obj` (foreign keys by their id) for an audit row's before or after."""
    values = {}
    for name in names:
        field = obj._meta.get_field(name)
        attname = field.attname if field.is_relation else name
        values[name] = audit_value(getattr(obj, attname))
    return values


def apply_fields(obj: models.Model, fields: dict, *, allowed: frozenset[str], exclude=()) -> dict:
    """Set `fields` on `obj` and validate it; on a refusal put every value back and raise.

    Returns the values the object had before (the audit row's `before`). A name outside
    `allowed` is refused with `field=` set, like an invalid value.
    """
    for name in fields:
        if name not in allowed:
            raise CourseError(f"'{name}' cannot be changed here.", field=name)
    before = {name: getattr(obj, name) for name in fields}
    for name, value in fields.items():
        setattr(obj, name, value)
    try:
        obj.full_clean(exclude=list(exclude))
    except ValidationError as exc:
        for name, value in before.items():
            setattr(obj, name, value)
        raise _course_error_from(exc) from exc
    return before


def _course_error_from(exc: ValidationError) -> CourseError:
    if hasattr(exc, "error_dict"):
        problems, first_field = [], None
        for name, errors in exc.message_dict.items():
            for message in errors:
                problems.append(message)
                if first_field is None and name != "__all__":
                    first_field = name
        return CourseError(problems[0], problems, field=first_field)
    return CourseError(exc.messages[0], list(exc.messages))


def not_found(what: str) -> NotFound:
    # Never says whether the row exists elsewhere: another tenant's ids are simply unknown here.
    return NotFound(f"No such {what} here.")
