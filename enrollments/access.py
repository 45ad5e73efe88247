"""THE access policy: may this person do this here, now? One place, with reasons to show.

Layers, first match wins: tenant role (admin > instructor > learner), course staff
(owner, co-instructor, teaching assistant), enrollment status (with its access window),
then lesson gates: preview, drip (days after enrollment and/or a fixed moment, shown in
the tenant's time zone) and prerequisites (the lesson's and its module's; a quiz lesson
counts as completed only once passed).

Every caller above `courses` asks this module. The two staff layers are computed in
`courses.permissions`, because the course admin (in `courses`, which may not import this
app) needs the same answers; this module re-exports them (ADR 0012).
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import connection
from django.http import Http404
from django.utils import timezone

from core.errors import Forbidden
from courses.cache import courses_version_with, local_hint, remember_hint
from courses.models import Course, CourseStatus, EnrollmentPolicy, LessonKind
from courses.permissions import (
    ADMIN,
    ASSISTANT,
    CO_INSTRUCTOR,
    OWNER,
    course_role,
    courses_for_staff,
    courses_visible_to_staff,
    may_edit,
    may_grade,
    may_manage_staff,
    may_view,
)
from courses.selectors import Outline, PublishedLesson, course_get_published, outline_for

from .cache import learner_state, learner_state_key
from .models import Enrollment, EnrollmentStatus, ProgressStatus

# Lesson kinds that are graded work, closed to people auditing a course.
GRADED_KINDS = frozenset({LessonKind.QUIZ, LessonKind.ASSIGNMENT})


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""
    #: what the person may do about it: "enroll", "request", "wait", "sign_in", "" (nothing)
    action: str = ""
    #: for a drip-locked lesson: when it opens
    opens_at: datetime | None = None
    #: for a lesson gate: the prerequisite lesson ids not completed yet (what to do first)
    requires: tuple[int, ...] = ()

    def __bool__(self) -> bool:
        # A refusal is falsy: write `gate if gate is not None else ALLOW`, never `gate or ALLOW`.
        return self.allowed


ALLOW = Decision(True)

#: Staff roles on a course, strongest first (what `staff_role` answers, besides None).
STAFF_ROLES = (ADMIN, OWNER, CO_INSTRUCTOR, ASSISTANT)


def is_course_staff(user, course: Course) -> bool:
    """Anyone on the course's staff (assistants too) or a tenant admin: they open every lesson."""
    return course_role(user, course) is not None


#: A person's staff role on a course: ADMIN (tenant admin), OWNER, CO_INSTRUCTOR, ASSISTANT or None.
staff_role = course_role


def grading_decision(user, course: Course) -> Decision:
    """May `user` grade learners' work in `course` (admins, owners, co-instructors, assistants)?"""
    if may_grade(user, course):
        return ALLOW
    return Decision(False, "Only this course's staff can grade its work.")


def courses_for_editing(user):
    """The courses `editing_decision` allows, as a queryset (for lists and choices)."""
    return courses_for_staff(user)


def courses_for_grading(user):
    """The courses `grading_decision` allows, as a queryset (for grading queues and reports)."""
    return courses_visible_to_staff(user)


def editing_decision(user, course: Course) -> Decision:
    """May `user` change `course` (admins, owners, co-instructors; not assistants)?"""
    if may_edit(user, course):
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
    lesson: PublishedLesson,
    enrollment: Enrollment,
    completed: Set[int],
    titles: dict[int, str] | None = None,
    now: datetime | None = None,
    kinds: dict[int, LessonKind] | None = None,
) -> Decision | None:
    """The schedule and prerequisites of an enrolled learner's lesson: a refusal, or None when open."""
    now = now or timezone.now()
    opens_at = lesson.gate_at
    if lesson.gate_days:
        after_enrolling = (enrollment.enrolled_at or now) + timedelta(days=lesson.gate_days)
        opens_at = max(opens_at, after_enrolling) if opens_at else after_enrolling
    missing = [pid for pid in lesson.prerequisites if pid not in completed]
    if opens_at and now < opens_at:
        return Decision(False, f"This lesson unlocks on {_when(opens_at)}.", "wait", opens_at, tuple(missing))
    if missing:
        # A quiz lesson counts as completed only once passed: say "pass" for those.
        name = (titles or {}).get
        quizzes = [f"'{name(pid, 'a quiz')}'" for pid in missing if (kinds or {}).get(pid) == LessonKind.QUIZ]
        others = [
            f"'{name(pid, 'an earlier lesson')}'"
            for pid in missing
            if (kinds or {}).get(pid) != LessonKind.QUIZ
        ]
        parts = [f"Complete {_listed(others)}"] if others else []
        if quizzes:
            parts.append(f"{'pass' if parts else 'Pass'} {_listed(quizzes)}")
        return Decision(False, " and ".join(parts) + " first.", "", requires=tuple(missing))
    return None


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def lesson_decision(
    *,
    user,
    course: Course,
    lesson: PublishedLesson,
    enrollment: Enrollment | None,
    completed: set[int] | None = None,
    titles: dict[int, str] | None = None,
    now: datetime | None = None,
    kinds: dict[int, LessonKind] | None = None,
    staff: bool | None = None,
) -> Decision:
    """May `user` open this published lesson (a lesson of the course outline)?

    `completed` (the learner's completed lesson ids) is needed for prerequisites; without it
    a lesson with prerequisites stays closed. `staff`: `is_course_staff(user, course)` when
    the caller (a door) has asked it already.
    """
    if not user.is_authenticated:
        return Decision(False, "Sign in to open lessons.", "sign_in")
    if staff if staff is not None else is_course_staff(user, course):
        return ALLOW
    if course.is_deleted:
        return Decision(False, "This course is no longer available.")
    if enrollment is not None and enrollment.status == EnrollmentStatus.BLOCKED:
        return Decision(False, BLOCKED_REASON)
    if lesson.is_preview and course.status == CourseStatus.PUBLISHED:
        return ALLOW
    if enrollment is not None and enrollment.opens_lessons:
        now = now or timezone.now()
        refusal = window_refusal(enrollment=enrollment, now=now)
        if refusal is None and enrollment.status == EnrollmentStatus.AUDITING and lesson.kind in GRADED_KINDS:
            refusal = Decision(False, "You are auditing this course: graded work is not available.")
        if refusal is None:
            refusal = lesson_gate(
                lesson=lesson,
                enrollment=enrollment,
                completed=completed or set(),
                titles=titles,
                now=now,
                kinds=kinds,
            )
        return refusal if refusal is not None else ALLOW
    decision = enrollment_decision(user=user, course=course, enrollment=enrollment)
    if decision.action in ("enroll", "request"):
        return Decision(False, "Enroll in this course to open this lesson.", decision.action)
    return Decision(False, decision.reason, decision.action)


def locked_lessons(
    *,
    user,
    course: Course,
    outline,
    enrollment: Enrollment | None,
    completed: set[int] | frozenset[int],
    staff: bool | None = None,
) -> dict[int, Decision]:
    """For an enrolled learner: lesson id -> the refusal, for every lesson their schedule or
    prerequisites still keep closed (shown as locks with reasons in the syllabus)."""
    if enrollment is None or not enrollment.opens_lessons:
        return {}
    if staff if staff is not None else is_course_staff(user, course):
        return {}
    now, titles, kinds, locked = timezone.now(), outline.titles, outline.kinds, {}
    for lesson in outline.lessons:
        if lesson.is_preview:
            continue
        gate = lesson_gate(
            lesson=lesson, enrollment=enrollment, completed=completed, titles=titles, now=now, kinds=kinds
        )
        if gate is not None:
            locked[lesson.id] = gate
    return locked


# --- The doors: fetch and check in one call (ADR 0140) ------------------------------------
#
# Callers never assemble a decision's inputs by hand: they ask a door, which loads what the
# decision needs once and returns it with the answer. What the actor may not know exists is
# Http404 (the same as another tenant's object); what they may see but not open yet comes
# back with the refusal, for the caller to show (or `require()` raises Forbidden with it).

_READ = object()


@dataclass(frozen=True)
class LessonAccess:
    """One lesson as one person may reach it now: computed once per request, then passed on."""

    course: Course
    outline: Outline
    lesson: PublishedLesson
    enrollment: Enrollment | None
    progress_rows: tuple
    completed: frozenset[int]
    decision: Decision
    #: is_course_staff(user, course), asked once here so no later step asks it again
    staff: bool = False

    @property
    def progress(self):
        """This lesson's progress row, when the learner may open it."""
        if not self.decision.allowed:
            return None
        return next((row for row in self.progress_rows if row.lesson_id == self.lesson.id), None)

    def require(self) -> LessonAccess:
        """The same bundle when open; Forbidden with the reason to show otherwise."""
        if not self.decision.allowed:
            raise Forbidden(self.decision.reason, code="lesson_locked")
        return self


@dataclass(frozen=True)
class CourseAccess:
    """A published course as a learner sees it: its outline, their enrollment, may they enroll."""

    course: Course
    outline: Outline
    enrollment: Enrollment | None
    decision: Decision


def access_course_as_learner(*, user, slug: str) -> CourseAccess:
    """A published (or archived) course; Http404 for a draft, deleted or unknown one."""
    course = course_get_published(slug=slug)
    outline = outline_for(course)
    enrollment = learner_state(user=user, course=course)[0] if user.is_authenticated else None
    return CourseAccess(
        course, outline, enrollment, enrollment_decision(user=user, course=course, enrollment=enrollment)
    )


_STAFF_NEEDS = {"view": may_view, "edit": may_edit, "grade": may_grade, "manage_staff": may_manage_staff}


def access_course_as_staff(
    *, user, course_id: int | None = None, slug: str | None = None, need: str = "view"
) -> Course:
    """A course the person is staff of (any course for tenant admins), able to do `need`.

    Http404 when they are not on its staff at all (they may not know a draft exists);
    Forbidden when they see it but may not do this to it (an assistant editing, say).
    """
    check = _STAFF_NEEDS[need]
    courses = courses_visible_to_staff(user)
    if (course_id is None) == (slug is None):
        raise TypeError("Give course_id or slug.")
    course = courses.filter(**({"pk": course_id} if course_id is not None else {"slug": slug})).first()
    if course is None or not may_view(user, course):
        raise Http404("No such course.")
    if not check(user, course):
        raise Forbidden(_STAFF_REFUSALS[need], code="not_course_staff")
    return course


_STAFF_REFUSALS = {
    "view": "Only this course's staff can see it.",
    "edit": "Only this course's instructors and the organization's admins can change it.",
    "grade": "Only this course's staff can grade its work.",
    "manage_staff": "Only the course's owner and the organization's admins can change its staff.",
}


def access_lesson_in(
    *,
    user,
    course: Course,
    lesson_id: int,
    enrollment=_READ,
    completed: set[int] | None = None,
    now: datetime | None = None,
    state=_READ,
) -> LessonAccess:
    """`access_lesson` for a caller that already holds the course (a service, a media request).

    A service that locked the enrollment row passes it (and the completed ids it read under
    the lock) so the decision is about the row it will write. `state`: what the caller read
    for the learner's state key in a combined cache read (`access_lesson` does).
    """
    outline = outline_for(course)
    lesson = outline.lesson(lesson_id)
    rows: tuple = ()
    if enrollment is _READ or completed is None:
        if user.is_authenticated:
            if state is _READ:
                cached_enrollment, cached_rows = learner_state(user=user, course=course)
            else:
                cached_enrollment, cached_rows = learner_state(user=user, course=course, read=state)
            rows = tuple(cached_rows)
        else:
            cached_enrollment = None
        if enrollment is _READ:
            enrollment = cached_enrollment
        if completed is None:
            completed = {row.lesson_id for row in rows if row.status == ProgressStatus.COMPLETED}
    staff = is_course_staff(user, course)
    decision = lesson_decision(
        user=user,
        course=course,
        lesson=lesson,
        enrollment=enrollment,
        completed=completed,
        titles=outline.titles,
        now=now,
        kinds=outline.kinds,
        staff=staff,
    )
    return LessonAccess(course, outline, lesson, enrollment, rows, frozenset(completed), decision, staff)


def access_lesson(*, user, course_slug: str, lesson_id: int, now: datetime | None = None) -> LessonAccess:
    """The published lesson with everything its decision read; Http404 outside this published course.

    One cache round trip when warm: the tenant's courses version and the learner's state are
    read together, for the course this slug named the last time this process looked it up
    (a hint only: when the course turns out to be another, its state is read on its own).
    """
    hinted = local_hint("course-pk", course_slug) if user.is_authenticated else None
    if hinted is None:
        course = course_get_published(slug=course_slug)
        remember_hint(course.pk, "course-pk", course_slug)
        return access_lesson_in(user=user, course=course, lesson_id=lesson_id, now=now)
    key = learner_state_key(user.pk, hinted)
    version, values = courses_version_with([key])
    course = course_get_published(slug=course_slug, version=version)
    if course.pk != hinted:
        remember_hint(course.pk, "course-pk", course_slug)
        return access_lesson_in(user=user, course=course, lesson_id=lesson_id, now=now)
    return access_lesson_in(user=user, course=course, lesson_id=lesson_id, now=now, state=values.get(key))
