"""Prerequisites between lessons and modules of one course: same course only, never a loop."""

from __future__ import annotations

from django.db import transaction

from accounts.audit import audit_record

from ..models import Lesson, Module
from .common import CourseError, _require_editor


def _prerequisite_edges(course_id: int) -> dict[int, set[int]]:
    """lesson id -> the lessons that must be completed before it opens (its own prerequisites
    and its module's), for every lesson of the course."""
    edges: dict[int, set[int]] = {}
    own = Lesson.prerequisites.through.objects.filter(from_lesson__module__course_id=course_id)
    for source, target in own.values_list("from_lesson_id", "to_lesson_id"):
        edges.setdefault(source, set()).add(target)
    by_module: dict[int, set[int]] = {}
    of_modules = Module.prerequisites.through.objects.filter(module__course_id=course_id)
    for module_id, target in of_modules.values_list("module_id", "lesson_id"):
        by_module.setdefault(module_id, set()).add(target)
    if by_module:
        lessons = Lesson.objects.filter(module_id__in=by_module).values_list("pk", "module_id")
        for lesson_id, module_id in lessons:
            edges.setdefault(lesson_id, set()).update(by_module[module_id])
    return edges


def _loop_through(edges: dict[int, set[int]], starts: set[int], targets: set[int]) -> tuple[int, int] | None:
    """A (start, target) pair when some target is reachable from some start; None otherwise."""
    for start in starts:
        if start in targets:
            return start, start
        seen, stack = {start}, [start]
        while stack:
            for following in edges.get(stack.pop(), ()):
                if following in targets:
                    return start, following
                if following not in seen:
                    seen.add(following)
                    stack.append(following)
    return None


def _loop_message(titles: dict[int, str], what: str, start: int, target: int) -> str:
    return (
        f"That would make a loop: {what} requires '{titles.get(start, '?')}', which (directly or through "
        f"other lessons) requires '{titles.get(target, '?')}'."
    )


# Never names the lesson: it may be of a course the person may not see (ADR 0065).
OTHER_COURSE_LESSON = "A lesson of another course was chosen; prerequisites come from this course."


def prerequisite_problems(*, lesson: Lesson, prerequisites) -> list[str]:
    """Why these prerequisites cannot be set on `lesson` (empty when they can)."""
    course_id = lesson.module.course_id
    problems = []
    wanted = list(prerequisites)
    for other in wanted:
        if other.pk == lesson.pk:
            problems.append(f"'{lesson.title}' cannot require itself.")
        elif other.module.course_id != course_id:
            problems.append(OTHER_COURSE_LESSON)
    if problems or lesson.pk is None:
        return problems
    # The course's prerequisite graph with the proposed edges: is `lesson` reachable from them?
    edges = _prerequisite_edges(course_id)
    module_wants = set(
        Module.prerequisites.through.objects.filter(module_id=lesson.module_id).values_list(
            "lesson_id", flat=True
        )
    )
    edges[lesson.pk] = {other.pk for other in wanted} | module_wants
    loop = _loop_through(edges, {other.pk for other in wanted}, {lesson.pk})
    if loop is None:
        return []
    titles = dict(Lesson.objects.filter(module__course_id=course_id).values_list("pk", "title"))
    return [_loop_message(titles, f"'{lesson.title}'", loop[0], lesson.pk)]


def module_prerequisite_problems(*, module: Module, prerequisites) -> list[str]:
    """Why these lessons cannot be required before `module` opens (empty when they can)."""
    problems = []
    wanted = list(prerequisites)
    for other in wanted:
        if other.module.course_id != module.course_id:
            problems.append(OTHER_COURSE_LESSON)
        elif module.pk is not None and other.module_id == module.pk:
            problems.append(
                f"'{other.title}' is in this module: a module can only require lessons outside it."
            )
    if problems or module.pk is None:
        return problems
    edges = _prerequisite_edges(module.course_id)
    inside = set(Lesson.objects.filter(module_id=module.pk).values_list("pk", flat=True))
    # Its lessons' edges: their own prerequisites plus the proposed module requirements.
    own = Lesson.prerequisites.through.objects.filter(from_lesson_id__in=inside)
    own_edges: dict[int, set[int]] = {}
    for source, target in own.values_list("from_lesson_id", "to_lesson_id"):
        own_edges.setdefault(source, set()).add(target)
    for lesson_id in inside:
        edges[lesson_id] = own_edges.get(lesson_id, set()) | {other.pk for other in wanted}
    loop = _loop_through(edges, {other.pk for other in wanted}, inside)
    if loop is None:
        return []
    titles = dict(Lesson.objects.filter(module__course_id=module.course_id).values_list("pk", "title"))
    return [_loop_message(titles, f"module '{module.title}'", loop[0], loop[1])]


@transaction.atomic
def lesson_set_prerequisites(*, actor, lesson: Lesson, prerequisites) -> Lesson:
    _require_editor(actor, lesson.module.course)
    problems = prerequisite_problems(lesson=lesson, prerequisites=prerequisites)
    if problems:
        raise CourseError(problems[0], problems)
    lesson.prerequisites.set(prerequisites)
    return lesson


@transaction.atomic
def module_set_prerequisites(*, actor, module: Module, prerequisites) -> Module:
    _require_editor(actor, module.course)
    problems = module_prerequisite_problems(module=module, prerequisites=prerequisites)
    if problems:
        raise CourseError(problems[0], problems)
    before = sorted(module.prerequisites.values_list("pk", flat=True))
    module.prerequisites.set(prerequisites)
    audit_record(
        actor=actor,
        action="module.prerequisites_changed",
        target=module,
        before={"prerequisites": before},
        after={"prerequisites": sorted(p.pk for p in prerequisites)},
    )
    return module
