"""The published outline as typed, immutable objects (ADR 0175).

A revision's snapshot is JSON (courses.snapshots); learners' pages, the door and the API read
it through these classes instead of the raw dicts, so a misspelt key fails at the attribute
and a lesson's kind is a `LessonKind`. Built once per revision and cached (pickled) in Redis
and per process: bump OUTLINE_VERSION when a field is added, removed or changes type.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from django.http import Http404

from .markdown import render_markdown
from .models import LessonKind

# Part of the outline cache key (courses.selectors): outlines pickled in an older shape must
# not be read back as this one.
OUTLINE_VERSION = 2


@dataclass(frozen=True, slots=True)
class PublishedCourse:
    """The course header a revision carries."""

    id: int
    title: str
    slug: str = ""
    summary: str = ""
    description: str = ""
    level: str = ""
    estimated_minutes: int | None = None
    enrollment_policy: str = ""
    category_id: int | None = None
    cover: str = ""


@dataclass(frozen=True, slots=True)
class PublishedLesson:
    """A lesson as learners see it, with its place in the course and its rendered body."""

    id: int
    title: str
    kind: LessonKind
    module_id: int
    module_title: str
    index: int  # place in reading order across the whole course
    html: str  # the body rendered and sanitised
    body: str = ""
    duration_minutes: int = 0
    is_preview: bool = False
    is_required: bool = True
    embed_url: str = ""
    video: str = ""  # storage name of the video file, "" when none
    document: str = ""  # storage name of the PDF, "" when none
    drip_days: int | None = None  # the lesson's own schedule, as authored
    drip_at: str | None = None
    # The effective gate: the later of the module's and the lesson's schedules.
    gate_days: int | None = None
    gate_at: datetime | None = None
    # The lesson's own prerequisites and its module's, sorted.
    prerequisites: tuple[int, ...] = ()

    def media_name(self, kind: str) -> str:
        """The storage name of the file this lesson shows for `kind` ("video", "document")."""
        if kind == LessonKind.VIDEO:
            return self.video
        if kind == LessonKind.DOCUMENT:
            return self.document
        return ""


@dataclass(frozen=True, slots=True)
class PublishedModule:
    id: int
    title: str
    summary: str = ""
    position: int = 0  # place among the course's modules
    drip_days: int | None = None
    drip_at: str | None = None
    prerequisites: tuple[int, ...] = ()
    lessons: tuple[PublishedLesson, ...] = ()


@dataclass(frozen=True)
class Outline:
    """A published revision ready to render: modules, lessons (with HTML), and lookups.

    Not slotted: the lookups below are cached properties.
    """

    revision_id: int
    course: PublishedCourse
    modules: tuple[PublishedModule, ...]
    lessons: tuple[PublishedLesson, ...]  # in reading order
    by_id: Mapping[int, PublishedLesson] = field(repr=False)

    @cached_property
    def titles(self) -> dict[int, str]:
        return {lesson.id: lesson.title for lesson in self.lessons}

    @cached_property
    def kinds(self) -> dict[int, LessonKind]:
        return {lesson.id: lesson.kind for lesson in self.lessons}

    @property
    def required_ids(self) -> list[int]:
        return [lesson.id for lesson in self.lessons if lesson.is_required]

    def lesson(self, lesson_id: int) -> PublishedLesson:
        try:
            return self.by_id[int(lesson_id)]
        except (KeyError, ValueError, TypeError):
            raise Http404("No such lesson in this course.") from None

    def neighbours(self, lesson_id: int) -> tuple[PublishedLesson | None, PublishedLesson | None]:
        index = self.lesson(lesson_id).index
        previous = self.lessons[index - 1] if index > 0 else None
        following = self.lessons[index + 1] if index + 1 < len(self.lessons) else None
        return previous, following


def _later(*moments: str | None) -> datetime | None:
    parsed = [datetime.fromisoformat(m) for m in moments if m]
    return max(parsed) if parsed else None


def _ids(values: Iterable | None) -> tuple[int, ...]:
    return tuple(sorted({int(v) for v in values or ()}))


def _course_from(data: dict) -> PublishedCourse:
    return PublishedCourse(
        id=data["id"],
        title=data["title"],
        slug=data.get("slug") or "",
        summary=data.get("summary") or "",
        description=data.get("description") or "",
        level=data.get("level") or "",
        estimated_minutes=data.get("estimated_minutes"),
        enrollment_policy=data.get("enrollment_policy") or "",
        category_id=data.get("category_id"),
        cover=data.get("cover") or "",
    )


def _lesson_from(data: dict, module: dict, index: int) -> PublishedLesson:
    # A lesson opens when both its module's and its own schedule allow it. Revisions published
    # before schedules or prerequisites existed have no such keys: no gate. Keys this class
    # does not know are ignored.
    return PublishedLesson(
        id=data["id"],
        title=data["title"],
        kind=LessonKind(data["kind"]),
        module_id=module["id"],
        module_title=module["title"],
        index=index,
        html=str(render_markdown(data.get("body") or "")),
        body=data.get("body") or "",
        duration_minutes=data.get("duration_minutes") or 0,
        is_preview=bool(data.get("is_preview")),
        is_required=bool(data.get("is_required", True)),
        embed_url=data.get("embed_url") or "",
        video=data.get("video") or "",
        document=data.get("document") or "",
        drip_days=data.get("drip_days"),
        drip_at=data.get("drip_at"),
        gate_days=max(module.get("drip_days") or 0, data.get("drip_days") or 0) or None,
        gate_at=_later(module.get("drip_at"), data.get("drip_at")),
        prerequisites=_ids([*(data.get("prerequisites") or ()), *(module.get("prerequisites") or ())]),
    )


def outline_from(revision_id: int, snapshot: dict) -> Outline:
    """The typed outline of a snapshot (courses.snapshots.snapshot_of's shape, any age)."""
    lessons: list[PublishedLesson] = []
    modules: list[PublishedModule] = []
    for position, module in enumerate(snapshot["modules"]):
        module_lessons = []
        for data in module["lessons"]:
            lesson = _lesson_from(data, module, len(lessons))
            lessons.append(lesson)
            module_lessons.append(lesson)
        modules.append(
            PublishedModule(
                id=module["id"],
                title=module["title"],
                summary=module.get("summary") or "",
                position=position,
                drip_days=module.get("drip_days"),
                drip_at=module.get("drip_at"),
                prerequisites=_ids(module.get("prerequisites")),
                lessons=tuple(module_lessons),
            )
        )
    return Outline(
        revision_id=revision_id,
        course=_course_from(snapshot["course"]),
        modules=tuple(modules),
        lessons=tuple(lessons),
        by_id={lesson.id: lesson for lesson in lessons},
    )
