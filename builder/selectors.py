"""What the builder page shows: the curriculum tree with a badge per row, read in a fixed few queries.

A row's "draft" badge compares the draft with the published revision through the very
snapshot publishing stores (`courses.snapshots.snapshot_of`), so "unpublished changes" here
means exactly what Publish would change for learners.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Prefetch
from django.utils import timezone

from accounts.models import AuditEntry
from courses.models import Course, Lesson, LessonKind, Module
from courses.snapshots import snapshot_of
from media_delivery.models import AssetKind, AssetStatus, MediaAsset, TranscodeStatus

#: Asset kinds that are a lesson's own media (a learner's submission is not).
LESSON_MEDIA_KINDS = (AssetKind.VIDEO, AssetKind.DOCUMENT)

#: Draft states of a row against the published revision.
DRAFT_NEW = "new"
DRAFT_CHANGED = "changed"


@dataclass(frozen=True)
class Badge:
    label: str
    tone: str = "neutral"
    #: a longer explanation (the prerequisites' titles, a rejection's reason)
    detail: str = ""


@dataclass
class LessonRow:
    lesson: Lesson
    badges: list[Badge]
    archived: bool


@dataclass
class ModuleRow:
    module: Module
    badges: list[Badge]
    archived: bool
    lessons: list[LessonRow] = field(default_factory=list)
    archived_lessons: list[LessonRow] = field(default_factory=list)


@dataclass
class Tree:
    course: Course
    modules: list[ModuleRow]
    archived_modules: list[ModuleRow]
    published: bool
    unpublished_changes: bool


def _drip_badge(item: Module | Lesson) -> Badge | None:
    parts = []
    if item.drip_days:
        parts.append(f"{item.drip_days} day{'s' if item.drip_days != 1 else ''} after enrolling")
    if item.drip_at:
        parts.append(f"not before {_day(item.drip_at)}")
    if not parts:
        return None
    return Badge("Opens " + " and ".join(parts), tone="info")


def _day(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%-d %b %Y")


def _prerequisite_badge(prerequisites: list[Lesson]) -> Badge | None:
    live = [p for p in prerequisites if not p.is_deleted]
    if not live:
        return None
    count = len(live)
    return Badge(
        f"{count} prerequisite{'s' if count != 1 else ''}",
        tone="info",
        detail="Complete first: " + "; ".join(p.title for p in live),
    )


def media_badge(asset: MediaAsset | None) -> Badge | None:
    """Uploading, transcoding, ready or rejected: where the lesson's newest file stands."""
    if asset is None:
        return None
    if asset.status == AssetStatus.PENDING:
        return Badge("Uploading", tone="warning")
    if asset.status == AssetStatus.REJECTED:
        return Badge("Media rejected", tone="danger", detail=asset.reason)
    if asset.transcode_status == TranscodeStatus.QUEUED:
        return Badge("Transcoding", tone="warning")
    if asset.transcode_status == TranscodeStatus.FAILED:
        return Badge("Transcoding failed", tone="danger", detail=asset.transcode_error)
    return Badge("Media ready", tone="success")


def _draft_badge(state: str | None) -> Badge | None:
    if state == DRAFT_NEW:
        return Badge("New", tone="changes", detail="Not published yet.")
    if state == DRAFT_CHANGED:
        return Badge("Unpublished changes", tone="changes", detail="Learners see the published version.")
    return None


def draft_states(course: Course) -> tuple[dict[int, str], dict[int, str], bool]:
    """Module id -> draft state, lesson id -> draft state, and whether anything is unpublished.

    A lesson counts as changed when its published fields differ, or when it moved (to another
    module or another place in its module); a module when its own fields or place differ.
    """
    draft = snapshot_of(course)
    published = course.published_revision.snapshot if course.published_revision_id else None
    module_states: dict[int, str] = {}
    lesson_states: dict[int, str] = {}
    old_modules = {m["id"]: (index, m) for index, m in enumerate(published["modules"])} if published else {}
    old_lessons = {
        lesson["id"]: (m["id"], index, lesson)
        for m in (published["modules"] if published else [])
        for index, lesson in enumerate(m["lessons"])
    }
    for position, module in enumerate(draft["modules"]):
        before = old_modules.get(module["id"])
        if before is None:
            module_states[module["id"]] = DRAFT_NEW
        else:
            old_index, old = before
            own = {k: v for k, v in module.items() if k != "lessons"}
            if old_index != position or own != {k: v for k, v in old.items() if k != "lessons"}:
                module_states[module["id"]] = DRAFT_CHANGED
        for index, lesson in enumerate(module["lessons"]):
            was = old_lessons.get(lesson["id"])
            if was is None:
                lesson_states[lesson["id"]] = DRAFT_NEW
            elif was != (module["id"], index, lesson):
                lesson_states[lesson["id"]] = DRAFT_CHANGED
    unpublished = published is None or draft != published
    return module_states, lesson_states, unpublished


def _newest_media(lesson_ids: list[int]) -> dict[int, MediaAsset]:
    newest: dict[int, MediaAsset] = {}
    assets = (
        MediaAsset.objects.filter(lesson_id__in=lesson_ids, kind__in=LESSON_MEDIA_KINDS)
        .only("lesson_id", "status", "reason", "transcode_status", "transcode_error", "created_at")
        .order_by("lesson_id", "-created_at")
    )
    for asset in assets:
        newest.setdefault(asset.lesson_id, asset)
    return newest


def _lesson_row(
    lesson: Lesson, *, archived: bool, draft: dict[int, str], media: dict[int, MediaAsset]
) -> LessonRow:
    badges = [Badge(LessonKind(lesson.kind).label, tone="kind")]
    for badge in (
        _drip_badge(lesson),
        _prerequisite_badge(list(lesson.prerequisites.all())),
        None if archived else _draft_badge(draft.get(lesson.pk)),
        media_badge(media.get(lesson.pk)),
    ):
        if badge is not None:
            badges.append(badge)
    return LessonRow(lesson=lesson, badges=badges, archived=archived)


def curriculum_tree(course: Course) -> Tree:
    """Every module and lesson of the course (archived ones apart), in order, with their badges."""
    module_states, lesson_states, unpublished = draft_states(course)
    modules = list(
        Module.objects.filter(course=course)
        .order_by("position", "id")
        .prefetch_related(
            "prerequisites",
            Prefetch(
                "lessons",
                queryset=Lesson.objects.order_by("position", "id").prefetch_related("prerequisites"),
            ),
        )
    )
    media = _newest_media([lesson.pk for module in modules for lesson in module.lessons.all()])
    live: list[ModuleRow] = []
    archived: list[ModuleRow] = []
    for module in modules:
        badges = [
            badge
            for badge in (
                _drip_badge(module),
                _prerequisite_badge(list(module.prerequisites.all())),
                None if module.is_deleted else _draft_badge(module_states.get(module.pk)),
            )
            if badge is not None
        ]
        row = ModuleRow(module=module, badges=badges, archived=module.is_deleted)
        for lesson in module.lessons.all():
            lesson_row = _lesson_row(lesson, archived=lesson.is_deleted, draft=lesson_states, media=media)
            # In an archived module every lesson is listed as it was; restoring the module
            # brings back those that were live.
            if lesson.is_deleted and not module.is_deleted:
                row.archived_lessons.append(lesson_row)
            else:
                row.lessons.append(lesson_row)
        (archived if module.is_deleted else live).append(row)
    return Tree(
        course=course,
        modules=live,
        archived_modules=archived,
        published=course.published_revision_id is not None,
        unpublished_changes=unpublished,
    )


@dataclass(frozen=True)
class LessonChange:
    """Who last changed a lesson's content and when, for the editor's conflict line."""

    name: str
    at: datetime


def lesson_last_change(lesson: Lesson) -> LessonChange:
    """The newest `lesson.updated` audit row of the lesson (its `updated_at` if there is none)."""
    entry = (
        AuditEntry.objects.filter(
            target_type="courses.lesson", target_id=str(lesson.pk), action="lesson.updated"
        )
        .select_related("actor")
        .order_by("-created_at", "-id")
        .first()
    )
    if entry is None:
        return LessonChange(name="someone", at=lesson.updated_at)
    name = entry.actor.get_full_name() if entry.actor else (entry.actor_email or "someone")
    return LessonChange(name=name, at=entry.created_at)
