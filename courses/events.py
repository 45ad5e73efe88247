"""How a course appears in domain events (core.events) and so in webhook bodies."""

from __future__ import annotations


def course_data(course) -> dict:
    return {"id": course.pk, "slug": course.slug, "title": course.title}
