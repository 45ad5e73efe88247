"""Course reports for course staff and admins: daily counters, the lesson funnel, questions, at-risk learners.

Read from the reporting tables only (never raw events), through the analytics selectors;
a course whose reports the caller may not read is 404, like another tenant's.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.http import HttpRequest
from ninja import Router, Schema

from analytics.selectors import (
    DateRange,
    course_daily,
    course_get_for_reports,
    default_range,
    learners_at_risk,
    lesson_funnel,
    question_table,
)
from core.errors import InvalidRequest

from ..gate import need
from .base import PROBLEMS

router = Router(tags=["analytics"])
MAX_DAYS = 366


class Daily(Schema):
    days: list[str]
    active_learners: list[float]
    new_enrollments: list[float]
    lesson_completions: list[float]
    course_completions: list[float]
    minutes_watched: list[float]
    quiz_attempts: int
    average_score: float | None
    distinct_active: int


class FunnelRow(Schema):
    lesson_id: int
    title: str
    kind: str
    viewers: int
    completions: int
    watch_percent: float | None
    drop_off_percent: float | None


class QuestionRow(Schema):
    question_id: int
    assessment_id: int
    attempts: int
    percent_correct: float | None
    average_points: float | None


class AtRiskRow(Schema):
    name: str
    email: str
    last_active: object
    days_inactive: int
    progress_percent: int


class CourseReport(Schema):
    course_id: int
    slug: str
    start: date
    end: date
    daily: Daily
    lessons: list[FunnelRow]
    questions: list[QuestionRow]
    at_risk: list[AtRiskRow]


def _period(start: date | None, end: date | None) -> DateRange:
    if start is None and end is None:
        return default_range()
    end = end or date.today()
    start = start or end - timedelta(days=29)
    if start > end:
        raise InvalidRequest("start is on or before end.", field="start")
    if (end - start).days >= MAX_DAYS:
        raise InvalidRequest(f"A report covers at most {MAX_DAYS} days.", field="start")
    return DateRange(start, end)


@router.get(
    "/analytics/courses/{course_id}", response={200: CourseReport, **PROBLEMS}, summary="Course report"
)
def course_report(request: HttpRequest, course_id: int, start: date | None = None, end: date | None = None):
    """One course's reports over a period (default: the last 30 days)."""
    need(request, "analytics:read")
    course = course_get_for_reports(user=request.user, course_id=course_id)
    period = _period(start, end)
    return {
        "course_id": course.pk,
        "slug": course.slug,
        "start": period.start,
        "end": period.end,
        "daily": course_daily(course=course, period=period),
        "lessons": lesson_funnel(course=course),
        "questions": question_table(course=course),
        "at_risk": learners_at_risk(course=course),
    }
