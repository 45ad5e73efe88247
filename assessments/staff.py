"""The courses a person may edit or grade, as querysets, derived from the access policy's decisions.

Asking `editing_decision` / `grading_decision` per course keeps this app coded against the
policy's functions, not against how staff roles are stored (issue #4 is extending those).
A tenant has tens to hundreds of courses, and a warm decision costs microseconds.
"""

from __future__ import annotations

from django.db.models import QuerySet

from courses.models import Course
from enrollments.access import editing_decision, grading_decision


def _where(user, decision) -> QuerySet[Course]:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Course.objects.none()
    ids = [course.pk for course in Course.objects.alive().only("pk") if decision(user, course)]
    return Course.objects.filter(pk__in=ids)


def courses_editable(user) -> QuerySet[Course]:
    return _where(user, editing_decision)


def courses_gradable(user) -> QuerySet[Course]:
    return _where(user, grading_decision)
