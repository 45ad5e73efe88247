"""The browser beacon (learner events from the lesson player) and the analytics dashboards."""

from __future__ import annotations

import time
from collections.abc import Iterable

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from accounts.permissions import is_tenant_admin, may_use_admin
from core.csvexport import csv_response
from core.http import json_body, json_text
from courses.models import Course
from courses.selectors import outline_for
from enrollments.models import Enrollment

from .forms import period_from
from .ingest import track_many
from .ingest.schemas import InvalidEvent, validate_payload
from .selectors import (
    AT_RISK_DAYS,
    course_daily,
    course_get_for_reports,
    courses_for_reports,
    learners_at_risk,
    lesson_funnel,
    question_table,
    tenant_overview,
)

BEACON_MAX_BYTES = 8192
BEACON_MAX_EVENTS = 20
# A player sends one batch every ~15 s while playing, plus one when the page is hidden.
BEACON_PER_MINUTE = 30
BEACON_TYPES = frozenset({"video.progress", "lesson.viewed"})


def _error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _events_from(request: HttpRequest) -> object:
    if request.content_type == "application/json":
        data = json_body(request, max_bytes=BEACON_MAX_BYTES)
        return data.get("events") if isinstance(data, dict) else data
    return json_text(request.POST.get("events", ""), max_bytes=BEACON_MAX_BYTES, what="'events'")


def _clean(raw: object) -> list[tuple[str, dict]]:
    if not isinstance(raw, list) or not raw:
        raise InvalidEvent("'events' must be a non-empty list.")
    if len(raw) > BEACON_MAX_EVENTS:
        raise InvalidEvent(f"At most {BEACON_MAX_EVENTS} events per request.")
    events = []
    for n, item in enumerate(raw, 1):
        if not isinstance(item, dict) or item.get("type") not in BEACON_TYPES:
            raise InvalidEvent(f"Event {n}: 'type' must be one of {sorted(BEACON_TYPES)}.")
        payload = {k: v for k, v in item.items() if k != "type"}
        try:
            events.append((item["type"], validate_payload(item["type"], payload)))
        except InvalidEvent as exc:
            raise InvalidEvent(f"Event {n}: {exc}.") from None
    return events


def _over_rate(user_id: int) -> bool:
    key = f"analytics:beacon:{user_id}:{int(time.time() // 60)}"
    cache.add(key, 0, timeout=120)
    try:
        return cache.incr(key) > BEACON_PER_MINUTE
    except ValueError:  # expired between add and incr: a new minute
        return False


def _opens(user, course_id: int, lesson_ids: set[int]) -> bool:
    """The learner is enrolled in the course (opening status) and the lessons are in it."""
    course = Course.objects.filter(pk=course_id, published_revision__isnull=False).first()
    if course is None:
        return False
    enrollment = Enrollment.objects.filter(user=user, course=course).only("status").first()
    if enrollment is None or not enrollment.opens_lessons:
        return False
    known = set(outline_for(course).by_id)
    return lesson_ids <= known


@require_POST
def beacon(request: HttpRequest) -> JsonResponse:
    """Batched `video.progress` / `lesson.viewed` from the player: {"events": [{type, course_id, ...}]}.

    The user and the tenant are the request's, never the body's. Events about a course the
    learner is not enrolled in (staff, previews) are accepted and dropped: nothing to learn
    from them. Bad input is refused as a whole with a 4xx and a sentence.
    """
    if not request.user.is_authenticated:
        return _error("Sign in to send learning events.", 403)
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length > BEACON_MAX_BYTES or len(request.body) > BEACON_MAX_BYTES:
        return _error(f"The body is larger than {BEACON_MAX_BYTES} bytes.", 413)
    if _over_rate(request.user.pk):
        return _error("Too many events; try again in a minute.", 429)
    try:
        events = _clean(_events_from(request))
    except ValueError as exc:  # InvalidEvent and JSON errors alike
        message = str(exc) if isinstance(exc, InvalidEvent) else "'events' must be JSON."
        return _error(message, 400)
    by_course: dict[int, set[int]] = {}
    for _, payload in events:
        by_course.setdefault(payload["course_id"], set()).add(payload["lesson_id"])
    allowed = {
        course_id for course_id, lessons in by_course.items() if _opens(request.user, course_id, lessons)
    }
    batch = [(t, request.user.pk, p) for t, p in events if p["course_id"] in allowed]
    accepted = track_many(batch) if batch else 0
    return JsonResponse({"accepted": accepted, "ignored": len(events) - len(batch)}, status=202)


# --- dashboards -------------------------------------------------------------------------
CSV_TABLES = {
    "daily": "Daily activity",
    "lessons": "Lesson funnel",
    "questions": "Quiz items",
    "at-risk": "Learners at risk",
}


def _csv(filename: str, header: list[str], rows: Iterable[Iterable[object]]) -> HttpResponse:
    return csv_response(filename=filename, header=header, rows=rows)


def _daily_rows(daily: dict) -> list[list]:
    return [
        [day, daily["active_learners"][n], daily["new_enrollments"][n], daily["lesson_completions"][n],
         daily["course_completions"][n], daily["minutes_watched"][n]]
        for n, day in enumerate(daily["days"])
    ]  # fmt: skip


@login_required
def dashboard_index(request: HttpRequest) -> HttpResponse:
    """Tenant admins: the overview of every course. Instructors: the courses they teach."""
    if not may_use_admin(request.user):
        raise Http404("No such page.")
    courses = courses_for_reports(user=request.user)
    if not is_tenant_admin(request.user):
        return render(request, "analytics/index.html", {"courses": courses, "overview": None})
    form, period = period_from(request)
    overview = tenant_overview(period=period)
    if request.GET.get("export") == "courses":
        return _csv(
            f"courses-{period.start}-{period.end}.csv",
            ["course", "enrollments", "completions", "completion rate %"],
            [
                [c["title"], c["enrollments"], c["completions"], c["completion_rate"]]
                for c in overview["courses"]
            ],
        )
    if request.GET.get("export") == "active":
        return _csv(
            f"active-learners-{period.start}-{period.end}.csv",
            ["day", "active learners"],
            list(zip(overview["days"], overview["active_learners"], strict=True)),
        )
    if request.GET.get("format") == "json":
        return JsonResponse({"days": overview["days"], "active_learners": overview["active_learners"]})
    has_data = any(overview["active_learners"]) or any(c["enrollments"] for c in overview["courses"])
    return render(
        request,
        "analytics/index.html",
        {
            "courses": courses,
            "overview": overview,
            "has_data": has_data,
            "form": form,
            "period": period,
            "chart": {"days": overview["days"], "active_learners": overview["active_learners"]},
        },
    )


@login_required
def course_dashboard(request: HttpRequest, course_id: int) -> HttpResponse:
    """One course's reports for its staff; a course the person may not see is a 404."""
    course = course_get_for_reports(user=request.user, course_id=course_id)
    form, period = period_from(request)
    daily = course_daily(course=course, period=period)
    export = request.GET.get("export")
    if export is not None:
        if export not in CSV_TABLES:
            return _error(f"Unknown table '{export}'; choose one of {', '.join(CSV_TABLES)}.", 400)
        name = f"{course.slug}-{export}-{period.start}-{period.end}.csv"
        if export == "daily":
            header = ["day", "active learners", "new enrollments", "lesson completions", "course completions",
                      "minutes watched"]  # fmt: skip
            return _csv(name, header, _daily_rows(daily))
        if export == "lessons":
            return _csv(
                name,
                ["lesson", "viewers", "completions", "average watch %", "drop-off %"],
                [
                    [r["title"], r["viewers"], r["completions"], r["watch_percent"], r["drop_off_percent"]]
                    for r in lesson_funnel(course=course)
                ],
            )
        if export == "questions":
            return _csv(
                name,
                ["question id", "quiz id", "attempts", "% correct", "average points"],
                [
                    [
                        r["question_id"],
                        r["assessment_id"],
                        r["attempts"],
                        r["percent_correct"],
                        r["average_points"],
                    ]
                    for r in question_table(course=course)
                ],
            )
        return _csv(
            name,
            ["learner", "e-mail", "last active", "days inactive", "progress %"],
            [
                [
                    r["name"],
                    r["email"],
                    r["last_active"].isoformat(),
                    r["days_inactive"],
                    r["progress_percent"],
                ]
                for r in learners_at_risk(course=course)
            ],
        )
    chart = {
        key: daily[key] for key in ("days", "active_learners", "lesson_completions", "course_completions")
    }
    if request.GET.get("format") == "json":
        return JsonResponse(chart)
    funnel = lesson_funnel(course=course)
    return render(
        request,
        "analytics/course.html",
        {
            "course": course,
            "form": form,
            "period": period,
            "daily": daily,
            "funnel": funnel,
            "questions": question_table(course=course),
            "at_risk": learners_at_risk(course=course),
            "at_risk_days": AT_RISK_DAYS,
            "chart": chart,
            "funnel_chart": {
                "labels": [r["title"] for r in funnel],
                "viewers": [r["viewers"] for r in funnel],
            },
            "has_activity": any(daily["active_learners"]) or any(daily["new_enrollments"]),
            "tables": CSV_TABLES,
        },
    )
