"""The published form of a course: a JSON snapshot learners read, and what changed between two."""

from __future__ import annotations

from .models import Course

LESSON_FIELDS = ("title", "kind", "duration_minutes", "is_preview", "is_required", "body", "embed_url")


def snapshot_of(course: Course) -> dict:
    """The course's current draft as the JSON a published revision stores."""
    modules = []
    for module in (
        course.modules.alive()
        .order_by("position", "id")
        .prefetch_related("lessons__prerequisites", "prerequisites")
    ):
        lessons = [
            {
                "id": lesson.pk,
                **{field: getattr(lesson, field) for field in LESSON_FIELDS},
                "video": lesson.video.name or "",
                "document": lesson.document.name or "",
                "drip_days": lesson.drip_days,
                "drip_at": lesson.drip_at.isoformat() if lesson.drip_at else None,
                "prerequisites": sorted(p.pk for p in lesson.prerequisites.all() if not p.is_deleted),
            }
            for lesson in sorted(module.lessons.all(), key=lambda x: (x.position, x.pk))
            if not lesson.is_deleted
        ]
        modules.append(
            {
                "id": module.pk,
                "title": module.title,
                "summary": module.summary,
                "lessons": lessons,
                "drip_days": module.drip_days,
                "drip_at": module.drip_at.isoformat() if module.drip_at else None,
                "prerequisites": sorted(p.pk for p in module.prerequisites.all() if not p.is_deleted),
            }
        )
    return {
        "course": {
            "id": course.pk,
            "title": course.title,
            "slug": course.slug,
            "summary": course.summary,
            "description": course.description,
            "level": course.level,
            "estimated_minutes": course.estimated_minutes,
            "enrollment_policy": course.enrollment_policy,
            "category_id": course.category_id,
            "cover": course.cover.name or "",
        },
        "modules": modules,
    }


def card_of(snapshot: dict) -> dict:
    """What a catalog list needs, kept apart from the (large) snapshot."""
    lessons = [lesson for module in snapshot["modules"] for lesson in module["lessons"]]
    return {
        **{
            k: snapshot["course"][k]
            for k in (
                "title",
                "summary",
                "level",
                "estimated_minutes",
                "category_id",
                "cover",
                "enrollment_policy",
            )
        },
        "modules": len(snapshot["modules"]),
        "lessons": len(lessons),
        "required_lessons": sum(1 for lesson in lessons if lesson["is_required"]),
        "minutes": sum(lesson["duration_minutes"] for lesson in lessons),
    }


def changes_between(old: dict | None, new: dict) -> str:
    """A short account of what changed, for the revision history."""
    if old is None:
        lessons = sum(len(m["lessons"]) for m in new["modules"])
        return f"First publish: {len(new['modules'])} modules, {lessons} lessons."
    lines = []
    changed = [k for k, v in new["course"].items() if old["course"].get(k) != v]
    if changed:
        lines.append("Course details changed: " + ", ".join(k.replace("_", " ") for k in changed) + ".")
    old_modules = {m["id"]: m for m in old["modules"]}
    new_modules = {m["id"]: m for m in new["modules"]}
    for mid in new_modules.keys() - old_modules.keys():
        lines.append(f"Module added: {new_modules[mid]['title']}.")
    for mid in old_modules.keys() - new_modules.keys():
        lines.append(f"Module removed: {old_modules[mid]['title']}.")
    if [m for m in new_modules if m in old_modules] != [m for m in old_modules if m in new_modules]:
        lines.append("Modules reordered.")
    old_lessons = {x["id"]: x for m in old["modules"] for x in m["lessons"]}
    new_lessons = {x["id"]: x for m in new["modules"] for x in m["lessons"]}
    for lid in new_lessons.keys() - old_lessons.keys():
        lines.append(f"Lesson added: {new_lessons[lid]['title']}.")
    for lid in old_lessons.keys() - new_lessons.keys():
        lines.append(f"Lesson removed: {old_lessons[lid]['title']}.")
    edited = [
        new_lessons[lid]["title"]
        for lid in new_lessons.keys() & old_lessons.keys()
        if new_lessons[lid] != old_lessons[lid]
    ]
    if edited:
        lines.append("Lessons edited: " + ", ".join(sorted(edited)) + ".")
    settings_keys = ("title", "summary", "drip_days", "drip_at", "prerequisites")
    retuned = [
        new_modules[mid]["title"]
        for mid in new_modules.keys() & old_modules.keys()
        if any(new_modules[mid].get(k) != old_modules[mid].get(k) for k in settings_keys)
    ]
    if retuned:
        lines.append("Modules edited: " + ", ".join(sorted(retuned)) + ".")
    return " ".join(lines) or "Republished without changes to content."
