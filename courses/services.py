"""Every write to what creators author: publish, restore, reorder, archive, delete."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts.audit import audit_record
from accounts.models import Role
from analytics.ingest import track
from core.errors import DomainError

from .models import (
    Course,
    CourseRevision,
    CourseStaff,
    CourseStaffRole,
    CourseStatus,
    Lesson,
    LessonKind,
    Module,
)
from .permissions import OWNER, course_role, is_tenant_admin, may_edit, may_manage_staff
from .snapshots import card_of, changes_between, snapshot_of


class CourseError(DomainError):
    """A refused change to a course, with sentences saying what to fix."""

    def __init__(self, message: str, problems: list[str] | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.problems = problems or [message]


def _require_editor(actor, course: Course) -> None:
    if actor is None or not may_edit(actor, course):
        raise CourseError("Only this course's instructors and the organization's admins can change it.")


def _require_admin(actor) -> None:
    if not is_tenant_admin(actor):
        raise CourseError("Only an admin of the organization can do this.")


def course_publish_problems(*, course: Course) -> list[str]:
    """What stops the course's draft from being published, as sentences for the author."""
    problems = []
    if not course.title.strip():
        problems.append("The course needs a title.")
    modules = list(course.modules.alive().prefetch_related("lessons"))
    if not modules:
        problems.append("Add at least one module.")
    lesson_count = 0
    for module in modules:
        if not module.title.strip():
            problems.append(f"Module {module.position + 1} needs a title.")
        lessons = [lesson for lesson in module.lessons.all() if not lesson.is_deleted]
        if not lessons:
            problems.append(
                f"Module '{module.title or module.position + 1}' has no lessons: add one or delete it."
            )
        for lesson in lessons:
            lesson_count += 1
            name = (
                f"'{lesson.title}'"
                if lesson.title.strip()
                else f"Lesson {lesson.position + 1} of '{module.title}'"
            )
            if not lesson.title.strip():
                problems.append(f"{name} needs a title.")
            if lesson.kind == LessonKind.VIDEO and not lesson.video:
                problems.append(f"Video lesson {name} has no video: upload one.")
            if lesson.kind == LessonKind.DOCUMENT and not lesson.document:
                problems.append(f"Document lesson {name} has no PDF: upload one.")
            if lesson.kind == LessonKind.EMBED and not lesson.embed_url:
                problems.append(f"External video lesson {name} has no video address.")
            if lesson.kind == LessonKind.TEXT and not lesson.body.strip():
                problems.append(f"Text lesson {name} is empty.")
    if modules and not lesson_count:
        problems.append("Add at least one lesson.")
    return problems


def _next_revision_number(course: Course) -> int:
    return (course.revisions.aggregate(n=Max("number"))["n"] or 0) + 1


@transaction.atomic
def course_publish(*, actor, course: Course, summary: str = "") -> CourseRevision:
    """Make the current draft what learners see, keeping the earlier revision restorable."""
    _require_editor(actor, course)
    Course.objects.select_for_update().get(pk=course.pk)  # one publish at a time per course
    course.refresh_from_db()
    if course.is_deleted:
        raise CourseError("This course is deleted; restore it before publishing.")
    problems = course_publish_problems(course=course)
    if problems:
        raise CourseError("The course is not ready to publish.", problems)
    snapshot = snapshot_of(course)
    previous = course.published_revision
    if previous is not None and previous.snapshot == snapshot and course.status == CourseStatus.PUBLISHED:
        raise CourseError("Nothing has changed since the last publish.")
    changes = changes_between(previous.snapshot if previous else None, snapshot)
    revision = CourseRevision.objects.create(
        course=course,
        number=_next_revision_number(course),
        author=actor,
        summary=summary.strip() or changes,
        card=card_of(snapshot),
        snapshot=snapshot,
    )
    before = {"revision": previous.number if previous else None, "status": course.status}
    course.published_revision = revision
    course.status = CourseStatus.PUBLISHED
    course.save(update_fields=["published_revision", "status", "updated_at"])
    audit_record(
        actor=actor,
        action="course.published",
        target=course,
        before=before,
        after={"revision": revision.number, "summary": revision.summary},
    )
    published = {"course_id": course.pk, "revision": revision.number}
    transaction.on_commit(lambda: track("course.published", user_id=actor.pk, payload=published))
    return revision


@transaction.atomic
def revision_restore(*, actor, revision: CourseRevision) -> CourseRevision:
    """Bring the draft back to an earlier revision and publish it as a new revision."""
    course = revision.course
    _require_admin(actor)
    Course.objects.select_for_update().get(pk=course.pk)
    course.refresh_from_db()
    snapshot = revision.snapshot
    data = snapshot["course"]
    if Course.objects.filter(slug=data["slug"]).exclude(pk=course.pk).exists():
        raise CourseError(
            f"Revision {revision.number} used the address '{data['slug']}', which another course has now; "
            "change that course's slug first."
        )
    for field in (
        "title",
        "slug",
        "summary",
        "description",
        "level",
        "estimated_minutes",
        "enrollment_policy",
    ):
        setattr(course, field, data[field])
    course.category_id = data.get("category_id")
    course.cover.name = data.get("cover") or ""
    course.save()
    kept_modules, kept_lessons = set(), set()
    for m_pos, m in enumerate(snapshot["modules"]):
        module = Module.objects.filter(pk=m["id"], course=course).first() or Module(course=course)
        module.title, module.summary, module.position, module.deleted_at = (
            m["title"],
            m["summary"],
            m_pos,
            None,
        )
        module.save()
        kept_modules.add(module.pk)
        for l_pos, item in enumerate(m["lessons"]):
            lesson = Lesson.objects.filter(pk=item["id"], module__course=course).first() or Lesson()
            lesson.module, lesson.position, lesson.deleted_at = module, l_pos, None
            for field in (
                "title",
                "kind",
                "duration_minutes",
                "is_preview",
                "is_required",
                "body",
                "embed_url",
            ):
                setattr(lesson, field, item[field])
            lesson.video.name = item.get("video") or ""
            lesson.document.name = item.get("document") or ""
            lesson.save()
            kept_lessons.add(lesson.pk)
    now = timezone.now()
    Module.objects.filter(course=course, deleted_at__isnull=True).exclude(pk__in=kept_modules).update(
        deleted_at=now
    )
    Lesson.objects.filter(module__course=course, deleted_at__isnull=True).exclude(pk__in=kept_lessons).update(
        deleted_at=now
    )
    audit_record(
        actor=actor, action="course.revision_restored", target=course, after={"from": revision.number}
    )
    return course_publish(actor=actor, course=course, summary=f"Restored revision {revision.number}.")


@transaction.atomic
def course_archive(*, actor, course: Course) -> Course:
    """Take the course out of the catalog; enrolled learners keep what they have."""
    _require_editor(actor, course)
    if course.status != CourseStatus.PUBLISHED:
        raise CourseError("Only a published course can be archived.")
    course.status = CourseStatus.ARCHIVED
    course.save(update_fields=["status", "updated_at"])
    audit_record(actor=actor, action="course.archived", target=course)
    return course


@transaction.atomic
def course_unarchive(*, actor, course: Course) -> Course:
    _require_editor(actor, course)
    if course.status != CourseStatus.ARCHIVED:
        raise CourseError("This course is not archived.")
    course.status = CourseStatus.PUBLISHED if course.published_revision_id else CourseStatus.DRAFT
    course.save(update_fields=["status", "updated_at"])
    audit_record(actor=actor, action="course.unarchived", target=course)
    return course


@transaction.atomic
def course_delete(*, actor, course: Course) -> Course:
    """Soft delete: the course disappears for learners; an admin can restore it."""
    _require_admin(actor)
    course.soft_delete()
    audit_record(actor=actor, action="course.deleted", target=course)
    return course


@transaction.atomic
def course_restore(*, actor, course: Course) -> Course:
    _require_admin(actor)
    course.restore()
    audit_record(actor=actor, action="course.restored", target=course)
    return course


def _swap(items: list, index: int, direction: str) -> None:
    other = index - 1 if direction == "up" else index + 1
    if direction not in {"up", "down"}:
        raise CourseError("Move up or down.")
    if not 0 <= other < len(items):
        return
    items[index], items[other] = items[other], items[index]
    for position, item in enumerate(items):
        if item.position != position:
            item.position = position
            item.save(update_fields=["position", "updated_at"])


@transaction.atomic
def module_move(*, actor, module: Module, direction: str) -> None:
    _require_editor(actor, module.course)
    modules = list(Module.objects.alive().select_for_update().filter(course_id=module.course_id))
    _swap(modules, [m.pk for m in modules].index(module.pk), direction)


@transaction.atomic
def lesson_move(*, actor, lesson: Lesson, direction: str) -> None:
    _require_editor(actor, lesson.module.course)
    lessons = list(Lesson.objects.alive().select_for_update().filter(module_id=lesson.module_id))
    _swap(lessons, [x.pk for x in lessons].index(lesson.pk), direction)


def next_position(queryset) -> int:
    return (queryset.aggregate(p=Max("position"))["p"] or -1) + 1


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
    lesson.save()
    return lesson


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


# --- course staff -----------------------------------------------------------------


def course_staff_problems(*, actor, course: Course, members: dict) -> list[str]:
    """Why this staff list (user -> role) cannot replace the course's (empty when it can)."""
    problems = []
    owners = [user for user, role in members.items() if role == CourseStaffRole.OWNER]
    if len(owners) > 1:
        problems.append("A course has at most one owner: make the others co-instructors.")
    for user, role in members.items():
        if role not in CourseStaffRole.values:
            problems.append(f"'{role}' is not a course staff role.")
        if not user.is_active or user.role not in (Role.INSTRUCTOR, Role.ADMIN):
            problems.append(
                f"{user} is not an instructor or admin of the organization: change their role first."
            )
    if actor is not None and not is_tenant_admin(actor) and course.pk is not None:
        if actor not in members:
            problems.append("You cannot remove yourself from the course's staff; ask an admin.")
        elif course_role(actor, course) == OWNER and members[actor] != CourseStaffRole.OWNER and not owners:
            problems.append("Name another owner before you step down, or ask an admin.")
    return problems


@transaction.atomic
def course_staff_set(*, actor, course: Course, members: dict) -> None:
    """Replace the course's staff with `members` (user -> role); audited with before and after."""
    if actor is not None and not may_manage_staff(actor, course):
        raise CourseError("Only the course's owner and the organization's admins can change its staff.")
    problems = course_staff_problems(actor=actor, course=course, members=members)
    if problems:
        raise CourseError(problems[0], problems)
    Course.objects.select_for_update().get(pk=course.pk)
    current = {row.user_id: row for row in CourseStaff.objects.filter(course=course).select_related("user")}
    before = {row.user.email: row.role for row in current.values()}
    wanted = {user.pk: (user, role) for user, role in members.items()}
    CourseStaff.objects.filter(course=course).exclude(user_id__in=wanted).delete()
    # Demote a leaving owner before promoting the new one (one owner per course, checked by the database).
    for user_id, (_, role) in sorted(wanted.items(), key=lambda item: item[1][1] == CourseStaffRole.OWNER):
        row = current.get(user_id)
        if row is None:
            CourseStaff.objects.create(course=course, user_id=user_id, role=role)
        elif row.role != role:
            row.role = role
            row.save(update_fields=["role"])
    after = {user.email: role for user, role in members.items()}
    if before != after:
        audit_record(actor=actor, action="course.staff_changed", target=course, before=before, after=after)
