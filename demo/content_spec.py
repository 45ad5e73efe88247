"""The typed schema of the demo catalogs, and the loader of their data files.

The content itself lives in `demo/content/<tenant>/`: `catalog.toml` (categories, courses,
modules, lessons, the demo learner's journey) and the Markdown it names with `*_file` keys,
so prose is edited as Markdown. acme and globex get different catalogs, so anyone comparing
the two sites sees that tenants do not share content. Loading checks every key, type, choice
and file (demo/content_files.py), and a mistake raises ContentError naming the file and field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from courses.models import EnrollmentPolicy, LessonKind, Level
from demo.content_files import ContentError, LazyContent, build, load_toml

CONTENT_DIR = Path(__file__).resolve().with_name("content")
TENANTS = ("acme", "globex")
SEEDED_KINDS = (LessonKind.TEXT, LessonKind.VIDEO, LessonKind.DOCUMENT)  # what seed_demo can make


@dataclass(frozen=True)
class CategorySpec:
    slug: str
    name: str
    parent: str | None = None  # slug of a top-level category


@dataclass(frozen=True)
class DocumentSpec:
    """A PDF made by core.pdf.pdf_document (plain text, "## " headings, "- " items)."""

    name: str
    title: str
    subtitle: str
    body: str


@dataclass(frozen=True)
class LessonSpec:
    title: str
    minutes: int
    body: str
    kind: LessonKind = LessonKind.TEXT
    preview: bool = False
    document: DocumentSpec | None = None  # for document lessons
    requires: tuple[str, ...] = ()  # titles of lessons in the same course to complete first

    def __post_init__(self) -> None:
        if self.kind not in SEEDED_KINDS:
            raise ContentError(f"kind {self.kind.value!r}: seed_demo makes {', '.join(SEEDED_KINDS)} lessons")
        if (self.kind == LessonKind.DOCUMENT) != (self.document is not None):
            raise ContentError("a document lesson needs a [document] table, and only a document lesson")


@dataclass(frozen=True)
class ModuleSpec:
    title: str
    summary: str
    lessons: list[LessonSpec]
    opens_after_days: int | None = None  # drip: days after the learner enrolls


@dataclass(frozen=True)
class CourseSpec:
    slug: str
    title: str
    summary: str
    description: str
    category: str
    level: Level
    modules: list[ModuleSpec]
    policy: EnrollmentPolicy = EnrollmentPolicy.OPEN

    @property
    def lessons(self) -> list[LessonSpec]:
        return [lesson for module in self.modules for lesson in module.lessons]

    def __post_init__(self) -> None:
        titles = [lesson.title for lesson in self.lessons]
        if len(set(titles)) != len(titles):
            raise ContentError("two lessons have the same title (prerequisites name lessons by title)")
        for lesson in self.lessons:
            if missing := [title for title in lesson.requires if title not in titles]:
                raise ContentError(f"lesson {lesson.title!r} requires {missing}, not lessons of this course")


@dataclass(frozen=True)
class LearnerJourney:
    """Where the demo learner is in one course: lessons done, and a video part-watched."""

    course: str
    completed: list[str]  # lesson titles, completed in this order
    video: str  # title of the video lesson the learner stopped in
    video_position: int  # seconds


@dataclass(frozen=True)
class Catalog:
    categories: list[CategorySpec]
    courses: list[CourseSpec]
    journey: LearnerJourney

    def __post_init__(self) -> None:
        slugs = {category.slug for category in self.categories}
        for name, slug in [(c.slug, c.parent) for c in self.categories if c.parent] + [
            (c.slug, c.category) for c in self.courses
        ]:
            if slug not in slugs:
                raise ContentError(f"{name} names category {slug!r}, which is not in [[categories]]")


def catalog_load(folder: Path) -> Catalog:
    """The catalog of `folder`/catalog.toml, checked (ContentError names what is wrong)."""
    path = folder / "catalog.toml"
    return build(Catalog, load_toml(path), path=path)


CATALOGS: Mapping[str, Catalog] = LazyContent(TENANTS, lambda slug: catalog_load(CONTENT_DIR / slug))
