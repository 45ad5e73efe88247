"""The curriculum: modules and lessons created, changed, ordered, moved, deleted and restored.

Every write checks that the actor may edit the course; prerequisites are in `prerequisites`."""

from __future__ import annotations

from django.db import transaction

from accounts.audit import audit_record

from ..models import Course, Lesson, LessonKind, Module
from ..permissions import may_edit
from .common import (
    CourseError,
    LessonChanged,
    _require_editor,
    apply_fields,
    next_position,
    not_found,
    values_of,
)

#: What an author sets on a module and on a lesson; the parent and position have their own services.
MODULE_FIELDS = frozenset({"title", "summary", "drip_days", "drip_at"})
LESSON_FIELDS = frozenset(
    {
        "title",
        "kind",
        "duration_minutes",
        "is_preview",
        "is_required",
        "body",
        "video",
        "document",
        "embed_url",
        "drip_days",
        "drip_at",
    }
)


# --- modules and lessons: created and changed inside a course the person may edit (ADR 0065) ---


def module_problems(*, actor, module: Module) -> list[str]:
    """Why `module` (new or changed) cannot be saved in the course it names."""
    if not module.course_id:
        return []
    course = Course.objects.alive().filter(pk=module.course_id).first()
    if course is None or actor is None or not may_edit(actor, course):
        return ["Choose a course you may edit."]
    if module.pk:
        before = Module.objects.filter(pk=module.pk).values_list("course_id", flat=True).first()
        if before != module.course_id:
            return ["A module stays in its course: add a new module to the other course instead."]
    return []


def lesson_problems(*, actor, lesson: Lesson) -> list[str]:
    """Why `lesson` (new or changed) cannot be saved in the module it names."""
    if not lesson.module_id:
        return []
    module = Module.objects.filter(pk=lesson.module_id).select_related("course").first()
    if (
        module is None
        or module.is_deleted
        or module.course.is_deleted
        or actor is None
        or not may_edit(actor, module.course)
    ):
        return ["Choose a module of a course you may edit."]
    if lesson.pk:
        before = Lesson.objects.filter(pk=lesson.pk).values_list("module__course_id", flat=True).first()
        if before != module.course_id:
            return ["A lesson moves between the modules of its own course, not to another course."]
    return []


@transaction.atomic
def module_save(*, actor, module: Module) -> Module:
    """Create a module at the end of its course, or save changes to one."""
    problems = module_problems(actor=actor, module=module)
    if problems:
        raise CourseError(problems[0], problems)
    if module.pk is None:
        Course.objects.select_for_update().get(pk=module.course_id)  # one new position at a time
        module.position = next_position(Module.objects.alive().filter(course_id=module.course_id))
    module.save()
    return module


@transaction.atomic
def lesson_save(*, actor, lesson: Lesson, moved: bool = False) -> Lesson:
    """Create a lesson at the end of its module, or save changes (`moved`: to another module)."""
    problems = lesson_problems(actor=actor, lesson=lesson)
    if problems:
        raise CourseError(problems[0], problems)
    if lesson.pk is None or moved:
        lesson.position = next_position(
            Lesson.objects.alive().filter(module_id=lesson.module_id).exclude(pk=lesson.pk)
        )
    if lesson.pk is not None:
        # A whole-row save may change the content: an editor holding the old version must reload.
        stored = Lesson.objects.select_for_update().filter(pk=lesson.pk).values_list("version", flat=True)
        lesson.version = (stored.first() or 0) + 1
    lesson.save()
    return lesson


def _refuse(problems: list[str], field: str) -> None:
    if problems:
        raise CourseError(problems[0], problems, field=field)


def _require_title(fields: dict, *, required: bool) -> None:
    if (required or "title" in fields) and not (fields.get("title") or "").strip():
        raise CourseError("A title is needed.", field="title")


def _changed(stored, obj, fields: dict) -> tuple[dict, dict]:
    before, after = values_of(stored, sorted(fields)), values_of(obj, sorted(fields))
    names = [name for name in sorted(fields) if before[name] != after[name]]
    return {name: before[name] for name in names}, {name: after[name] for name in names}


# --- modules ------------------------------------------------------------------------


@transaction.atomic
def module_create(*, actor, course: Course, title: str, **fields) -> Module:
    """A new module at the end of the course's curriculum."""
    module = Module(course=course)
    _refuse(module_problems(actor=actor, module=module), "course")
    _require_title({"title": title}, required=True)
    Course.objects.select_for_update().get(pk=course.pk)  # one new position at a time
    apply_fields(module, {"title": title.strip(), **fields}, allowed=MODULE_FIELDS)
    module.position = next_position(Module.objects.alive().filter(course=course))
    module.save()
    audit_record(
        actor=actor,
        action="module.created",
        target=module,
        after={"course": course.pk, "position": module.position, **values_of(module, sorted(MODULE_FIELDS))},
    )
    return module


@transaction.atomic
def module_update(*, actor, module: Module, **fields) -> Module:
    """Change a module's own fields; it stays in its course. `before` is read from the database."""
    if "course" in fields:
        raise CourseError(
            "A module stays in its course: add a new module to the other course instead.", field="course"
        )
    stored = Module.objects.select_for_update().select_related("course").get(pk=module.pk)
    _require_editor(actor, stored.course)
    if stored.is_deleted or stored.course.is_deleted:
        raise CourseError("This module is deleted; restore it before changing it.")
    _require_title(fields, required=False)
    apply_fields(module, fields, allowed=MODULE_FIELDS)
    before, after = _changed(stored, module, fields)
    if after:
        module.save(update_fields=[*after, "updated_at"])
        audit_record(actor=actor, action="module.updated", target=module, before=before, after=after)
    return module


@transaction.atomic
def module_delete(*, actor, module: Module) -> Module:
    """Soft delete: the module and its lessons leave the draft; `module_restore` brings them back."""
    _require_editor(actor, module.course)
    if module.is_deleted:
        raise CourseError("This module is already deleted.")
    module.soft_delete()
    audit_record(
        actor=actor,
        action="module.deleted",
        target=module,
        before={"deleted_at": None, "position": module.position},
        after={"deleted_at": module.deleted_at.isoformat()},
    )
    return module


@transaction.atomic
def module_restore(*, actor, module: Module) -> Module:
    """Undo a delete: the module comes back at the end of the curriculum."""
    _require_editor(actor, module.course)
    if not module.is_deleted:
        raise CourseError("This module is not deleted.")
    Course.objects.select_for_update().get(pk=module.course_id)
    before = {"deleted_at": module.deleted_at.isoformat(), "position": module.position}
    module.position = next_position(Module.objects.alive().filter(course_id=module.course_id))
    module.deleted_at = None
    module.save(update_fields=["position", "deleted_at", "updated_at"])
    audit_record(
        actor=actor,
        action="module.restored",
        target=module,
        before=before,
        after={"deleted_at": None, "position": module.position},
    )
    return module


def _reorder(items: dict, wanted: list[int], *, what: str, field: str) -> tuple[list[int], list[int]]:
    """Positions 0..n-1 in the order of `wanted`, which must list each of `items` exactly once."""
    if len(set(wanted)) != len(wanted) or set(wanted) != set(items):
        raise CourseError(f"List every {what} exactly once, in the new order.", field=field)
    before = [pk for pk, _ in sorted(items.items(), key=lambda item: (item[1].position, item[0]))]
    for position, pk in enumerate(wanted):
        item = items[pk]
        if item.position != position:
            item.position = position
            item.save(update_fields=["position", "updated_at"])
    return before, list(wanted)


def _check_ids(ids, model, *, parent: dict, what: str, field: str) -> list[int]:
    (parent_name,) = parent
    """`ids` as ints; unknown ids are NotFound, ids of another course or module are refused."""
    try:
        wanted = [int(pk) for pk in ids]
    except (TypeError, ValueError) as exc:
        raise CourseError(f"Give the {what} ids as numbers.", field=field) from exc
    found = model.objects.alive().filter(pk__in=wanted)
    known = set(found.values_list("pk", flat=True))
    if known != set(wanted):
        raise not_found(what)
    if found.exclude(**parent).exists():
        raise CourseError(f"Only the {what}s of this {parent_name} can be ordered here.", field=field)
    return wanted


@transaction.atomic
def module_reorder(*, actor, course: Course, module_ids: list[int]) -> list[int]:
    """Put the course's modules in the order of `module_ids` (every live module, once)."""
    _require_editor(actor, course)
    Course.objects.select_for_update().get(pk=course.pk)
    wanted = _check_ids(module_ids, Module, parent={"course": course}, what="module", field="module_ids")
    modules = {m.pk: m for m in Module.objects.alive().select_for_update().filter(course=course)}
    before, after = _reorder(modules, wanted, what="module", field="module_ids")
    if before != after:
        audit_record(
            actor=actor, action="course.modules_reordered", target=course, before=before, after=after
        )
    return after


def _stepped(ids: list[int], pk: int, direction: str) -> list[int]:
    if direction not in {"up", "down"}:
        raise CourseError("Move up or down.", field="direction")
    index = ids.index(pk)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(ids):
        ids[index], ids[other] = ids[other], ids[index]
    return ids


@transaction.atomic
def module_move(*, actor, module: Module, direction: str) -> None:
    """One place up or down in the curriculum (a reorder; nothing moves at either end)."""
    ids = list(Module.objects.alive().filter(course_id=module.course_id).values_list("pk", flat=True))
    module_reorder(actor=actor, course=module.course, module_ids=_stepped(ids, module.pk, direction))


# --- lessons ------------------------------------------------------------------------


@transaction.atomic
def lesson_create(*, actor, module: Module, title: str, kind: str = LessonKind.TEXT, **fields) -> Lesson:
    """A new lesson at the end of the module."""
    lesson = Lesson(module=module)
    _refuse(lesson_problems(actor=actor, lesson=lesson), "module")
    _require_title({"title": title}, required=True)
    Module.objects.select_for_update().get(pk=module.pk)  # one new position at a time
    apply_fields(lesson, {"title": title.strip(), "kind": kind, **fields}, allowed=LESSON_FIELDS)
    lesson.position = next_position(Lesson.objects.alive().filter(module=module))
    lesson.save()
    audit_record(
        actor=actor,
        action="lesson.created",
        target=lesson,
        after={"module": module.pk, "position": lesson.position, **values_of(lesson, sorted(LESSON_FIELDS))},
    )
    return lesson


@transaction.atomic
def lesson_update(*, actor, lesson: Lesson, version: int | None = None, **fields) -> Lesson:
    """Change a lesson's own fields; `module=` moves it (see `lesson_move`). `before` from the database.

    `version` is the one the editor loaded: when the lesson was changed since, the save is
    refused (`LessonChanged`) rather than silently replacing the other person's edit. The row
    is locked first, so two saves of the same version cannot both pass. A change of content
    counts the version up; a move alone does not.
    """
    target = fields.pop("module", None)
    stored = Lesson.objects.select_for_update().select_related("module__course").get(pk=lesson.pk)
    _require_editor(actor, stored.module.course)
    if stored.is_deleted or stored.module.is_deleted:
        raise CourseError("This lesson is deleted; restore it before changing it.")
    if version is not None and version != stored.version:
        raise LessonChanged(
            "Someone changed this lesson after you opened it.", current_version=stored.version
        )
    _require_title(fields, required=False)
    if target is not None and target.pk != stored.module_id:
        _check_move(actor=actor, lesson=lesson, module=target)
    apply_fields(lesson, fields, allowed=LESSON_FIELDS)
    if target is not None and target.pk != stored.module_id:
        _move(actor=actor, lesson=lesson, stored_module_id=stored.module_id, module=target)
    lesson.module_id = target.pk if target is not None else stored.module_id
    before, after = _changed(stored, lesson, fields)
    lesson.version = stored.version
    if after:
        lesson.version = stored.version + 1
        lesson.save(update_fields=[*after, "version", "updated_at"])
        audit_record(actor=actor, action="lesson.updated", target=lesson, before=before, after=after)
    return lesson


def _check_move(*, actor, lesson: Lesson, module: Module) -> None:
    probe = Lesson(pk=lesson.pk, module=module)
    problems = lesson_problems(actor=actor, lesson=probe)
    _refuse(problems, "module")


def _move(*, actor, lesson: Lesson, stored_module_id: int, module: Module) -> None:
    Module.objects.select_for_update().get(pk=module.pk)
    before = {"module": stored_module_id, "position": lesson.position}
    lesson.module = module
    lesson.position = next_position(Lesson.objects.alive().filter(module=module).exclude(pk=lesson.pk))
    lesson.save(update_fields=["module", "position", "updated_at"])
    audit_record(
        actor=actor,
        action="lesson.moved",
        target=lesson,
        before=before,
        after={"module": module.pk, "position": lesson.position},
    )


@transaction.atomic
def lesson_move(*, actor, lesson: Lesson, module: Module | None = None, direction: str | None = None) -> None:
    """Move the lesson to the end of another `module` of its course, or one place up or down
    (`direction`) in its own module. Exactly one of the two."""
    if (module is None) == (direction is None):
        raise CourseError("Give either a module to move the lesson to or a direction.")
    if direction is not None:
        ids = list(Lesson.objects.alive().filter(module_id=lesson.module_id).values_list("pk", flat=True))
        lesson_reorder(actor=actor, module=lesson.module, lesson_ids=_stepped(ids, lesson.pk, direction))
        return
    stored = Lesson.objects.select_for_update().select_related("module__course").get(pk=lesson.pk)
    _require_editor(actor, stored.module.course)
    if stored.is_deleted:
        raise CourseError("This lesson is deleted; restore it before moving it.")
    if module.pk == stored.module_id:
        return
    _check_move(actor=actor, lesson=lesson, module=module)
    _move(actor=actor, lesson=lesson, stored_module_id=stored.module_id, module=module)


@transaction.atomic
def lesson_reorder(*, actor, module: Module, lesson_ids: list[int]) -> list[int]:
    """Put the module's lessons in the order of `lesson_ids` (every live lesson, once)."""
    _require_editor(actor, module.course)
    Module.objects.select_for_update().get(pk=module.pk)
    wanted = _check_ids(lesson_ids, Lesson, parent={"module": module}, what="lesson", field="lesson_ids")
    lessons = {x.pk: x for x in Lesson.objects.alive().select_for_update().filter(module=module)}
    before, after = _reorder(lessons, wanted, what="lesson", field="lesson_ids")
    if before != after:
        audit_record(
            actor=actor, action="module.lessons_reordered", target=module, before=before, after=after
        )
    return after


@transaction.atomic
def lesson_delete(*, actor, lesson: Lesson) -> Lesson:
    """Soft delete: the lesson leaves the draft; `lesson_restore` brings it back."""
    _require_editor(actor, lesson.module.course)
    if lesson.is_deleted:
        raise CourseError("This lesson is already deleted.")
    lesson.soft_delete()
    audit_record(
        actor=actor,
        action="lesson.deleted",
        target=lesson,
        before={"deleted_at": None, "position": lesson.position},
        after={"deleted_at": lesson.deleted_at.isoformat()},
    )
    return lesson


@transaction.atomic
def lesson_restore(*, actor, lesson: Lesson) -> Lesson:
    """Undo a delete: the lesson comes back at the end of its module (which must be live)."""
    _require_editor(actor, lesson.module.course)
    if not lesson.is_deleted:
        raise CourseError("This lesson is not deleted.")
    if lesson.module.is_deleted:
        raise CourseError(f"Restore the module “{lesson.module}” first.")
    Module.objects.select_for_update().get(pk=lesson.module_id)
    before = {"deleted_at": lesson.deleted_at.isoformat(), "position": lesson.position}
    lesson.position = next_position(Lesson.objects.alive().filter(module_id=lesson.module_id))
    lesson.deleted_at = None
    lesson.save(update_fields=["position", "deleted_at", "updated_at"])
    audit_record(
        actor=actor,
        action="lesson.restored",
        target=lesson,
        before=before,
        after={"deleted_at": None, "position": lesson.position},
    )
    return lesson
