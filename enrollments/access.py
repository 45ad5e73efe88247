"""THE access policy: may this person do this here, now? One place, with reasons to show.

Layers, first match wins: tenant role (admin > instructor > learner), course staff,
enrollment status, then lesson gates: preview, drip (days after enrollment and/or a
fixed moment, shown in the tenant's time zone) and prerequisites. Access windows, course
staff roles and caching come with the rest of issue #4; every caller goes through here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import connection
from django.utils import timezone

from accounts.models import Role
from courses.models import Course, CourseStatus, EnrollmentPolicy

from .models import Enrollment, EnrollmentStatus

# Lesson kinds that are graded work, closed to people auditing a course.
GRADED_KINDS = frozenset({"quiz", "assignment"})


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""
    #: what the person may do about it: "enroll", "request", "wait", "sign_in", "" (nothing)
    action: str = ""
    #: for a drip-locked lesson: when it opens
    opens_at: datetime | None = None

    def __bool__(self) -> bool:
        # A refusal is falsy: write `gate if gate is not None else ALLOW`, never `gate or ALLOW`.
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


class StaffRole:
    """What a person is to a course's staff. Tenant admins rank above every course role."""

    ADMIN = "admin"
    OWNER = "owner"
    CO_INSTRUCTOR = "co_instructor"
    ASSISTANT = "assistant"


EDITING_ROLES = frozenset({StaffRole.ADMIN, StaffRole.OWNER, StaffRole.CO_INSTRUCTOR})
GRADING_ROLES = EDITING_ROLES | {StaffRole.ASSISTANT}


def staff_role(user, course: Course) -> str | None:
    """The person's staff role on `course` (a StaffRole value), or None for everyone else."""
    if not user.is_authenticated or not user.is_active:
        return None
    if user.role == Role.ADMIN or user.is_superuser:
        return StaffRole.ADMIN
    if user.role != Role.INSTRUCTOR:
        return None
    return StaffRole.CO_INSTRUCTOR if is_course_staff(user, course) else None


def grading_decision(user, course: Course) -> Decision:
    """May `user` grade learners' work in `course` (admins, owners, co-instructors, assistants)?"""
    if staff_role(user, course) in GRADING_ROLES:
        return ALLOW
    return Decision(False, "Only this course's staff can grade its work.")


def editing_decision(user, course: Course) -> Decision:
    """May `user` change `course` (admins, owners, co-instructors; not assistants)?"""
    if staff_role(user, course) in EDITING_ROLES:
        return ALLOW
    return Decision(False, "Only this course's instructors and the organization's admins can change it.")


def enrollment_decision(*, user, course: Course, enrollment: Enrollment | None) -> Decision:
    """May `user` start taking `course` (enroll or ask to)?"""
    if not user.is_authenticated:
        return Decision(False, "Sign in to enroll.", "sign_in")
    if enrollment is not None:
        if enrollment.status == EnrollmentStatus.BLOCKED:
            return Decision(False, BLOCKED_REASON, "")
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


BLOCKED_REASON = "Your access to this course is blocked. Ask your administrator."


def window_refusal(*, enrollment: Enrollment, now: datetime) -> Decision | None:
    """Outside the enrollment's access window: the refusal; inside it: None."""
    if enrollment.access_starts_at and now < enrollment.access_starts_at:
        return Decision(
            False,
            f"Your access starts on {_when(enrollment.access_starts_at)}.",
            "wait",
            enrollment.access_starts_at,
        )
    if enrollment.access_ends_at and now >= enrollment.access_ends_at:
        return Decision(False, f"Your access ended on {_when(enrollment.access_ends_at)}.", "")
    return None


def _tenant_zone() -> ZoneInfo:
    try:
        return ZoneInfo(getattr(connection.tenant, "time_zone", "") or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _when(moment: datetime) -> str:
    local = timezone.localtime(moment, _tenant_zone())
    return (
        f"{local.day} {local:%B %Y} at {local:%H:%M}"
        if (local.hour, local.minute) != (0, 0)
        else (f"{local.day} {local:%B %Y}")
    )


def lesson_gate(
    *,
    lesson: dict,
    enrollment: Enrollment,
    completed: set[int],
    titles: dict[int, str] | None = None,
    now: datetime | None = None,
) -> Decision | None:
    """The schedule and prerequisites of an enrolled learner's lesson: a refusal, or None when open."""
    now = now or timezone.now()
    opens_at = lesson.get("gate_at")
    if lesson.get("gate_days"):
        after_enrolling = (enrollment.enrolled_at or now) + timedelta(days=lesson["gate_days"])
        opens_at = max(opens_at, after_enrolling) if opens_at else after_enrolling
    if opens_at and now < opens_at:
        return Decision(False, f"This lesson unlocks on {_when(opens_at)}.", "wait", opens_at)
    missing = [pid for pid in lesson.get("prerequisites", ()) if pid not in completed]
    if missing:
        names = [f"'{(titles or {}).get(pid, 'an earlier lesson')}'" for pid in missing]
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        return Decision(False, f"Complete {listed} first.", "")
    return None


def lesson_decision(
    *,
    user,
    course: Course,
    lesson: dict,
    enrollment: Enrollment | None,
    completed: set[int] | None = None,
    titles: dict[int, str] | None = None,
    now: datetime | None = None,
) -> Decision:
    """May `user` open this published lesson (a dict of the course outline)?

    `completed` (the learner's completed lesson ids) is needed for prerequisites; without it
    a lesson with prerequisites stays closed.
    """
    if not user.is_authenticated:
        return Decision(False, "Sign in to open lessons.", "sign_in")
    if is_course_staff(user, course):
        return ALLOW
    if course.is_deleted:
        return Decision(False, "This course is no longer available.")
    if enrollment is not None and enrollment.status == EnrollmentStatus.BLOCKED:
        return Decision(False, BLOCKED_REASON)
    if lesson.get("is_preview") and course.status == CourseStatus.PUBLISHED:
        return ALLOW
    if enrollment is not None and enrollment.opens_lessons:
        now = now or timezone.now()
        refusal = window_refusal(enrollment=enrollment, now=now)
        if (
            refusal is None
            and enrollment.status == EnrollmentStatus.AUDITING
            and lesson.get("kind") in GRADED_KINDS
        ):
            refusal = Decision(False, "You are auditing this course: graded work is not available.")
        if refusal is None:
            refusal = lesson_gate(
                lesson=lesson, enrollment=enrollment, completed=completed or set(), titles=titles, now=now
            )
        return refusal if refusal is not None else ALLOW
    decision = enrollment_decision(user=user, course=course, enrollment=enrollment)
    if decision.action in ("enroll", "request"):
        return Decision(False, "Enroll in this course to open this lesson.", decision.action)
    return Decision(False, decision.reason, decision.action)


def locked_lessons(
    *, user, course: Course, outline, enrollment: Enrollment | None, completed: set[int]
) -> dict[int, Decision]:
    """For an enrolled learner: lesson id -> the refusal, for every lesson their schedule or
    prerequisites still keep closed (shown as locks with reasons in the syllabus)."""
    if enrollment is None or not enrollment.opens_lessons or is_course_staff(user, course):
        return {}
    now, titles, locked = timezone.now(), outline.titles, {}
    for lesson in outline.lessons:
        if lesson.get("is_preview"):
            continue
        gate = lesson_gate(lesson=lesson, enrollment=enrollment, completed=completed, titles=titles, now=now)
        if gate is not None:
            locked[lesson["id"]] = gate
    return locked
