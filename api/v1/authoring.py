"""Authoring for course staff: courses, modules and lessons, their order, publishing and restoring.

Every endpoint asks the door for the course (`access_course_as_staff`): a course the caller
is not on the staff of is 404, one they may see but not change (an assistant) is 403. The
writes are the same services the admin and the course builder call, so the audit log, the
rules and the refusals are theirs.
"""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status

from core.errors import InvalidRequest, NotFound
from courses.models import Category, Course, CourseRevision, Lesson, LessonKind, Module
from courses.permissions import courses_visible_to_staff
from courses.services import (
    course_archive,
    course_create,
    course_delete,
    course_publish,
    course_restore,
    course_unarchive,
    course_update,
    lesson_create,
    lesson_delete,
    lesson_reorder,
    lesson_restore,
    lesson_update,
    module_create,
    module_delete,
    module_reorder,
    module_restore,
    module_update,
    revision_restore,
)
from enrollments.access import access_course_as_staff

from ..gate import need
from ..pagination import DEFAULT_LIMIT, page_of_queryset
from .base import PROBLEMS

router = Router(tags=["authoring"])


class CourseIn(Schema):
    title: str
    slug: str | None = None
    summary: str | None = None
    description: str | None = None
    level: str | None = None
    estimated_minutes: int | None = None
    enrollment_policy: str | None = None
    category_id: int | None = None


class CoursePatch(Schema):
    title: str | None = None
    slug: str | None = None
    summary: str | None = None
    description: str | None = None
    level: str | None = None
    estimated_minutes: int | None = None
    enrollment_policy: str | None = None
    category_id: int | None = None


class LessonDraft(Schema):
    id: int
    title: str
    kind: str
    position: int
    duration_minutes: int
    is_preview: bool
    is_required: bool
    drip_days: int | None
    drip_at: datetime | None
    deleted: bool
    #: Counts the lesson's content edits; send it back in a PATCH to refuse a save over a newer one.
    version: int


class ModuleDraft(Schema):
    id: int
    title: str
    summary: str
    position: int
    drip_days: int | None
    drip_at: datetime | None
    deleted: bool
    lessons: list[LessonDraft]


class CourseDraft(Schema):
    id: int
    slug: str
    title: str
    summary: str
    description: str
    level: str
    estimated_minutes: int
    enrollment_policy: str
    category_id: int | None
    status: str
    published_revision_id: int | None
    deleted: bool
    updated_at: datetime
    modules: list[ModuleDraft] | None = None


class CourseDraftPage(Schema):
    items: list[CourseDraft]
    next_cursor: str | None


class ModuleIn(Schema):
    title: str
    summary: str | None = None
    drip_days: int | None = None
    drip_at: datetime | None = None


class ModulePatch(Schema):
    title: str | None = None
    summary: str | None = None
    drip_days: int | None = None
    drip_at: datetime | None = None


class LessonIn(Schema):
    title: str
    kind: str = LessonKind.TEXT
    body: str | None = None
    embed_url: str | None = None
    duration_minutes: int | None = None
    is_preview: bool | None = None
    is_required: bool | None = None
    drip_days: int | None = None
    drip_at: datetime | None = None


class LessonPatch(Schema):
    title: str | None = None
    kind: str | None = None
    body: str | None = None
    embed_url: str | None = None
    duration_minutes: int | None = None
    is_preview: bool | None = None
    is_required: bool | None = None
    drip_days: int | None = None
    drip_at: datetime | None = None
    module_id: int | None = None
    #: The version the client read: a 409 `lesson_changed` if the lesson was changed since.
    version: int | None = None


class Order(Schema):
    ids: list[int]


class PublishIn(Schema):
    summary: str = ""


class RevisionOut(Schema):
    id: int
    course_id: int
    summary: str
    created_at: datetime


def _fields(body: Schema) -> dict:
    """The fields the caller sent (PATCH semantics: what is absent stays as it is)."""
    fields = body.model_dump(exclude_unset=True)
    if "category_id" in fields:
        category_id = fields.pop("category_id")
        category = None
        if category_id is not None:
            category = Category.objects.filter(pk=category_id).first()
            if category is None:
                raise InvalidRequest("No such category.", field="category_id")
        fields["category"] = category
    return fields


def _lesson(lesson: Lesson) -> dict:
    return {
        "id": lesson.pk,
        "title": lesson.title,
        "kind": lesson.kind,
        "position": lesson.position,
        "duration_minutes": lesson.duration_minutes,
        "is_preview": lesson.is_preview,
        "is_required": lesson.is_required,
        "drip_days": lesson.drip_days,
        "drip_at": lesson.drip_at,
        "deleted": lesson.is_deleted,
        "version": lesson.version,
    }


def _module(module: Module, lessons=None) -> dict:
    lessons = module.lessons.all() if lessons is None else lessons
    return {
        "id": module.pk,
        "title": module.title,
        "summary": module.summary,
        "position": module.position,
        "drip_days": module.drip_days,
        "drip_at": module.drip_at,
        "deleted": module.is_deleted,
        "lessons": [_lesson(x) for x in sorted(lessons, key=lambda x: (x.position, x.pk))],
    }


def _course(course: Course, *, outline: bool = False) -> dict:
    out = {
        "id": course.pk,
        "slug": course.slug,
        "title": course.title,
        "summary": course.summary,
        "description": course.description,
        "level": course.level,
        "estimated_minutes": course.estimated_minutes,
        "enrollment_policy": course.enrollment_policy,
        "category_id": course.category_id,
        "status": course.status,
        "published_revision_id": course.published_revision_id,
        "deleted": course.is_deleted,
        "updated_at": course.updated_at,
    }
    if outline:
        modules = course.modules.order_by("position", "pk").prefetch_related("lessons")
        out["modules"] = [_module(m) for m in modules]
    return out


def _staff_course(request, course_id: int, need_: str = "edit") -> Course:
    return access_course_as_staff(user=request.user, course_id=course_id, need=need_)


def _module_of(request, module_id: int, need_: str = "edit") -> Module:
    module = Module.objects.filter(pk=module_id).select_related("course").first()
    if module is None:
        raise NotFound("No such module.")
    access_course_as_staff(user=request.user, course_id=module.course_id, need=need_)
    return module


def _lesson_of(request, lesson_id: int) -> Lesson:
    lesson = Lesson.objects.filter(pk=lesson_id).select_related("module__course").first()
    if lesson is None:
        raise NotFound("No such lesson.")
    access_course_as_staff(user=request.user, course_id=lesson.module.course_id, need="edit")
    return lesson


# --- courses ------------------------------------------------------------------------------


@router.get("/authoring/courses", response={200: CourseDraftPage, **PROBLEMS}, summary="Courses I teach")
def draft_list(
    request: HttpRequest,
    status: str | None = None,
    cursor: str | None = None,
    limit: int = Query(DEFAULT_LIMIT),
):
    """Every course the caller is on the staff of (all courses for admins), newest first."""
    need(request, "authoring:read")
    courses = courses_visible_to_staff(request.user)
    if status:
        courses = courses.filter(status=status)
    items, next_cursor = page_of_queryset(courses.distinct(), fields=("-id",), cursor=cursor, limit=limit)
    return {"items": [_course(c) for c in items], "next_cursor": next_cursor}


@router.post("/authoring/courses", response={201: CourseDraft, **PROBLEMS}, summary="Create a course")
def draft_create(request: HttpRequest, body: CourseIn):
    """A new draft course; an instructor who creates it becomes its owner."""
    need(request, "authoring:write")
    fields = _fields(body)
    title = fields.pop("title")
    course = course_create(actor=request.user, title=title, **fields)
    return Status(201, _course(course, outline=True))


@router.get(
    "/authoring/courses/{course_id}", response={200: CourseDraft, **PROBLEMS}, summary="A course's draft"
)
def draft_detail(request: HttpRequest, course_id: int):
    """The draft as its staff sees it, with modules and lessons (deleted ones flagged)."""
    need(request, "authoring:read")
    return _course(_staff_course(request, course_id, "view"), outline=True)


@router.patch(
    "/authoring/courses/{course_id}", response={200: CourseDraft, **PROBLEMS}, summary="Edit a course"
)
def draft_update(request: HttpRequest, course_id: int, body: CoursePatch):
    need(request, "authoring:write")
    course = _staff_course(request, course_id)
    course = course_update(actor=request.user, course=course, **_fields(body))
    return _course(course, outline=True)


@router.post(
    "/authoring/courses/{course_id}/publish", response={201: RevisionOut, **PROBLEMS}, summary="Publish"
)
def draft_publish(request: HttpRequest, course_id: int, body: PublishIn):
    """Make the draft what learners see; refused with every problem listed when it is not ready."""
    need(request, "authoring:write")
    course = _staff_course(request, course_id)
    revision = course_publish(actor=request.user, course=course, summary=body.summary)
    return Status(
        201,
        {
            "id": revision.pk,
            "course_id": course.pk,
            "summary": revision.summary,
            "created_at": revision.created_at,
        },
    )


class RevisionItem(Schema):
    id: int
    summary: str
    created_at: datetime
    is_published: bool


@router.get(
    "/authoring/courses/{course_id}/revisions",
    response={200: list[RevisionItem], **PROBLEMS},
    summary="History",
)
def revision_list(request: HttpRequest, course_id: int):
    """Every published revision of the course, newest first; the one learners see is marked."""
    need(request, "authoring:read")
    course = _staff_course(request, course_id, "view")
    revisions = (
        CourseRevision.objects.filter(course=course).order_by("-id").only("id", "summary", "created_at")
    )
    return [
        {
            "id": r.pk,
            "summary": r.summary,
            "created_at": r.created_at,
            "is_published": r.pk == course.published_revision_id,
        }
        for r in revisions
    ]


@router.post(
    "/authoring/courses/{course_id}/revisions/{revision_id}/restore",
    response={200: CourseDraft, **PROBLEMS},
    summary="Restore a revision",
)
def revision_bring_back(request: HttpRequest, course_id: int, revision_id: int):
    """Bring the draft back to an earlier revision and publish it as a new one (admins)."""
    need(request, "authoring:write")
    course = _staff_course(request, course_id)
    revision = CourseRevision.objects.filter(pk=revision_id, course=course).first()
    if revision is None:
        raise NotFound("No such revision of this course.")
    revision_restore(actor=request.user, revision=revision)
    course.refresh_from_db()
    return _course(course, outline=True)


@router.post("/authoring/courses/{course_id}/archive", response={200: CourseDraft, **PROBLEMS})
def draft_archive(request: HttpRequest, course_id: int):
    need(request, "authoring:write")
    return _course(course_archive(actor=request.user, course=_staff_course(request, course_id)))


@router.post("/authoring/courses/{course_id}/unarchive", response={200: CourseDraft, **PROBLEMS})
def draft_unarchive(request: HttpRequest, course_id: int):
    need(request, "authoring:write")
    return _course(course_unarchive(actor=request.user, course=_staff_course(request, course_id)))


@router.delete("/authoring/courses/{course_id}", response={200: CourseDraft, **PROBLEMS}, summary="Delete")
def draft_delete(request: HttpRequest, course_id: int):
    """Soft delete (admins): learners lose the course; `restore` brings it back."""
    need(request, "authoring:write")
    return _course(course_delete(actor=request.user, course=_staff_course(request, course_id)))


@router.post("/authoring/courses/{course_id}/restore", response={200: CourseDraft, **PROBLEMS})
def draft_restore(request: HttpRequest, course_id: int):
    need(request, "authoring:write")
    return _course(course_restore(actor=request.user, course=_staff_course(request, course_id)))


# --- modules ------------------------------------------------------------------------------


@router.post("/authoring/courses/{course_id}/modules", response={201: ModuleDraft, **PROBLEMS})
def module_add(request: HttpRequest, course_id: int, body: ModuleIn):
    need(request, "authoring:write")
    course = _staff_course(request, course_id)
    fields = body.model_dump(exclude_unset=True)
    module = module_create(actor=request.user, course=course, title=fields.pop("title"), **fields)
    return Status(201, _module(module, lessons=[]))


@router.put("/authoring/courses/{course_id}/module-order", response={200: list[int], **PROBLEMS})
def module_order(request: HttpRequest, course_id: int, body: Order):
    """The course's module ids in their new order (every live module, once)."""
    need(request, "authoring:write")
    course = _staff_course(request, course_id)
    return module_reorder(actor=request.user, course=course, module_ids=body.ids)


@router.patch("/authoring/modules/{module_id}", response={200: ModuleDraft, **PROBLEMS})
def module_edit(request: HttpRequest, module_id: int, body: ModulePatch):
    need(request, "authoring:write")
    module = _module_of(request, module_id)
    return _module(module_update(actor=request.user, module=module, **body.model_dump(exclude_unset=True)))


@router.delete("/authoring/modules/{module_id}", response={200: ModuleDraft, **PROBLEMS})
def module_remove(request: HttpRequest, module_id: int):
    need(request, "authoring:write")
    return _module(module_delete(actor=request.user, module=_module_of(request, module_id)))


@router.post("/authoring/modules/{module_id}/restore", response={200: ModuleDraft, **PROBLEMS})
def module_bring_back(request: HttpRequest, module_id: int):
    need(request, "authoring:write")
    return _module(module_restore(actor=request.user, module=_module_of(request, module_id)))


# --- lessons ------------------------------------------------------------------------------


def _check_kind(fields: dict) -> None:
    if "kind" in fields and fields["kind"] not in LessonKind.values:
        raise InvalidRequest(f"kind is one of {', '.join(LessonKind.values)}.", field="kind")


@router.post("/authoring/modules/{module_id}/lessons", response={201: LessonDraft, **PROBLEMS})
def lesson_add(request: HttpRequest, module_id: int, body: LessonIn):
    need(request, "authoring:write")
    module = _module_of(request, module_id)
    fields = body.model_dump(exclude_unset=True)
    _check_kind(fields)
    lesson = lesson_create(actor=request.user, module=module, title=fields.pop("title"), **fields)
    return Status(201, _lesson(lesson))


@router.put("/authoring/modules/{module_id}/lesson-order", response={200: list[int], **PROBLEMS})
def lesson_order(request: HttpRequest, module_id: int, body: Order):
    need(request, "authoring:write")
    module = _module_of(request, module_id)
    return lesson_reorder(actor=request.user, module=module, lesson_ids=body.ids)


@router.patch("/authoring/lessons/{lesson_id}", response={200: LessonDraft, **PROBLEMS})
def lesson_edit(request: HttpRequest, lesson_id: int, body: LessonPatch):
    """Change a lesson; `module_id` moves it to another module of the same course."""
    need(request, "authoring:write")
    lesson = _lesson_of(request, lesson_id)
    fields = body.model_dump(exclude_unset=True)
    _check_kind(fields)
    if "module_id" in fields:
        target = Module.objects.filter(pk=fields.pop("module_id"), course_id=lesson.module.course_id).first()
        if target is None:
            raise InvalidRequest("Move a lesson only to a module of the same course.", field="module_id")
        fields["module"] = target
    version = fields.pop("version", None)
    return _lesson(lesson_update(actor=request.user, lesson=lesson, version=version, **fields))


@router.delete("/authoring/lessons/{lesson_id}", response={200: LessonDraft, **PROBLEMS})
def lesson_remove(request: HttpRequest, lesson_id: int):
    need(request, "authoring:write")
    return _lesson(lesson_delete(actor=request.user, lesson=_lesson_of(request, lesson_id)))


@router.post("/authoring/lessons/{lesson_id}/restore", response={200: LessonDraft, **PROBLEMS})
def lesson_bring_back(request: HttpRequest, lesson_id: int):
    need(request, "authoring:write")
    return _lesson(lesson_restore(actor=request.user, lesson=_lesson_of(request, lesson_id)))
