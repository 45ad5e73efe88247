"""The course builder's own admin views: publish, reorder, add modules, restore, preview Markdown.

Every view is wrapped by the tenant admin site (signed-in staff only, CSRF-protected),
finds its course through `courses_for_staff`, so a course the person may not edit
answers 404 exactly like a course of another tenant, and writes only through
`courses.services`. Who may do what:

- course staff (tenant admins, and instructors of that course): edit, reorder, publish,
  archive and unarchive, restore deleted modules and lessons;
- tenant admins only: delete and restore a course, restore an earlier revision
  (both replace what learners see with something the instructor did not publish).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import HttpResponseBadRequest, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_POST

from .forms import MarkdownPreviewForm, ModuleQuickAddForm, PublishForm
from .markdown import render_markdown
from .models import Course, CourseRevision, CourseStatus, Lesson, Module
from .permissions import courses_visible_to_staff, is_tenant_admin, may_edit
from .services import (
    CourseError,
    course_archive,
    course_publish,
    course_publish_problems,
    course_restore,
    course_unarchive,
    lesson_move,
    lesson_restore,
    module_create,
    module_move,
    module_restore,
    revision_restore,
)
from .snapshots import snapshot_of

DIRECTIONS = ("up", "down")


def builder_url(course_id: int, anchor: str = "") -> str:
    url = reverse("admin:courses_course_change", args=[course_id])
    return f"{url}#{anchor}" if anchor else url


def learner_preview_url(course: Course) -> str | None:
    # The learner-side preview lives in another part of the site; link it only if it exists.
    try:
        return reverse("courses:preview", args=[course.slug])
    except NoReverseMatch:
        return None


def course_status_badge(course: Course, *, unpublished_changes: bool = False) -> dict:
    """What the status badge says: a label, a CSS modifier, and whether the draft moved on."""
    if course.is_deleted:
        label, tone = "Deleted", "deleted"
    elif course.status == CourseStatus.PUBLISHED and course.published_revision_id:
        label, tone = f"Published r{course.published_revision.number}", "published"
    elif course.status == CourseStatus.ARCHIVED:
        label, tone = "Archived", "archived"
    else:
        label, tone = "Draft", "draft"
    return {"label": label, "tone": tone, "unpublished_changes": unpublished_changes}


class CourseBuilderViews:
    """Mixed into CourseAdmin: the builder's context and its POST endpoints."""

    # What the ModelAdmin it is mixed into provides (declared for mypy; nothing is assigned).
    admin_site: Any
    opts: Any
    has_change_permission: Callable[..., bool]
    log_addition: Callable[..., Any]
    log_change: Callable[..., Any]

    def get_urls(self):
        def wrap(view):
            return self.admin_site.admin_view(view)

        name = "courses_course_"
        return [
            path("markdown-preview/", wrap(self.markdown_preview_view), name=name + "markdown_preview"),
            path("<int:course_id>/publish/", wrap(self.publish_view), name=name + "publish"),
            path("<int:course_id>/archive/", wrap(self.archive_view), name=name + "archive"),
            path("<int:course_id>/unarchive/", wrap(self.unarchive_view), name=name + "unarchive"),
            path("<int:course_id>/undelete/", wrap(self.undelete_view), name=name + "undelete"),
            path("<int:course_id>/modules/add/", wrap(self.module_add_view), name=name + "module_add"),
            path(
                "<int:course_id>/modules/<int:module_id>/move/",
                wrap(self.module_move_view),
                name=name + "module_move",
            ),
            path(
                "<int:course_id>/modules/<int:module_id>/undelete/",
                wrap(self.module_undelete_view),
                name=name + "module_undelete",
            ),
            path(
                "<int:course_id>/lessons/<int:lesson_id>/move/",
                wrap(self.lesson_move_view),
                name=name + "lesson_move",
            ),
            path(
                "<int:course_id>/lessons/<int:lesson_id>/undelete/",
                wrap(self.lesson_undelete_view),
                name=name + "lesson_undelete",
            ),
            path(
                "<int:course_id>/revisions/<int:revision_id>/restore/",
                wrap(self.revision_restore_view),
                name=name + "revision_restore",
            ),
            *super().get_urls(),
        ]

    # --- access --------------------------------------------------------------

    def course_for_staff(self, request, course_id: int) -> Course:
        """The course if the person may edit it; 404 otherwise (like another tenant's course)."""
        course = get_object_or_404(courses_visible_to_staff(request.user), pk=course_id)
        if not self.has_change_permission(request, course):
            raise PermissionDenied
        return course

    def course_for_tenant_admin(self, request, course_id: int) -> Course:
        course = self.course_for_staff(request, course_id)
        if not is_tenant_admin(request.user):
            raise PermissionDenied
        return course

    # --- the builder page -------------------------------------------------------

    def builder_context(self, request, course_id: int) -> dict:
        # Read afresh: on a refused save the form has already changed the instance in memory.
        course = Course.objects.select_related("published_revision").get(pk=course_id)
        modules = list(
            course.modules.alive()
            .order_by("position", "id")
            .prefetch_related(Prefetch("lessons", queryset=Lesson.objects.alive().order_by("position", "id")))
        )
        published = course.published_revision
        unpublished = published is not None and snapshot_of(course) != published.snapshot
        can_admin = is_tenant_admin(request.user)
        can_edit = may_edit(request.user, course)
        return {
            "builder": {
                "can_edit": can_edit,
                "course": course,
                "badge": course_status_badge(course, unpublished_changes=unpublished),
                "modules": modules,
                "problems": [] if course.is_deleted else course_publish_problems(course=course),
                "can_publish": can_edit and not course.is_deleted and (published is None or unpublished),
                "can_archive": can_edit and course.status == CourseStatus.PUBLISHED and not course.is_deleted,
                "can_unarchive": can_edit
                and course.status == CourseStatus.ARCHIVED
                and not course.is_deleted,
                "can_admin": can_admin,
                "revisions": list(
                    course.revisions.select_related("author").defer("snapshot", "card").order_by("-number")
                ),
                "deleted_modules": list(
                    Module.objects.deleted().filter(course=course).order_by("-deleted_at")
                ),
                "deleted_lessons": list(
                    Lesson.objects.deleted()
                    .filter(module__course=course, module__deleted_at__isnull=True)
                    .select_related("module")
                    .order_by("-deleted_at")
                ),
                "preview_url": learner_preview_url(course),
                "publish_form": PublishForm(),
            }
        }

    # --- endpoints --------------------------------------------------------------

    @staticmethod
    def _problems_to_messages(request, exc: CourseError) -> None:
        if exc.problems != [str(exc)]:
            messages.error(request, str(exc))
        for problem in exc.problems:
            messages.error(request, problem)

    @method_decorator(require_POST)
    def publish_view(self, request, course_id: int):
        course = self.course_for_staff(request, course_id)
        form = PublishForm(request.POST)
        summary = form.cleaned_data["summary"] if form.is_valid() else ""
        try:
            revision = course_publish(actor=request.user, course=course, summary=summary)
        except CourseError as exc:
            self._problems_to_messages(request, exc)
        else:
            self.log_change(request, course, f"Published revision {revision.number}.")
            messages.success(request, f"Published revision {revision.number}. {revision.summary}")
        return HttpResponseRedirect(builder_url(course.pk))

    @method_decorator(require_POST)
    def archive_view(self, request, course_id: int):
        return self._lifecycle(request, course_id, course_archive, "Archived: the course left the catalog.")

    @method_decorator(require_POST)
    def unarchive_view(self, request, course_id: int):
        return self._lifecycle(request, course_id, course_unarchive, "Unarchived.")

    def _lifecycle(self, request, course_id: int, service, done: str):
        course = self.course_for_staff(request, course_id)
        try:
            service(actor=request.user, course=course)
        except CourseError as exc:
            self._problems_to_messages(request, exc)
        else:
            self.log_change(request, course, done)
            messages.success(request, done)
        return HttpResponseRedirect(builder_url(course.pk))

    @method_decorator(require_POST)
    def undelete_view(self, request, course_id: int):
        course = self.course_for_tenant_admin(request, course_id)
        if course.is_deleted:
            try:
                course_restore(actor=request.user, course=course)
            except CourseError as exc:
                self._problems_to_messages(request, exc)
            else:
                self.log_change(request, course, "Restored from the deleted courses.")
                messages.success(request, f"“{course}” is restored.")
        return HttpResponseRedirect(builder_url(course.pk))

    @method_decorator(require_POST)
    def module_add_view(self, request, course_id: int):
        course = self.course_for_staff(request, course_id)
        form = ModuleQuickAddForm(request.POST)
        if not form.is_valid():
            for field, errors in form.errors.items():
                label = form.fields[field].label if field in form.fields else ""
                for error in errors:
                    messages.error(request, f"Module not added: {label}: {error}" if label else error)
            return HttpResponseRedirect(builder_url(course.pk, "add-module"))
        try:
            module = module_create(actor=request.user, course=course, **form.cleaned_data)
        except CourseError as exc:
            self._problems_to_messages(request, exc)
            return HttpResponseRedirect(builder_url(course.pk, "add-module"))
        self.log_addition(request, module, [{"added": {}}])
        messages.success(request, f"Module “{module}” added. Add its lessons below.")
        return HttpResponseRedirect(builder_url(course.pk, f"module-{module.pk}"))

    def _direction(self, request) -> str | None:
        direction = request.POST.get("direction", "")
        return direction if direction in DIRECTIONS else None

    @method_decorator(require_POST)
    def module_move_view(self, request, course_id: int, module_id: int):
        course = self.course_for_staff(request, course_id)
        module = get_object_or_404(Module.objects.alive(), pk=module_id, course=course)
        direction = self._direction(request)
        if direction is None:
            return HttpResponseBadRequest("Move up or down.")
        try:
            module_move(actor=request.user, module=module, direction=direction)
        except CourseError as exc:
            self._problems_to_messages(request, exc)
        return HttpResponseRedirect(builder_url(course.pk, f"module-{module.pk}"))

    @method_decorator(require_POST)
    def lesson_move_view(self, request, course_id: int, lesson_id: int):
        course = self.course_for_staff(request, course_id)
        lesson = get_object_or_404(
            Lesson.objects.alive(), pk=lesson_id, module__course=course, module__deleted_at__isnull=True
        )
        direction = self._direction(request)
        if direction is None:
            return HttpResponseBadRequest("Move up or down.")
        try:
            lesson_move(actor=request.user, lesson=lesson, direction=direction)
        except CourseError as exc:
            self._problems_to_messages(request, exc)
        return HttpResponseRedirect(builder_url(course.pk, f"lesson-{lesson.pk}"))

    @method_decorator(require_POST)
    def module_undelete_view(self, request, course_id: int, module_id: int):
        course = self.course_for_staff(request, course_id)
        module = get_object_or_404(Module.objects.deleted(), pk=module_id, course=course)
        try:
            module_restore(actor=request.user, module=module)
        except CourseError as exc:
            self._problems_to_messages(request, exc)
            return HttpResponseRedirect(builder_url(course.pk, "trash"))
        self.log_change(request, module, "Restored.")
        messages.success(request, f"Module “{module}” is back, at the end of the curriculum.")
        return HttpResponseRedirect(builder_url(course.pk, f"module-{module.pk}"))

    @method_decorator(require_POST)
    def lesson_undelete_view(self, request, course_id: int, lesson_id: int):
        course = self.course_for_staff(request, course_id)
        lesson = get_object_or_404(
            Lesson.objects.deleted().select_related("module"), pk=lesson_id, module__course=course
        )
        try:
            lesson_restore(actor=request.user, lesson=lesson)
        except CourseError as exc:  # e.g. its module is deleted too
            self._problems_to_messages(request, exc)
            return HttpResponseRedirect(builder_url(course.pk, "trash"))
        self.log_change(request, lesson, "Restored.")
        messages.success(request, f"Lesson “{lesson}” is back, at the end of “{lesson.module}”.")
        return HttpResponseRedirect(builder_url(course.pk, f"lesson-{lesson.pk}"))

    def revision_restore_view(self, request, course_id: int, revision_id: int):
        """GET asks for confirmation; POST brings the draft back to the revision and publishes it."""
        course = self.course_for_tenant_admin(request, course_id)
        revision = get_object_or_404(
            CourseRevision.objects.select_related("author"), pk=revision_id, course=course
        )
        if request.method == "POST":
            try:
                new = revision_restore(actor=request.user, revision=revision)
            except CourseError as exc:  # e.g. its address is taken by another course now
                self._problems_to_messages(request, exc)
            else:
                self.log_change(request, course, f"Restored revision {revision.number} as {new.number}.")
                messages.success(
                    request,
                    f"Revision {revision.number} is restored and published as revision {new.number}.",
                )
            return HttpResponseRedirect(builder_url(course.pk, "revisions"))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Restore revision {revision.number}?",
            "opts": self.opts,
            "course": course,
            "revision": revision,
        }
        return TemplateResponse(request, "admin/courses/course/revision_restore_confirm.html", context)

    @method_decorator(require_POST)
    def markdown_preview_view(self, request):
        """The sanitized HTML learners would see for some Markdown: {"html": "..."}."""
        if not (
            request.user.has_perm("courses.change_course") or request.user.has_perm("courses.change_lesson")
        ):
            raise PermissionDenied
        form = MarkdownPreviewForm(request.POST)
        if not form.is_valid():
            return JsonResponse({"error": " ".join(form.errors.get("text", ["Invalid text."]))}, status=400)
        return JsonResponse({"html": str(render_markdown(form.cleaned_data["text"]))})
