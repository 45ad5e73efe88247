"""The course builder: one page per course, and the endpoints its htmx requests call (ADR 0205).

Every view asks the one door (`access_course_as_staff`) first: someone not on the course's
staff gets the site's 404, like for a course of another tenant. Every write is one of
`courses.services`, which check the actor again, audit and run atomically; the builder
writes nothing itself. Each endpoint answers with the re-rendered tree (or, without htmx,
a redirect back to the page), and a refusal (`DomainError`) becomes the same tree with the
refusal's sentence on top and the refusal's status, nothing changed.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from core.errors import DomainError, Forbidden, InvalidRequest, NotFound
from courses.models import Course, Lesson, LessonKind, Module
from courses.services import (
    lesson_create,
    lesson_delete,
    lesson_move,
    lesson_reorder,
    lesson_restore,
    lesson_update,
    module_create,
    module_delete,
    module_reorder,
    module_restore,
    module_update,
)
from enrollments.access import access_course_as_staff

from .selectors import curriculum_tree

#: The largest id PostgreSQL's integer columns hold; a larger number names no row.
MAX_ID = 2**31 - 1


def _course(request: HttpRequest, slug: str) -> tuple[Course, bool]:
    """The course and whether the person may change it (assistants see it read only)."""
    try:
        return access_course_as_staff(user=request.user, slug=slug, need="edit"), True
    except Forbidden:
        return access_course_as_staff(user=request.user, slug=slug, need="view"), False


def _ids(request: HttpRequest, name: str, *, what: str) -> list[int]:
    """Ids posted as repeated fields or comma-separated, in order; not numbers is a 400."""
    raw = [part.strip() for value in request.POST.getlist(name) for part in value.split(",")]
    raw = [part for part in raw if part]
    if not all(part.isascii() and part.isdigit() for part in raw):
        raise InvalidRequest(f"Give the {what} ids as numbers.", field=name)
    ids = [int(part) for part in raw]
    if any(pk > MAX_ID for pk in ids):
        raise NotFound(f"No such {what} here.")
    return ids


def _module(course: Course, module_id: int) -> Module:
    module = Module.objects.select_related("course").filter(course=course, pk=module_id).first()
    if module is None:
        raise NotFound("No such module here.")
    return module


def _lesson(course: Course, lesson_id: int) -> Lesson:
    lesson = (
        Lesson.objects.select_related("module__course").filter(module__course=course, pk=lesson_id).first()
    )
    if lesson is None:
        raise NotFound("No such lesson here.")
    return lesson


def _context(course: Course, *, can_edit: bool) -> dict:
    return {
        "course": course,
        "tree": curriculum_tree(course),
        "can_edit": can_edit,
        "kinds": LessonKind.choices,
    }


@require_GET
@login_required
def builder_page(request: HttpRequest, slug: str) -> HttpResponse:
    course, can_edit = _course(request, slug)
    response = render(request, "builder/page.html", _context(course, can_edit=can_edit))
    response["Cache-Control"] = "private, no-store"
    return response


def _tree_response(
    request: HttpRequest,
    course: Course,
    *,
    can_edit: bool,
    error: DomainError | None = None,
    announce: str = "",
    focus: str = "",
) -> HttpResponse:
    if not request.headers.get("HX-Request"):
        # Without JavaScript the forms post here too: show the page again (with the refusal).
        if error is None:
            return HttpResponseRedirect(reverse("builder:page", args=[course.slug]))
        template = "builder/page.html"
    else:
        template = "builder/_tree.html"
    context = _context(course, can_edit=can_edit) | {"error": error, "announce": announce, "focus": focus}
    response = render(request, template, context, status=error.status if error else 200)
    response["Cache-Control"] = "private, no-store"
    # The page's script swaps only answers that carry this header (not a sign-in page or a 404 page).
    response["X-Builder-Tree"] = "1"
    return response


def _write(request: HttpRequest, slug: str, change: Callable[[Course], tuple[str, str]]) -> HttpResponse:
    """Run `change` (returning the sentence to announce and the row to focus) as an editor."""
    course, can_edit = _course(request, slug)
    try:
        if not can_edit:
            # The door's own refusal, with its sentence.
            access_course_as_staff(user=request.user, slug=slug, need="edit")
        # One transaction for a change made of several service calls (a move and a reorder).
        with transaction.atomic():
            announce, focus = change(course)
    except DomainError as error:
        return _tree_response(request, course, can_edit=can_edit, error=error)
    return _tree_response(request, course, can_edit=can_edit, announce=announce, focus=focus)


# --- modules ---------------------------------------------------------------------------


@require_POST
def module_add(request: HttpRequest, slug: str) -> HttpResponse:
    def change(course: Course) -> tuple[str, str]:
        module = module_create(actor=request.user, course=course, title=request.POST.get("title", ""))
        return f"Module “{module.title}” added.", f"module-{module.pk}"

    return _write(request, slug, change)


@require_POST
def module_order(request: HttpRequest, slug: str) -> HttpResponse:
    def change(course: Course) -> tuple[str, str]:
        ids = _ids(request, "module_ids", what="module")
        module_reorder(actor=request.user, course=course, module_ids=ids)
        return "", ""

    return _write(request, slug, change)


@require_POST
def module_rename(request: HttpRequest, slug: str, module_id: int) -> HttpResponse:
    def change(course: Course) -> tuple[str, str]:
        module = module_update(actor=request.user, module=_module(course, module_id), title=_title(request))
        return f"Module renamed to “{module.title}”.", f"module-{module.pk}"

    return _write(request, slug, change)


@require_POST
def module_archive(request: HttpRequest, slug: str, module_id: int) -> HttpResponse:
    def change(course: Course) -> tuple[str, str]:
        module = module_delete(actor=request.user, module=_module(course, module_id))
        return f"Module “{module.title}” archived. Restore it from Archived.", f"module-{module.pk}"

    return _write(request, slug, change)


@require_POST
def module_unarchive(request: HttpRequest, slug: str, module_id: int) -> HttpResponse:
    def change(course: Course) -> tuple[str, str]:
        module = module_restore(actor=request.user, module=_module(course, module_id))
        return f"Module “{module.title}” restored at the end of the curriculum.", f"module-{module.pk}"

    return _write(request, slug, change)


# --- lessons ---------------------------------------------------------------------------


def _title(request: HttpRequest) -> str:
    # The services refuse an empty title with their own sentence; strip here so "  " is empty.
    return request.POST.get("title", "").strip()


@require_POST
def lesson_add(request: HttpRequest, slug: str, module_id: int) -> HttpResponse:
    def change(course: Course) -> tuple[str, str]:
        module = _module(course, module_id)
        kind = request.POST.get("kind") or LessonKind.TEXT
        lesson = lesson_create(
            actor=request.user, module=module, title=request.POST.get("title", ""), kind=kind
        )
        return f"Lesson “{lesson.title}” added to “{module.title}”.", f"lesson-{lesson.pk}"

    return _write(request, slug, change)


@require_POST
def lesson_order(request: HttpRequest, slug: str, module_id: int) -> HttpResponse:
    """The module's lessons in the posted order; a lesson of another module of the course moves here."""

    def change(course: Course) -> tuple[str, str]:
        module = _module(course, module_id)
        ids = _ids(request, "lesson_ids", what="lesson")
        arriving = (
            Lesson.objects.alive()
            .select_related("module__course")
            .filter(module__course=course, module__deleted_at__isnull=True, pk__in=ids)
            .exclude(module=module)
        )
        for lesson in arriving:
            lesson_move(actor=request.user, lesson=lesson, module=module)
        lesson_reorder(actor=request.user, module=module, lesson_ids=ids)
        return "", ""

    return _write(request, slug, change)


@require_POST
def lesson_rename(request: HttpRequest, slug: str, lesson_id: int) -> HttpResponse:
    def change(course: Course) -> tuple[str, str]:
        lesson = lesson_update(actor=request.user, lesson=_lesson(course, lesson_id), title=_title(request))
        return f"Lesson renamed to “{lesson.title}”.", f"lesson-{lesson.pk}"

    return _write(request, slug, change)


@require_POST
def lesson_archive(request: HttpRequest, slug: str, lesson_id: int) -> HttpResponse:
    def change(course: Course) -> tuple[str, str]:
        lesson = lesson_delete(actor=request.user, lesson=_lesson(course, lesson_id))
        return f"Lesson “{lesson.title}” archived. Restore it below its module.", f"lesson-{lesson.pk}"

    return _write(request, slug, change)


@require_POST
def lesson_unarchive(request: HttpRequest, slug: str, lesson_id: int) -> HttpResponse:
    def change(course: Course) -> tuple[str, str]:
        lesson = lesson_restore(actor=request.user, lesson=_lesson(course, lesson_id))
        return (
            f"Lesson “{lesson.title}” restored at the end of “{lesson.module.title}”.",
            f"lesson-{lesson.pk}",
        )

    return _write(request, slug, change)
