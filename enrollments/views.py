"""Learner pages: a course's landing page and enrolling, my learning, the lesson player, progress.

Views are thin: every read is a selector, every write a service, every "may they?" a
decision of `enrollments.access`.
"""

from __future__ import annotations

import math
from typing import TypeGuard

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from core.http import json_body
from core.urls import reverse_memo
from courses.markdown import render_markdown
from courses.models import SELF_COMPLETED_KINDS, Category, LessonKind
from courses.selectors import course_get_published, course_teachers, outline_for

from .access import access_lesson, enrollment_decision, is_course_staff, locked_lessons
from .models import Enrollment, EnrollmentStatus
from .selectors import (
    LessonPage,
    completed_lesson_ids,
    continue_lesson_id,
    enrollment_get,
    first_locked,
    lesson_page_get,
    my_enrollments,
    open_neighbour,
)
from .services import EnrollmentError, enrollment_create, lesson_complete, lesson_open, video_progress_record

# A heartbeat is three numbers; anything much larger is not one.
MAX_PROGRESS_BODY_BYTES = 2048
MAX_MEDIA_SECONDS = 10 * 24 * 3600


def _opens_lessons(enrollment: Enrollment | None) -> TypeGuard[Enrollment]:
    return enrollment is not None and enrollment.opens_lessons


def _lesson_url(slug: str, lesson_id: int) -> str:
    return reverse("enrollments:lesson", kwargs={"slug": slug, "lesson_id": lesson_id})


# --- Landing page and enrolling (URL names courses:detail and courses:enroll) ---------------


@login_required
def course_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """A published course's landing page, with the action the access policy allows."""
    course = course_get_published(slug=slug)
    outline = outline_for(course)
    user = request.user
    enrollment = enrollment_get(user=user, course=course)
    enrolled = _opens_lessons(enrollment)
    completed = completed_lesson_ids(user=user, course=course) if enrolled else set()
    category_id = course.published_revision.card.get("category_id")
    return render(
        request,
        "courses/detail.html",
        {
            "preview": False,
            "course": course,
            "info": outline.course,
            "outline": outline,
            "description_html": render_markdown(outline.course.description),
            "instructors": course_teachers(course),
            "category": Category.objects.alive().filter(pk=category_id).first() if category_id else None,
            "total_minutes": sum(lesson.duration_minutes for lesson in outline.lessons),
            "enrollment": enrollment,
            "enrolled": enrolled,
            "decision": enrollment_decision(user=user, course=course, enrollment=enrollment),
            "staff": is_course_staff(user, course),
            "completed": completed,
            "started": _opens_lessons(enrollment) and bool(completed or enrollment.last_lesson_id),
            "locked": locked_lessons(
                user=user, course=course, outline=outline, enrollment=enrollment, completed=completed
            ),
            "first_lesson": outline.lessons[0] if outline.lessons else None,
        },
    )


@require_POST
def course_enroll(request: HttpRequest, slug: str) -> HttpResponse:
    """Enroll in an open course or ask to join an approval course; refusals say why."""
    course = course_get_published(slug=slug)
    landing = reverse("courses:detail", kwargs={"slug": course.slug})
    if not request.user.is_authenticated:
        return redirect_to_login(landing)
    try:
        enrollment = enrollment_create(user=request.user, course=course)
    except EnrollmentError as exc:
        if _opens_lessons(enrollment_get(user=request.user, course=course)):  # a second click
            return redirect("enrollments:continue", slug=course.slug)
        messages.error(request, str(exc))
        return redirect(landing)
    title = course.published_revision.card.get("title", course.title)
    if enrollment.status == EnrollmentStatus.PENDING:
        messages.success(
            request, f"Your request to join {title} was sent. You can start once it is approved."
        )
        return redirect(landing)
    messages.success(request, f"You are enrolled in {title}. Enjoy the course!")
    outline = outline_for(course)
    return redirect(_lesson_url(course.slug, outline.lessons[0].id) if outline.lessons else landing)


# --- My learning ---------------------------------------------------------------------------


@login_required
def my_learning(request: HttpRequest) -> HttpResponse:
    enrollments = my_enrollments(user=request.user)
    active = [e for e in enrollments if e.status == EnrollmentStatus.ACTIVE]
    resume = active[0] if active else None  # most recently active first
    resume_lesson = resume_waiting = None
    if resume is not None:
        # The lesson the Continue button will open, so the card names the same one.
        outline = outline_for(resume.course)
        completed = completed_lesson_ids(user=request.user, course=resume.course)
        locked = locked_lessons(
            user=request.user, course=resume.course, outline=outline, enrollment=resume, completed=completed
        )
        lesson_id = continue_lesson_id(outline=outline, enrollment=resume, completed=completed, locked=locked)
        resume_lesson = outline.by_id.get(lesson_id) if lesson_id else None
        if resume_lesson is None:
            resume_waiting = first_locked(outline=outline, completed=completed, locked=locked)
    return render(
        request,
        "enrollments/my_learning.html",
        {
            "enrollments": enrollments,
            "active": active,
            "pending": [e for e in enrollments if e.status == EnrollmentStatus.PENDING],
            "completed": [e for e in enrollments if e.status == EnrollmentStatus.COMPLETED],
            "resume": resume,
            "resume_lesson": resume_lesson,
            "resume_waiting": resume_waiting,
        },
    )


@login_required
def lesson_continue(request: HttpRequest, slug: str) -> HttpResponse:
    """Go to the lesson the learner should open next (the last one if unfinished)."""
    course = course_get_published(slug=slug)
    enrollment = enrollment_get(user=request.user, course=course)
    if not _opens_lessons(enrollment) and not is_course_staff(request.user, course):
        return redirect("courses:detail", slug=course.slug)
    outline = outline_for(course)
    completed = completed_lesson_ids(user=request.user, course=course)
    locked = locked_lessons(
        user=request.user, course=course, outline=outline, enrollment=enrollment, completed=completed
    )
    lesson_id = continue_lesson_id(outline=outline, enrollment=enrollment, completed=completed, locked=locked)
    if lesson_id is None:
        waiting = first_locked(outline=outline, completed=completed, locked=locked)
        if waiting is not None:
            lesson, gate = waiting
            messages.info(request, f"You have done every lesson open to you. '{lesson.title}': {gate.reason}")
        return redirect("courses:detail", slug=course.slug)
    return redirect(_lesson_url(course.slug, lesson_id))


# --- The lesson player ---------------------------------------------------------------------


def _locked(request: HttpRequest, page: LessonPage, reason: str, action: str) -> HttpResponse:
    """The lock page: why, what to do first (linked), when it opens, and where to go meanwhile."""
    outline, decision = page.outline, page.decision
    first = [outline.by_id[pid] for pid in decision.requires if pid in outline.by_id]
    meanwhile = None
    if _opens_lessons(page.enrollment):
        target = continue_lesson_id(
            outline=outline, enrollment=page.enrollment, completed=page.completed, locked=page.locked
        )
        if target is not None and target != page.lesson.id and target not in {p.id for p in first}:
            meanwhile = outline.by_id[target]
    return render(
        request,
        "enrollments/lesson_locked.html",
        {
            "course": page.course,
            "info": outline.course,
            "lesson": page.lesson,
            "reason": reason,
            "action": action,
            "opens_at": decision.opens_at if not decision.allowed else None,
            "first": first,
            "completed": page.completed,
            "meanwhile": meanwhile,
        },
        status=403,
    )


@login_required
def lesson_detail(request: HttpRequest, slug: str, lesson_id: int) -> HttpResponse:
    """The lesson player. 404 for a lesson outside this published course; 403 with the reason if locked."""
    page = lesson_page_get(user=request.user, course_slug=slug, lesson_id=lesson_id)
    if not page.decision.allowed:
        return _locked(request, page, page.decision.reason, page.decision.action)
    user, course, lesson = request.user, page.course, page.lesson
    try:
        progress = lesson_open(
            user=user,
            course=course,
            lesson_id=lesson.id,
            enrollment=page.enrollment,
            progress=page.progress,
            access=page.access,
        )
    except EnrollmentError as exc:  # access changed between the two reads
        return _locked(request, page, str(exc), "")
    enrolled = _opens_lessons(page.enrollment)
    staff = page.staff
    required = page.outline.required_ids
    done = sum(1 for required_id in required if required_id in page.completed)
    # The same arithmetic the services use for enrollment.progress_percent; page.enrollment
    # was read before lesson_open recomputed it.
    percent = round(100 * done / len(required)) if required else 100
    course_completed = _opens_lessons(page.enrollment) and (
        page.enrollment.status == EnrollmentStatus.COMPLETED or (bool(required) and done == len(required))
    )
    is_video = lesson.kind == LessonKind.VIDEO
    prefix = reverse_memo("enrollments:lesson", course.slug, 0)[: -len("0/")]
    urls = {
        "detail": reverse_memo("courses:detail", course.slug),
        "complete": reverse_memo("enrollments:complete", course.slug, lesson.id),
        "previous": f"{prefix}{page.previous.id}/" if page.previous else "",
        "next": f"{prefix}{page.next.id}/" if page.next else "",
    }
    return render(
        request,
        "courses/lesson.html",
        {
            "preview": False,
            "urls": urls,
            "course": course,
            "info": page.outline.course,
            "outline": page.outline,
            "lesson": lesson,
            "previous": page.previous,
            "next": page.next,
            "completed": page.completed,
            "enrollment": page.enrollment,
            "enrolled": enrolled,
            "staff": staff,
            "enrolled_or_staff": enrolled or staff,
            "locked": page.locked,
            "next_locked": page.next_locked,
            "percent": percent,
            "is_complete": lesson.id in page.completed,
            "can_complete": enrolled and lesson.kind in SELF_COMPLETED_KINDS,
            "track_video": enrolled and is_video,
            "resume": progress.last_position_seconds if (progress and is_video and enrolled) else 0,
            "course_completed": course_completed,
            "enroll_offer": None
            if (enrolled or staff)
            else enrollment_decision(user=user, course=course, enrollment=page.enrollment),
        },
    )


@require_POST
def lesson_complete_view(request: HttpRequest, slug: str, lesson_id: int) -> HttpResponse:
    """Mark a text, document or external-video lesson done, then go on to the next lesson."""
    course = course_get_published(slug=slug)
    outline = outline_for(course)
    lesson = outline.lesson(lesson_id)
    here = _lesson_url(course.slug, lesson.id)
    if not request.user.is_authenticated:
        return redirect_to_login(here)
    before = enrollment_get(user=request.user, course=course)
    try:
        lesson_complete(user=request.user, course=course, lesson_id=lesson.id)
    except EnrollmentError as exc:
        messages.error(request, str(exc))
        return redirect(here)
    after = enrollment_get(user=request.user, course=course)
    was_completed = before is not None and before.status == EnrollmentStatus.COMPLETED
    if after is not None and after.status == EnrollmentStatus.COMPLETED and not was_completed:
        title = outline.course.title
        messages.success(request, f"Congratulations! You have completed {title}.")
        return redirect(here)
    # On to the next lesson the learner may open now (this completion may have unlocked some).
    completed = completed_lesson_ids(user=request.user, course=course)
    locked = locked_lessons(
        user=request.user, course=course, outline=outline, enrollment=after, completed=completed
    )
    following = open_neighbour(outline=outline, lesson_id=lesson.id, locked=locked, step=1)
    _, right_after = outline.neighbours(lesson.id)
    note = ""
    if right_after is not None and right_after.id in locked:
        note = f" '{right_after.title}': {locked[right_after.id].reason}"
    messages.success(request, f"Lesson completed: {lesson.title}.{note}")
    return redirect(_lesson_url(course.slug, following.id) if following else here)


def _json_error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _seconds(data: dict, key: str) -> float | None:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value) or not 0 <= value <= MAX_MEDIA_SECONDS:
        return None
    return float(value)


@require_POST
def video_progress(request: HttpRequest, slug: str, lesson_id: int) -> JsonResponse:
    """A player heartbeat: {"position", "duration", "watched"} in seconds -> the new progress."""
    if not request.user.is_authenticated:
        return _json_error("Sign in to record your progress.", 403)
    # What the URL names first: another tenant's or an unknown lesson is 404 whatever the body.
    try:
        door = access_lesson(user=request.user, course_slug=slug, lesson_id=lesson_id)
    except Http404:
        return _json_error("No such lesson.", 404)
    course, lesson = door.course, door.lesson
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_PROGRESS_BODY_BYTES or len(request.body) > MAX_PROGRESS_BODY_BYTES:
        return _json_error(f"The body is larger than {MAX_PROGRESS_BODY_BYTES} bytes.", 413)
    data = json_body(request, max_bytes=MAX_PROGRESS_BODY_BYTES)
    if not isinstance(data, dict):
        return _json_error("The body must be a JSON object.", 400)
    values = {}
    for key in ("position", "duration", "watched"):
        values[key] = _seconds(data, key)
        if values[key] is None:
            return _json_error(f"'{key}' must be a number of seconds.", 400)
    enrollment, decision = door.enrollment, door.decision
    if not decision.allowed:
        return _json_error(decision.reason, 403)
    try:
        progress = video_progress_record(
            user=request.user,
            course=course,
            lesson_id=lesson.id,
            position=values["position"],
            duration=values["duration"],
            watched_seconds=values["watched"],
        )
    except EnrollmentError as exc:
        return _json_error(str(exc), 400)
    if _opens_lessons(enrollment):
        enrollment = enrollment_get(user=request.user, course=course)
    return JsonResponse(
        {
            "percent": progress.percent,
            "status": progress.status,
            "course_percent": enrollment.progress_percent if _opens_lessons(enrollment) else None,
        }
    )
