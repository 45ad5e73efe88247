"""THE access policy: may this person do this here, now? One place, with reasons to show.

Layers, first match wins: tenant role (admin > instructor > learner), course staff,
enrollment status, then lesson gates (preview). Issue #4 adds drip, prerequisites,
access windows and caching; every caller already goes through these functions.
"""

from __future__ import annotations

from dataclasses import dataclass

from accounts.models import Role
from courses.models import Course, CourseStatus, EnrollmentPolicy

from .models import Enrollment, EnrollmentStatus


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""
    #: what the person may do about it: "enroll", "request", "wait", "sign_in", "" (nothing)
    action: str = ""

    def __bool__(self) -> bool:
        return self.allowed


ALLOW = Decision(True)


def is_course_staff(user, course: Course) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if user.role == Role.ADMIN:
        return True
    if user.role != Role.INSTRUCTOR:
        return False
    cached = getattr(user, "_taught_course_ids", None)
    if cached is None:
        cached = set(user.taught_courses.values_list("pk", flat=True))
        user._taught_course_ids = cached
    return course.pk in cached


def enrollment_decision(*, user, course: Course, enrollment: Enrollment | None) -> Decision:
    """May `user` start taking `course` (enroll or ask to)?"""
    if not user.is_authenticated:
        return Decision(False, "Sign in to enroll.", "sign_in")
    if enrollment is not None:
        if enrollment.opens_lessons:
            return Decision(False, "You are enrolled in this course.", "")
        if enrollment.status == EnrollmentStatus.PENDING:
            return Decision(False, "Your request to join is waiting for approval.", "wait")
        if enrollment.status == EnrollmentStatus.REJECTED:
            return Decision(False, "Your request to join was declined. Ask your administrator.", "")
    if course.status != CourseStatus.PUBLISHED or course.is_deleted:
        return Decision(False, "This course is not open for enrollment.", "")
    if course.enrollment_policy == EnrollmentPolicy.INVITATION:
        return Decision(False, "This course is by invitation: ask your administrator to enroll you.", "")
    if course.enrollment_policy == EnrollmentPolicy.APPROVAL:
        return Decision(True, "An administrator approves requests to join.", "request")
    return Decision(True, "", "enroll")


def lesson_decision(*, user, course: Course, lesson: dict, enrollment: Enrollment | None) -> Decision:
    """May `user` open this published lesson (a dict of the course outline)?"""
    if not user.is_authenticated:
        return Decision(False, "Sign in to open lessons.", "sign_in")
    if is_course_staff(user, course):
        return ALLOW
    if course.is_deleted:
        return Decision(False, "This course is no longer available.")
    if enrollment is not None and enrollment.opens_lessons:
        return ALLOW
    if lesson.get("is_preview") and course.status == CourseStatus.PUBLISHED:
        return ALLOW
    decision = enrollment_decision(user=user, course=course, enrollment=enrollment)
    if decision.action in ("enroll", "request"):
        return Decision(False, "Enroll in this course to open this lesson.", decision.action)
    return Decision(False, decision.reason, decision.action)
