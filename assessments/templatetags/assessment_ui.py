"""Quiz pieces other pages show: the lesson page's start panel, the course-complete certificate link.

The lesson player lives in `enrollments`, which may not import this app; its template loads
these tags instead, so the quiz's own rules (attempts left, an open attempt, the window)
stay here and the page needs no second copy of them.
"""

from __future__ import annotations

from django import template
from django.utils import timezone

from assessments.grading import number_text
from assessments.models import Assessment, AttemptStatus
from assessments.selectors import attempts_of, course_certificate
from assessments.services import attempts_left, availability_refusal
from courses.selectors import PublishedLesson

register = template.Library()


@register.filter
def points(value) -> str:
    """7.00 -> '7', 7.50 -> '7.5' (scores and points as people write them)."""
    return number_text(value)


@register.inclusion_tag("assessments/_lesson_panel.html", takes_context=True)
def assessment_panel(context, course, lesson: PublishedLesson) -> dict:
    """The quiz or assignment box of a lesson page: a quiz starts (or continues) in one click."""
    request = context["request"]
    assessment = Assessment.objects.filter(lesson_id=lesson.id).first()
    panel = {"course": course, "lesson": lesson, "assessment": assessment}
    panel["csrf_token"] = context.get("csrf_token")
    if assessment is None or assessment.is_assignment:
        return panel
    attempts = attempts_of(user=request.user, assessment=assessment)
    graded = [a for a in attempts if a.status == AttemptStatus.GRADED]
    return panel | {
        "open_attempt": next((a for a in attempts if a.status == AttemptStatus.IN_PROGRESS), None),
        "best": max(graded, key=lambda a: (a.score, a.number)) if graded else None,
        "waiting": any(a.status == AttemptStatus.SUBMITTED for a in attempts),
        "left": attempts_left(assessment, len(attempts)),
        "tried": bool(attempts),
        "closed": availability_refusal(assessment, timezone.now()),
    }


@register.simple_tag(takes_context=True)
def certificate_of(context, course) -> dict:
    """{"certificates": bool, "certificate": Certificate | None} for the signed-in learner."""
    return course_certificate(user=context["request"].user, course=course)
