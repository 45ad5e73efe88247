"""Catalog, course detail with outline, enrolling, my learning, lessons and progress.

The same selectors, door and services as the learner pages: nothing here decides access.
"""

from __future__ import annotations

import math

from django.core.files.storage import default_storage
from django.http import HttpRequest
from django.urls import reverse
from ninja import Query, Router, Status

from core.errors import InvalidRequest
from courses.models import Category
from courses.selectors import catalog_courses, course_teachers
from enrollments.access import access_course_as_learner, access_lesson, locked_lessons
from enrollments.models import Enrollment
from enrollments.selectors import completed_lesson_ids, enrollment_get, my_enrollments
from enrollments.services import enrollment_create, lesson_complete, video_progress_record
from media_delivery.selectors import lesson_asset

from ..gate import need
from ..pagination import DEFAULT_LIMIT, page_of
from .base import PROBLEMS
from .schemas import (
    CourseDetail,
    CoursePage,
    EnrollmentOut,
    EnrollmentPage,
    LessonContent,
    ProgressOut,
    VideoProgressIn,
)

router = Router(tags=["learning"])
MAX_MEDIA_SECONDS = 10 * 24 * 3600
_SLUG_MARK = "slug-placeholder"


def _card(course, landing: str | None = None) -> dict:
    card = course.published_revision.card
    return {
        "slug": course.slug,
        "title": card.get("title", course.title),
        "summary": card.get("summary", ""),
        "level": card.get("level", ""),
        "enrollment_policy": card.get("enrollment_policy", ""),
        "category_id": card.get("category_id"),
        "modules": card.get("modules", 0),
        "lessons": card.get("lessons", 0),
        "minutes": card.get("minutes", 0),
        "cover_url": default_storage.url(card["cover"]) if card.get("cover") else "",
        "url": landing.replace(_SLUG_MARK, course.slug)
        if landing
        else reverse("courses:detail", kwargs={"slug": course.slug}),
    }


def _enrollment(enrollment: Enrollment | None, slug: str) -> dict | None:
    if enrollment is None:
        return None
    return {
        "course": slug,
        "status": enrollment.status,
        "progress_percent": enrollment.progress_percent,
        "enrolled_at": enrollment.enrolled_at,
        "completed_at": enrollment.completed_at,
        "last_activity_at": enrollment.last_activity_at,
        "access_ends_at": enrollment.access_ends_at,
    }


@router.get("/courses", response={200: CoursePage, **PROBLEMS}, summary="The catalog")
def course_list(
    request: HttpRequest,
    q: str = "",
    category: int | None = None,
    cursor: str | None = None,
    limit: int = Query(DEFAULT_LIMIT),
):
    """Published courses, by title; `q` searches titles and summaries, `category` a category id."""
    need(request, "catalog:read")
    chosen = None
    if category is not None:
        chosen = Category.objects.alive().filter(pk=category).first()
        if chosen is None:
            return {"items": [], "next_cursor": None}  # a filter that matches nothing
    courses = catalog_courses(category=chosen, query=q)
    items, next_cursor = page_of(
        courses, key=lambda c: (c.published_revision.card.get("title", ""), c.pk), cursor=cursor, limit=limit
    )
    landing = reverse("courses:detail", kwargs={"slug": _SLUG_MARK})  # once, not once per card
    return {"items": [_card(c, landing) for c in items], "next_cursor": next_cursor}


@router.get("/courses/{slug}", response={200: CourseDetail, **PROBLEMS}, summary="A course and its outline")
def course_detail(request: HttpRequest, slug: str):
    """The published course with its modules and lessons, and what the caller may do with it."""
    need(request, "catalog:read")
    door = access_course_as_learner(user=request.user, slug=slug)
    course, outline, enrollment = door.course, door.outline, door.enrollment
    completed = completed_lesson_ids(user=request.user, course=course) if enrollment else set()
    locked = locked_lessons(
        user=request.user, course=course, outline=outline, enrollment=enrollment, completed=completed
    )
    opens = enrollment is not None and enrollment.opens_lessons
    modules = []
    for module in outline.modules:
        lessons = []
        for lesson in module.lessons:
            gate = locked.get(lesson.id)
            closed = gate is not None or (not opens and not lesson.is_preview)
            lessons.append(
                {
                    "id": lesson.id,
                    "title": lesson.title,
                    "kind": lesson.kind.value,
                    "duration_minutes": lesson.duration_minutes,
                    "is_preview": lesson.is_preview,
                    "is_required": lesson.is_required,
                    "completed": lesson.id in completed,
                    "locked": closed,
                    "locked_reason": gate.reason
                    if gate is not None
                    else (
                        ""
                        if not closed
                        else door.decision.reason or "Enroll in this course to open this lesson."
                    ),
                    "opens_at": gate.opens_at if gate is not None else None,
                }
            )
        modules.append(
            {
                "id": module.id,
                "title": module.title,
                "summary": module.summary,
                "lessons": lessons,
            }
        )
    return {
        **_card(course),
        "description": outline.course.description,
        "teachers": [teacher.get_full_name() for teacher in course_teachers(course)],
        "outline": modules,
        "enrollment": _enrollment(enrollment, course.slug),
        "can_enroll": door.decision.allowed,
        "enroll_reason": door.decision.reason,
    }


@router.post(
    "/courses/{slug}/enrollment", response={201: EnrollmentOut, **PROBLEMS}, summary="Enroll, or ask to join"
)
def course_enroll(request: HttpRequest, slug: str):
    """Enroll in an open course, or ask to join one that needs approval (status `pending`)."""
    need(request, "learning:write")
    door = access_course_as_learner(user=request.user, slug=slug)
    enrollment = enrollment_create(user=request.user, course=door.course)
    return Status(201, _enrollment(enrollment, door.course.slug))


@router.get("/me/enrollments", response={200: EnrollmentPage, **PROBLEMS}, summary="My learning")
def my_learning(request: HttpRequest, cursor: str | None = None, limit: int = Query(DEFAULT_LIMIT)):
    """The caller's enrollments, most recently active first."""
    need(request, "learning:read")
    rows = sorted(my_enrollments(user=request.user), key=lambda e: e.pk, reverse=True)
    items, next_cursor = page_of(rows, key=lambda e: (-e.pk,), cursor=cursor, limit=limit)
    return {"items": [_enrollment(e, e.course.slug) for e in items], "next_cursor": next_cursor}


@router.get(
    "/courses/{slug}/lessons/{lesson_id}",
    response={200: LessonContent, **PROBLEMS},
    summary="A lesson's content",
)
def lesson_detail(request: HttpRequest, slug: str, lesson_id: int):
    """The lesson as its learner sees it: 404 outside this course, 403 with the reason when locked."""
    need(request, "learning:read")
    door = access_lesson(user=request.user, course_slug=slug, lesson_id=lesson_id).require()
    lesson, outline = door.lesson, door.outline
    previous, following = outline.neighbours(lesson.id)
    media_url = None
    kind = lesson.kind
    name = lesson.media_name(kind)  # "" unless a video or document lesson names a file
    if name:
        asset = lesson_asset(name=name)
        media_url = (
            reverse("media:file", kwargs={"asset_id": asset.id}) if asset else default_storage.url(name)
        )
    return {
        "id": lesson.id,
        "course": door.course.slug,
        "module_id": lesson.module_id,
        "module_title": lesson.module_title,
        "title": lesson.title,
        "kind": kind.value,
        "duration_minutes": lesson.duration_minutes,
        "html": lesson.html,
        "media_url": media_url,
        "completed": lesson.id in door.completed,
        "previous_id": previous.id if previous else None,
        "next_id": following.id if following else None,
    }


def _progress(request, door, progress) -> dict:
    enrollment = enrollment_get(user=request.user, course=door.course)
    return {
        "lesson_id": door.lesson.id,
        "status": progress.status,
        "percent": progress.percent,
        "course_percent": enrollment.progress_percent if enrollment else None,
        "course_status": enrollment.status if enrollment else None,
    }


@router.post(
    "/courses/{slug}/lessons/{lesson_id}/complete",
    response={200: ProgressOut, **PROBLEMS},
    summary="Mark a lesson done",
)
def lesson_done(request: HttpRequest, slug: str, lesson_id: int):
    """For text, document and external-video lessons; quizzes and assignments complete when graded."""
    need(request, "learning:write")
    door = access_lesson(user=request.user, course_slug=slug, lesson_id=lesson_id).require()
    progress = lesson_complete(user=request.user, course=door.course, lesson_id=door.lesson.id)
    return _progress(request, door, progress)


@router.post(
    "/courses/{slug}/lessons/{lesson_id}/video-progress",
    response={200: ProgressOut, **PROBLEMS},
    summary="Record video progress",
)
def video_heartbeat(request: HttpRequest, slug: str, lesson_id: int, body: VideoProgressIn):
    """A player heartbeat in seconds: where the learner is, how long the video is, how much was watched."""
    need(request, "learning:write")
    door = access_lesson(user=request.user, course_slug=slug, lesson_id=lesson_id).require()
    for name in ("position", "duration", "watched"):
        value = getattr(body, name)
        if not math.isfinite(value) or not 0 <= value <= MAX_MEDIA_SECONDS:
            raise InvalidRequest(
                f"{name} is a number of seconds between 0 and {MAX_MEDIA_SECONDS}.", field=name
            )
    progress = video_progress_record(
        user=request.user,
        course=door.course,
        lesson_id=door.lesson.id,
        position=body.position,
        duration=body.duration,
        watched_seconds=body.watched,
    )
    return _progress(request, door, progress)
