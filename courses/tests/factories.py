"""Build courses for tests: call inside a tenant (the `in_tenant` fixture or schema_context)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from courses.models import Course, CourseStatus, Lesson, LessonKind, Module
from courses.outline import PublishedLesson
from courses.services import course_publish


def make_course(
    *,
    slug: str = "course",
    modules: int = 1,
    lessons: int = 2,
    publish: bool = True,
    policy: str = "open",
    **fields,
) -> Course:
    course = Course.objects.create(
        title=fields.pop("title", slug.replace("-", " ").title()),
        slug=slug,
        enrollment_policy=policy,
        **fields,
    )
    for m in range(modules):
        module = Module.objects.create(course=course, title=f"Module {m + 1}", position=m)
        for n in range(lessons):
            Lesson.objects.create(
                module=module,
                title=f"Lesson {m + 1}.{n + 1}",
                kind=LessonKind.TEXT,
                body=f"Text of lesson {m + 1}.{n + 1}.",
                position=n,
                duration_minutes=5,
            )
    if publish:
        admin = get_user_model().objects.filter(role="admin").first()
        course_publish(actor=admin, course=course)
        course.refresh_from_db()
    assert course.status == (CourseStatus.PUBLISHED if publish else CourseStatus.DRAFT)
    return course


def lessons_of(course: Course) -> list[Lesson]:
    return list(Lesson.objects.filter(module__course=course).order_by("module__position", "position"))


def published_lesson(**fields) -> PublishedLesson:
    """A lesson of a published outline, for tests of the policy that need no course."""
    defaults: dict[str, Any] = {"id": 1, "title": "Lesson", "kind": LessonKind.TEXT, "module_id": 1}
    defaults |= {"module_title": "Module", "index": 0, "html": ""}
    fields = defaults | fields
    fields["kind"] = LessonKind(fields["kind"])
    fields["prerequisites"] = tuple(fields.get("prerequisites", ()))
    return PublishedLesson(**fields)
