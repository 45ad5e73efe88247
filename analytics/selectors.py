"""What the dashboards show, read from the reporting tables (never from raw events).

The reports read from the streaming replica when there is one (tenants/replica.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, Max, Q, Sum
from django.http import Http404
from django.utils import timezone

from courses.models import Course, LessonKind
from courses.selectors import outline_for
from enrollments.access import courses_for_grading, grading_decision
from enrollments.models import Enrollment, EnrollmentStatus
from tenants.replica import reading_from_default, replica_read

from .models import CourseDay, LearnerCourse, LearnerDay, LessonLearner, QuestionStat

AT_RISK_DAYS = 14


@dataclass(frozen=True)
class DateRange:
    start: date
    end: date

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]


def default_range(today: date | None = None) -> DateRange:
    today = today or timezone.now().date()
    return DateRange(today - timedelta(days=29), today)


def course_get_for_reports(*, user, course_id: int) -> Course:
    """The course if `user` is on its staff (may read its reports); Http404 otherwise."""
    course = Course.objects.filter(pk=course_id, deleted_at__isnull=True).first()
    if course is None or not grading_decision(user, course):
        raise Http404("No such course.")
    return course


def courses_for_reports(*, user) -> list[Course]:
    """Courses whose reports `user` may read, by title."""
    return list(courses_for_grading(user).filter(deleted_at__isnull=True).order_by("title"))


def _series(rows, days: list[date], field: str) -> list[float]:
    by_day = {row["day"]: row[field] or 0 for row in rows}
    return [by_day.get(day, 0) for day in days]


@replica_read
def course_daily(*, course: Course, period: DateRange) -> dict:
    """Per day: active learners, new enrollments, lesson and course completions, minutes watched."""
    days = period.days
    counters = list(
        CourseDay.objects.filter(course_id=course.pk, day__range=(period.start, period.end))
        .values("day")
        .annotate(
            enrollments=Sum("new_enrollments"),
            lessons=Sum("lesson_completions"),
            completions=Sum("course_completions"),
            seconds=Sum("seconds_watched"),
            attempts=Sum("quiz_attempts"),
            score=Sum("score_sum"),
        )
    )
    active = list(
        LearnerDay.objects.filter(course_id=course.pk, day__range=(period.start, period.end))
        .values("day")
        .annotate(learners=Count("user_id"))
    )
    attempts = sum(row["attempts"] or 0 for row in counters)
    score = sum(row["score"] or 0 for row in counters)
    return {
        "days": [d.isoformat() for d in days],
        "active_learners": _series(active, days, "learners"),
        "new_enrollments": _series(counters, days, "enrollments"),
        "lesson_completions": _series(counters, days, "lessons"),
        "course_completions": _series(counters, days, "completions"),
        "minutes_watched": [round(s / 60, 1) for s in _series(counters, days, "seconds")],
        "quiz_attempts": attempts,
        "average_score": round(100 * score / attempts, 1) if attempts else None,
        "distinct_active": LearnerDay.objects.filter(
            course_id=course.pk, day__range=(period.start, period.end)
        )
        .values("user_id")
        .distinct()
        .count(),
    }


@replica_read
def lesson_funnel(*, course: Course) -> list[dict]:
    """Each published lesson in reading order: viewers, completions, watch percent, drop-off."""
    try:
        with reading_from_default():
            lessons = outline_for(course).lessons
    except Http404:
        return []
    stats = {
        row["lesson_id"]: row
        for row in LessonLearner.objects.filter(lesson_id__in=[lesson.id for lesson in lessons])
        .values("lesson_id")
        .annotate(
            viewers=Count("user_id", filter=Q(viewed=True)),
            completions=Count("user_id", filter=Q(completed=True)),
            watch=Max("watch_percent"),
        )
    }
    watch = {
        row["lesson_id"]: row["avg"]
        for row in LessonLearner.objects.filter(
            lesson_id__in=[lesson.id for lesson in lessons], watch_percent__gt=0
        )
        .values("lesson_id")
        .annotate(avg=Sum("watch_percent") / Count("user_id"))
    }
    funnel, previous = [], None
    for lesson in lessons:
        row = stats.get(lesson.id, {})
        viewers = row.get("viewers", 0)
        drop = None
        if previous:
            drop = round(100 * (previous - viewers) / previous, 1)
        funnel.append(
            {
                "lesson_id": lesson.id,
                "title": lesson.title,
                "kind": lesson.kind.value,
                "viewers": viewers,
                "completions": row.get("completions", 0),
                # Only videos are watched; a read lesson's completion is in the completions column.
                "watch_percent": round(watch[lesson.id], 1)
                if lesson.kind == LessonKind.VIDEO and lesson.id in watch
                else None,
                "drop_off_percent": drop,
            }
        )
        previous = viewers
    return funnel


@replica_read
def question_table(*, course: Course) -> list[dict]:
    """Item analysis: every question answered in the course's quizzes, hardest first."""
    rows = []
    for q in QuestionStat.objects.filter(course_id=course.pk):
        rows.append(
            {
                "question_id": q.question_id,
                "assessment_id": q.assessment_id,
                "attempts": q.attempts,
                "percent_correct": round(100 * q.correct / q.attempts, 1) if q.attempts else None,
                "average_points": round(q.points_sum / q.attempts, 2) if q.attempts else None,
            }
        )
    return sorted(rows, key=lambda r: (r["percent_correct"] is None, r["percent_correct"] or 0))


@replica_read
def learners_at_risk(*, course: Course, now: datetime | None = None) -> list[dict]:
    """Enrolled (active) learners with no activity for AT_RISK_DAYS days, longest silent first."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=AT_RISK_DAYS)
    enrollments = list(
        Enrollment.objects.filter(course=course, status=EnrollmentStatus.ACTIVE).select_related("user")
    )
    last = dict(
        LearnerCourse.objects.filter(
            course_id=course.pk, user_id__in=[e.user_id for e in enrollments]
        ).values_list("user_id", "last_active")
    )
    rows = []
    for e in enrollments:
        seen = last.get(e.user_id) or e.last_activity_at or e.enrolled_at or e.requested_at
        if seen < cutoff:
            rows.append(
                {
                    "name": e.user.get_full_name() or e.user.email,
                    "email": e.user.email,
                    "last_active": seen,
                    "days_inactive": (now - seen).days,
                    "progress_percent": e.progress_percent,
                }
            )
    return sorted(rows, key=lambda r: r["last_active"])


@replica_read
def tenant_overview(*, period: DateRange) -> dict:
    """Courses ranked by enrollments in the period (with completion rate), and active learners per day."""
    totals = {
        row["course_id"]: row
        for row in CourseDay.objects.filter(day__range=(period.start, period.end))
        .values("course_id")
        .annotate(enrollments=Sum("new_enrollments"), completions=Sum("course_completions"))
    }
    courses = Course.objects.filter(deleted_at__isnull=True).only("id", "title", "status")
    ranked = []
    for course in courses:
        row = totals.get(course.pk, {})
        enrollments, completions = row.get("enrollments") or 0, row.get("completions") or 0
        ranked.append(
            {
                "course_id": course.pk,
                "title": course.title,
                "enrollments": enrollments,
                "completions": completions,
                "completion_rate": round(100 * completions / enrollments, 1) if enrollments else None,
            }
        )
    ranked.sort(key=lambda r: (-r["enrollments"], -(r["completion_rate"] or 0), r["title"]))
    days = period.days
    active = list(
        LearnerDay.objects.filter(day__range=(period.start, period.end))
        .values("day")
        .annotate(learners=Count("user_id", distinct=True))
    )
    return {
        "courses": ranked,
        "days": [d.isoformat() for d in days],
        "active_learners": _series(active, days, "learners"),
    }
