"""The access policy, row by row: role x enrollment status x lesson gate x time (a frozen clock)."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model

from courses.models import CourseStatus, LessonKind
from courses.tests.factories import published_lesson
from enrollments.access import editing_decision, grading_decision, is_course_staff, lesson_decision
from enrollments.models import Enrollment, EnrollmentStatus

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
ENROLLED = NOW - timedelta(days=10)
User = get_user_model()


@dataclass
class FakeCourse:
    pk: int = 4242
    status: str = CourseStatus.PUBLISHED
    is_deleted: bool = False
    enrollment_policy: str = "open"


LESSONS = {
    "open": published_lesson(id=1, kind=LessonKind.TEXT, is_preview=False),
    "preview": published_lesson(id=2, kind=LessonKind.TEXT, is_preview=True),
    "drip-future": published_lesson(id=3, kind=LessonKind.TEXT, is_preview=False, gate_days=30),
    "drip-past": published_lesson(id=4, kind=LessonKind.TEXT, is_preview=False, gate_days=5),
    "date-future": published_lesson(
        id=5, kind=LessonKind.TEXT, is_preview=False, gate_at=NOW + timedelta(hours=1)
    ),
    "prereq-missing": published_lesson(id=6, kind=LessonKind.TEXT, is_preview=False, prerequisites=[99]),
    "prereq-done": published_lesson(id=7, kind=LessonKind.TEXT, is_preview=False, prerequisites=[1]),
    "quiz": published_lesson(id=8, kind=LessonKind.QUIZ, is_preview=False),
}
WINDOWS = {
    "": (None, None),
    "window-open": (NOW - timedelta(days=1), NOW + timedelta(days=1)),
    "window-ended": (NOW - timedelta(days=20), NOW - timedelta(days=1)),
    "window-later": (NOW + timedelta(days=2), None),
}

# role, enrollment status ("" = none), window, lesson, allowed, words of the reason
ROWS = [
    # Layer 1-2: tenant admins and the course's staff open everything, enrolled or not.
    ("admin", "", "", "drip-future", True, ""),
    ("admin", "blocked", "", "quiz", True, ""),
    ("owner", "", "", "prereq-missing", True, ""),
    ("co_instructor", "", "", "date-future", True, ""),
    ("assistant", "", "", "quiz", True, ""),
    ("assistant", "blocked", "window-ended", "drip-future", True, ""),
    ("instructor", "", "", "open", False, "Enroll in this course"),
    # Layer 3: enrollment status.
    ("learner", "", "", "open", False, "Enroll in this course"),
    ("learner", "pending", "", "open", False, "waiting for approval"),
    ("learner", "rejected", "", "open", False, "declined"),
    ("learner", "active", "", "open", True, ""),
    ("learner", "completed", "", "open", True, ""),
    ("learner", "auditing", "", "open", True, ""),
    ("learner", "auditing", "", "quiz", False, "You are auditing this course: graded work is not available"),
    ("learner", "active", "", "quiz", True, ""),
    ("learner", "blocked", "", "open", False, "blocked"),
    ("learner", "blocked", "", "preview", False, "blocked"),
    ("learner", "active", "window-open", "open", True, ""),
    ("learner", "active", "window-ended", "open", False, "Your access ended on 31 May 2030"),
    ("learner", "active", "window-later", "open", False, "Your access starts on 3 June 2030"),
    # Layer 4: lesson gates.
    ("learner", "", "", "preview", True, ""),
    ("learner", "active", "", "drip-future", False, "This lesson unlocks on 21 June 2030 at 12:00"),
    ("learner", "active", "", "drip-past", True, ""),
    ("learner", "active", "", "date-future", False, "This lesson unlocks on 1 June 2030 at 13:00"),
    ("learner", "active", "", "prereq-missing", False, "Complete 'Welcome' first"),
    ("learner", "active", "", "prereq-done", True, ""),
    ("learner", "active", "window-ended", "preview", True, ""),
]


COURSE_ROLES = ("owner", "co_instructor", "assistant")


def _person(role: str, course: FakeCourse):
    """The acme user for `role`; course roles are instructors with a staff row (without a course row)."""
    email = "instructor" if role in COURSE_ROLES else role
    user = User.objects.get(email=f"{email}@acme.test")
    user._course_roles = {course.pk: role} if role in COURSE_ROLES else {}
    return user


@pytest.mark.parametrize(("role", "status", "window", "lesson", "allowed", "reason"), ROWS)
def test_policy_row(in_tenant, role, status, window, lesson, allowed, reason):
    course = FakeCourse()
    user = _person(role, course)
    enrollment = None
    if status:
        starts, ends = WINDOWS[window]
        enrollment = Enrollment(
            status=status, enrolled_at=ENROLLED, access_starts_at=starts, access_ends_at=ends
        )
    decision = lesson_decision(
        user=user,
        course=course,
        lesson=LESSONS[lesson],
        enrollment=enrollment,
        completed={1},
        titles={99: "Welcome"},
        now=NOW,
    )
    assert decision.allowed is allowed, decision
    assert reason in decision.reason


def test_every_enrollment_status_has_a_row():
    assert {row[1] for row in ROWS if row[1]} == set(EnrollmentStatus.values)


# role -> (sees the course as staff, may edit it, may grade its work)
STAFF_ROWS = [
    ("admin", True, True, True),
    ("owner", True, True, True),
    ("co_instructor", True, True, True),
    ("assistant", True, False, True),
    ("instructor", False, False, False),
    ("learner", False, False, False),
]


@pytest.mark.parametrize(("role", "staff", "edits", "grades"), STAFF_ROWS)
def test_staff_layer(in_tenant, role, staff, edits, grades):
    course = FakeCourse()
    user = _person(role, course)
    assert is_course_staff(user, course) is staff
    assert bool(editing_decision(user, course)) is edits
    assert bool(grading_decision(user, course)) is grades
    if not grades:
        assert grading_decision(user, course).reason == "Only this course's staff can grade its work."


def test_the_course_lists_match_the_decisions(in_tenant):
    from courses.models import CourseStaff
    from courses.tests.factories import make_course
    from enrollments.access import courses_for_editing, courses_for_grading

    taught, assisted, other = (
        make_course(slug=slug, publish=False) for slug in ("taught", "assisted", "other")
    )
    instructor = User.objects.get(email="instructor@acme.test")
    CourseStaff.objects.create(course=taught, user=instructor, role="co_instructor")
    CourseStaff.objects.create(course=assisted, user=instructor, role="assistant")
    instructor = User.objects.get(pk=instructor.pk)
    for course in (taught, assisted, other):
        assert courses_for_editing(instructor).filter(pk=course.pk).exists() is bool(
            editing_decision(instructor, course)
        )
        assert courses_for_grading(instructor).filter(pk=course.pk).exists() is bool(
            grading_decision(instructor, course)
        )
