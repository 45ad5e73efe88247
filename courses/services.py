"""Every write to what creators author: publish, restore, reorder, archive, delete."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts.audit import audit_record
from analytics.ingest import track

from .models import Course, CourseRevision, CourseStatus, Lesson, LessonKind, Module
from .snapshots import card_of, changes_between, snapshot_of


class CourseError(Exception):
    """A refused change to a course, with sentences saying what to fix."""

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = problems or [message]


def _require_editor(actor, course: Course) -> None:
    from .selectors import course_editable_by

    if actor is None or not course_editable_by(actor, course):
        raise CourseError("Only this course's instructors and the organization's admins can change it.")


def _require_admin(actor) -> None:
    if actor is None or not (getattr(actor, "role", None) == "admin" or actor.is_superuser):
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


def prerequisite_problems(*, lesson: Lesson, prerequisites) -> list[str]:
    """Why these prerequisites cannot be set on `lesson` (empty when they can)."""
    course_id = lesson.module.course_id
    problems = []
    wanted = list(prerequisites)
    for other in wanted:
        if other.pk == lesson.pk:
            problems.append(f"'{lesson.title}' cannot require itself.")
        elif other.module.course_id != course_id:
            problems.append(f"'{other.title}' is in another course; prerequisites come from this course.")
    if problems:
        return problems
    # The course's prerequisite graph with the proposed edges: is `lesson` reachable from them?
    edges: dict[int, set[int]] = {}
    through = Lesson.prerequisites.through.objects.filter(from_lesson__module__course_id=course_id)
    for source, target in through.values_list("from_lesson_id", "to_lesson_id"):
        edges.setdefault(source, set()).add(target)
    edges[lesson.pk] = {other.pk for other in wanted}
    titles = dict(Lesson.objects.filter(module__course_id=course_id).values_list("pk", "title"))
    for start in edges[lesson.pk]:
        seen, stack = {start}, [start]
        while stack:
            node = stack.pop()
            for following in edges.get(node, ()):
                if following == lesson.pk:
                    return [
                        f"That would make a loop: '{titles[lesson.pk]}' requires '{titles[start]}', which "
                        f"(directly or through other lessons) requires '{titles[lesson.pk]}'."
                    ]
                if following not in seen:
                    seen.add(following)
                    stack.append(following)
    return []


@transaction.atomic
def lesson_set_prerequisites(*, actor, lesson: Lesson, prerequisites) -> Lesson:
    _require_editor(actor, lesson.module.course)
    problems = prerequisite_problems(lesson=lesson, prerequisites=prerequisites)
    if problems:
        raise CourseError(problems[0], problems)
    lesson.prerequisites.set(prerequisites)
    return lesson
