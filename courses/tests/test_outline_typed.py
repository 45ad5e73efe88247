"""The published outline is typed: frozen objects, LessonKind kinds, snapshots of any age (ADR 0175)."""

import dataclasses
import pickle

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from courses import selectors
from courses.markdown import SANITIZER_VERSION
from courses.models import Lesson, LessonKind
from courses.outline import (
    OUTLINE_VERSION,
    Outline,
    PublishedCourse,
    PublishedLesson,
    PublishedModule,
    outline_from,
)
from courses.services import course_publish, lesson_set_prerequisites
from courses.tests.factories import lessons_of, make_course

# A revision as published before schedules and prerequisites existed, with a key no
# current code knows.
OLD_SNAPSHOT = {
    "course": {"id": 7, "title": "Old course", "slug": "old", "summary": "", "description": "Hi"},
    "modules": [
        {
            "id": 3,
            "title": "Only module",
            "summary": "",
            "lessons": [
                {
                    "id": 11,
                    "title": "Watch",
                    "kind": "video",
                    "duration_minutes": 4,
                    "is_preview": True,
                    "is_required": True,
                    "body": "**Bold**",
                    "embed_url": "",
                    "video": "videos/a.mp4",
                    "legacy_colour": "red",
                },
                {
                    "id": 12,
                    "title": "Check",
                    "kind": "quiz",
                    "duration_minutes": 2,
                    "is_preview": False,
                    "is_required": False,
                    "body": "",
                    "embed_url": "",
                },
            ],
        }
    ],
}


def test_the_outline_is_made_of_frozen_typed_objects(in_tenant):
    course = make_course(slug="typed", modules=2, lessons=2)
    outline = selectors.outline_for(course)
    assert isinstance(outline, Outline) and isinstance(outline.course, PublishedCourse)
    assert outline.course.title == "Typed" and outline.course.slug == "typed"
    assert all(isinstance(module, PublishedModule) for module in outline.modules)
    assert [module.position for module in outline.modules] == [0, 1]
    assert all(isinstance(lesson, PublishedLesson) for lesson in outline.lessons)
    assert [lesson.index for lesson in outline.lessons] == [0, 1, 2, 3]
    assert outline.modules[1].lessons == outline.lessons[2:]
    first = outline.lessons[0]
    assert type(first.kind) is LessonKind and first.kind is LessonKind.TEXT
    assert outline.kinds[first.id] is LessonKind.TEXT
    assert first.module_title == "Module 1" and first.html.startswith("<p>Text of lesson 1.1")
    assert first.prerequisites == () and first.gate_days is None and first.gate_at is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.title = "Changed"
    assert not hasattr(first, "__dict__")  # slotted: no stray attributes
    assert outline.lesson(str(first.id)) is first
    with pytest.raises(Http404):
        outline.lesson(999999)


def test_a_lessons_gate_joins_its_modules_schedule_and_prerequisites(in_tenant):
    course = make_course(slug="typed-gates", modules=2, lessons=1, publish=False)
    first, second = lessons_of(course)
    second.drip_days = 2
    second.save()
    second.module.drip_days = 5
    second.module.save()
    admin = get_user_model().objects.get(email="admin@acme.test")
    lesson_set_prerequisites(actor=admin, lesson=second, prerequisites=[first])
    course_publish(actor=admin, course=course)
    course.refresh_from_db()
    lesson = selectors.outline_for(course).lesson(second.pk)
    assert lesson.drip_days == 2 and lesson.gate_days == 5  # the later schedule wins
    assert lesson.prerequisites == (first.pk,) and isinstance(lesson.prerequisites, tuple)


def test_an_old_snapshot_without_schedules_or_prerequisites_opens_with_defaults():
    outline = outline_from(5, OLD_SNAPSHOT)
    watch, check = outline.lessons
    assert watch.kind is LessonKind.VIDEO and check.kind is LessonKind.QUIZ
    assert (watch.gate_days, watch.gate_at, watch.prerequisites) == (None, None, ())
    assert (watch.drip_days, watch.drip_at) == (None, None)
    assert watch.media_name(LessonKind.VIDEO) == "videos/a.mp4" and watch.document == ""
    assert check.media_name(LessonKind.VIDEO) == ""
    assert not hasattr(watch, "legacy_colour")  # unknown keys are dropped, not fatal
    assert outline.modules[0].prerequisites == () and outline.modules[0].drip_days is None
    assert outline.course.level == "" and outline.course.cover == ""
    assert outline.required_ids == [11]
    assert outline.titles == {11: "Watch", 12: "Check"}
    assert outline.neighbours(12) == (watch, None)
    assert "<strong>Bold</strong>" in watch.html


def test_the_outline_survives_pickling_through_the_cache(in_tenant):
    course = make_course(slug="typed-cache")
    key = f"course-outline:{course.published_revision_id}:md{SANITIZER_VERSION}:v{OUTLINE_VERSION}"
    cache.delete(key)
    selectors._LOCAL_OUTLINES.clear()
    built = selectors.outline_for(course)
    assert built.titles  # a cached lookup computed before pickling does not get in the way
    assert pickle.loads(pickle.dumps(built)) == built  # noqa: S301 (our own bytes)
    selectors._LOCAL_OUTLINES.clear()
    with CaptureQueriesContext(connection) as queries:
        again = selectors.outline_for(course)  # from Redis, unpickled
    assert not queries.captured_queries
    assert again == built and again is not built
    assert type(again.lessons[0]) is PublishedLesson and again.lessons[0].kind is LessonKind.TEXT
    assert again.kinds == built.kinds


def test_the_cache_key_names_the_outline_shape(in_tenant):
    """An outline pickled in the old dict shape is never read back as a typed one."""
    course = make_course(slug="typed-key")
    revision = course.published_revision_id
    old_key = f"course-outline:{revision}:md{SANITIZER_VERSION}"
    cache.set(old_key, "an outline of dicts", 300)
    selectors._LOCAL_OUTLINES.clear()
    cache.delete(f"{old_key}:v{OUTLINE_VERSION}")
    assert isinstance(selectors.outline_for(course), Outline)


def test_the_draft_preview_is_typed_too(in_tenant):
    course = make_course(slug="typed-draft", publish=False)
    Lesson.objects.filter(module__course=course).update(kind=LessonKind.EMBED, embed_url="https://e.test/x")
    outline = selectors.outline_of_draft(course)
    assert outline.revision_id == 0
    assert {lesson.kind for lesson in outline.lessons} == {LessonKind.EMBED}
    assert outline.lessons[0].embed_url == "https://e.test/x"


def test_a_lesson_is_not_a_dict():
    """No dict reading survives: templates resolve attributes, Python code reads them."""
    lesson = outline_from(5, OLD_SNAPSHOT).lessons[0]
    with pytest.raises(TypeError):
        lesson["title"]
    assert not hasattr(lesson, "get") and not hasattr(lesson, "items")
