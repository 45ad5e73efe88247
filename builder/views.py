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
from django.utils import timezone
from django.utils.timesince import timesince
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import DomainError, Forbidden, InvalidRequest, NotFound
from courses.models import Course, Lesson, LessonKind, Module
from courses.services import (
    LessonChanged,
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

from .forms import LessonEditForm
from .selectors import curriculum_tree, lesson_last_change

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
    context = _context(course, can_edit=can_edit)
    # ?lesson=<id> opens its editor beside the tree: the row's link without JavaScript.
    wanted = request.GET.get("lesson", "")
    if wanted.isascii() and wanted.isdigit() and int(wanted) <= MAX_ID:
        lesson = _lesson(course, int(wanted))
        context["editor"] = _editor(lesson, can_edit=can_edit, form=_loaded_form(lesson))
    response = render(request, "builder/page.html", context)
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


# --- the lesson editor beside the tree ------------------------------------------------


def _ago(moment) -> str:
    seconds = (timezone.now() - moment).total_seconds()
    return "just now" if seconds < 60 else f"{timesince(moment)} ago"


def _loaded_form(lesson: Lesson) -> LessonEditForm:
    initial = {name: getattr(lesson, name) for name in LessonEditForm.LESSON_FIELDS}
    return LessonEditForm(initial=initial | {"version": lesson.version})


def _editor(
    lesson: Lesson,
    *,
    can_edit: bool,
    form: LessonEditForm,
    state: str = "",
    error: str = "",
    conflict: dict | None = None,
) -> dict:
    has_body = lesson.kind == LessonKind.TEXT
    names = [name for name in LessonEditForm.LESSON_FIELDS if has_body or name != "body"]
    return {
        "lesson": lesson,
        "form": form,
        "can_edit": can_edit and not lesson.is_deleted,
        "has_body": has_body,
        "field_errors": [(name, form.errors.get(name, [])) for name in names],
        "state": state,
        "error": error,
        "conflict": conflict,
    }


def _editor_response(
    request: HttpRequest, course: Course, editor: dict, *, status: int = 200
) -> HttpResponse:
    """The panel (a GET), or its changed parts as out-of-band swaps (a save: the form the
    person is typing in is never replaced, so no keystroke is lost); without htmx, the page."""
    if not request.headers.get("HX-Request"):
        if request.method == "POST" and status == 200:
            url = reverse("builder:page", args=[course.slug])
            return HttpResponseRedirect(f"{url}?lesson={editor['lesson'].pk}")
        context = _context(course, can_edit=editor["can_edit"]) | {"editor": editor}
        template = "builder/page.html"
    else:
        context = {"course": course, "editor": editor}
        template = "builder/_editor_saved.html" if request.method == "POST" else "builder/_editor.html"
    response = render(request, template, context, status=status)
    response["Cache-Control"] = "private, no-store"
    # Like the tree's answers: the page swaps a refusal only when it carries this header.
    response["X-Builder-Editor"] = "1"
    return response


@require_http_methods(["GET", "POST"])
def lesson_editor(request: HttpRequest, slug: str, lesson_id: int) -> HttpResponse:
    """The lesson's editor (GET), and its saves (POST, from autosave or Overwrite)."""
    course, can_edit = _course(request, slug)
    lesson = _lesson(course, lesson_id)
    if request.method == "GET":
        return _editor_response(
            request, course, _editor(lesson, can_edit=can_edit, form=_loaded_form(lesson))
        )
    form = LessonEditForm(request.POST)
    if not can_edit:
        try:
            access_course_as_staff(user=request.user, slug=slug, need="edit")
        except Forbidden as refusal:
            editor = _editor(lesson, can_edit=False, form=form, error=refusal.message)
            return _editor_response(request, course, editor, status=refusal.status)
    if not form.is_valid():
        editor = _editor(lesson, can_edit=True, form=form, error="Not saved: correct the fields marked.")
        return _editor_response(request, course, editor, status=400)
    try:
        lesson = lesson_update(
            actor=request.user,
            lesson=lesson,
            version=form.loaded_version(),
            **form.lesson_fields(with_body=lesson.kind == LessonKind.TEXT),
        )
    except LessonChanged as changed:
        change = lesson_last_change(lesson)
        conflict = {"name": change.name, "ago": _ago(change.at), "version": changed.current_version}
        editor = _editor(lesson, can_edit=True, form=form, error=changed.message, conflict=conflict)
        return _editor_response(request, course, editor, status=changed.status)
    except DomainError as error:
        if error.field in form.fields:
            form.add_error(error.field, error.message)
        editor = _editor(lesson, can_edit=True, form=form, error=f"Not saved: {error.message}")
        return _editor_response(request, course, editor, status=error.status)
    editor = _editor(lesson, can_edit=True, form=_loaded_form(lesson), state="saved")
    return _editor_response(request, course, editor)
