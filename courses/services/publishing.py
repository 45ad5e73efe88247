"""Publishing: what stops a draft, the revision it becomes, and bringing an old revision back."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts.audit import audit_record
from analytics.ingest import track

from ..models import Course, CourseRevision, CourseStatus, Lesson, LessonKind, Module
from ..snapshots import card_of, changes_between, snapshot_of
from .common import CourseError, _require_admin, _require_editor


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
            if lesson.pk is not None:
                lesson.version += 1  # restored content: an open editor must reload
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
