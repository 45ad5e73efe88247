"""Small presentation helpers for course pages: durations, labels, kind icons, media links.

Media links go through `default_storage.url` (a short-lived presigned URL) in one place,
so the media-delivery work can swap them for its access-checked redirect here.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from django import template
from django.core.files.storage import default_storage
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from core.local_cache import LocalLRU
from core.urls import reverse_memo
from courses.embeds import embed_player_url
from courses.models import LessonKind, Level
from tenants.context import current_tenant

register = template.Library()

KIND_LABELS = {
    LessonKind.VIDEO: "Video",
    LessonKind.TEXT: "Reading",
    LessonKind.DOCUMENT: "PDF",
    LessonKind.EMBED: "External video",
    LessonKind.QUIZ: "Quiz",
    LessonKind.ASSIGNMENT: "Assignment",
}

# 16x16 outline icons, drawn with currentColor so they follow the text colour.
_ICON_PATHS = {
    LessonKind.VIDEO: '<rect x="1.5" y="3" width="13" height="10" rx="2"/>'
    '<path d="M6.5 6v4l3.5-2z" fill="currentColor"/>',
    LessonKind.TEXT: '<path d="M3 3.5h10M3 6.5h10M3 9.5h10M3 12.5h6"/>',
    LessonKind.DOCUMENT: '<path d="M4 1.5h5.5L12.5 4.5v10h-8.5z"/>'
    '<path d="M9.5 1.5v3h3M6 8h4.5M6 10.5h4.5"/>',
    LessonKind.EMBED: '<rect x="1.5" y="3" width="13" height="10" rx="2"/>'
    '<path d="M6 6.5 4 8l2 1.5M10 6.5 12 8l-2 1.5"/>',
    LessonKind.QUIZ: '<circle cx="8" cy="8" r="6.5"/>'
    '<path d="M6.2 6.3a1.9 1.9 0 1 1 2.6 1.8c-.5.2-.8.6-.8 1.1v.4"/>'
    '<circle cx="8" cy="11.6" r=".6" fill="currentColor"/>',
    LessonKind.ASSIGNMENT: '<path d="M10.5 2.5l3 3-7.5 7.5H3v-3z"/><path d="M9 4l3 3"/>',
}


# A padlock in the same style, for lessons a learner may not open yet. Drawn here rather than
# with the 🔒 emoji, which a machine without an emoji font shows as an empty box.
LOCK_ICON = (
    '<svg class="icon icon-lock" viewBox="0 0 16 16" width="16" height="16" fill="none" '
    'stroke="currentColor" stroke-width="1.4" stroke-linecap="round" stroke-linejoin="round" '
    'aria-hidden="true" data-lock-icon><rect x="3" y="7" width="10" height="7.5" rx="1.5"/>'
    '<path d="M5.5 7V5a2.5 2.5 0 0 1 5 0v2"/><circle cx="8" cy="10.7" r=".7" fill="currentColor"/></svg>'
)


@register.simple_tag
def lock_icon() -> SafeString:
    return mark_safe(LOCK_ICON)  # noqa: S308 - constant markup


@register.filter
def minutes(value) -> str:
    """45 -> '45 min', 90 -> '1 h 30 min', 120 -> '2 h'."""
    try:
        total = int(value)
    except (TypeError, ValueError):
        return ""
    if total <= 0:
        return ""
    hours, rest = divmod(total, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest} min" if rest else f"{hours} h"


@register.filter
def clock(value) -> str:
    """Seconds as a player clock: 83 -> '1:23', 3723 -> '1:02:03'."""
    try:
        total = max(0, int(value))
    except (TypeError, ValueError):
        return "0:00"
    hours, rest = divmod(total, 3600)
    mins, secs = divmod(rest, 60)
    return f"{hours}:{mins:02d}:{secs:02d}" if hours else f"{mins}:{secs:02d}"


@register.filter
def level_label(value: str) -> str:
    try:
        return Level(value).label
    except ValueError:
        return ""


@register.filter
def kind_label(value: str) -> str:
    return KIND_LABELS.get(value, str(value).title())


@register.simple_tag
def kind_icon(kind: str) -> SafeString:
    paths = _ICON_PATHS.get(kind, _ICON_PATHS[LessonKind.TEXT])
    svg = (
        '<svg class="icon" viewBox="0 0 16 16" width="16" height="16" fill="none" stroke="currentColor" '
        f'stroke-width="1.4" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">{paths}</svg>'
    )
    return mark_safe(svg)  # noqa: S308 - constant markup chosen from the table above


@register.filter
def storage_url(name: str) -> str:
    """A short-lived signed URL for a stored file (cover, video, PDF); '' when there is none."""
    return default_storage.url(name) if name else ""


@register.filter
def download_url(name: str) -> str:
    """Like storage_url, but the browser saves the file instead of showing it."""
    if not name:
        return ""
    filename = PurePosixPath(name).name.replace('"', "")
    return default_storage.url(
        name, parameters={"ResponseContentDisposition": f'attachment; filename="{filename}"'}
    )


@register.filter
def embed_player(url: str) -> str:
    return embed_player_url(url) or ""


@register.simple_tag
def progress_bar(percent, label: str = "Course progress") -> SafeString:
    """An accessible progress bar; JS updates it through the data-progress hooks."""
    try:
        value = max(0, min(100, int(percent or 0)))
    except (TypeError, ValueError):
        value = 0
    return format_html(
        '<div class="progress" role="progressbar" aria-label="{}" aria-valuemin="0" aria-valuemax="100" '
        'aria-valuenow="{}" data-progress><span class="progress-fill" style="width: {}%"></span></div>',
        label,
        value,
        value,
    )


def _sidebar_item(
    lesson_id: int, title: str, icon: str, *, done: bool, current: bool, gate, opens: bool, url_prefix: str
) -> str:
    """One <li> of the sidebar; `title` is escaped already."""
    classes = " ".join(c for c in ("is-current" if current else "", "is-done" if done else "") if c)
    status = "✓" if done else icon
    head = f'<li class="{classes}" data-lesson-id="{lesson_id}">'
    if gate is not None and not current:
        return (
            f'{head}<span class="locked"><span class="status" aria-hidden="true">{LOCK_ICON}</span>'
            f'<span class="title">{title}<span class="visually-hidden"> (locked)</span>'
            f'<span class="lock-reason">{escape(gate.reason)}</span></span></span></li>'
        )
    if opens:
        aria = ' aria-current="page"' if current else ""
        hidden = '<span class="visually-hidden"> (completed)</span>' if done else ""
        return (
            f'{head}<a href="{url_prefix}{lesson_id}/"{aria}>'
            f'<span class="status" aria-hidden="true">{status}</span>'
            f'<span class="title">{title}{hidden}</span></a></li>'
        )
    return (
        f'{head}<span class="locked"><span class="status" aria-hidden="true">{status}</span>'
        f'<span class="title">{title}'
        '<span class="visually-hidden"> (enroll to open)</span></span></span></li>'
    )


# The sidebar of a published revision, pre-rendered per process: a revision never changes,
# and escaping a hundred titles and drawing a hundred icons on every lesson page cost more
# than the rest of the sidebar (bench/profile_request.py, ADR 0052). Each lesson keeps its
# <li> for the four common states (done or not, openable or not); the current lesson and
# locked ones (reasons depend on the learner and the clock) are rendered per request.
# Keyed by the tenant's uuid (never reused, unlike schema names), revision and URL prefix.
# At most PROCESS_CACHE_MAX["course_sidebar"] sidebars across all tenants (ADR 0115).
_SIDEBAR_PARTS = LocalLRU("course_sidebar", 512)


def _sidebar_parts(outline, url_prefix: str) -> list:
    """[(module heading html, [(lesson id, title, icon, is preview, {(done, opens): li}), ...]), ...]."""

    def build():
        modules = []
        for module in outline.modules:
            items = []
            for item in module.lessons:
                lesson_id, title, icon = item.id, str(escape(item.title)), str(kind_icon(item.kind))
                variants = {
                    (done, opens): _sidebar_item(
                        lesson_id,
                        title,
                        icon,
                        done=done,
                        current=False,
                        gate=None,
                        opens=opens,
                        url_prefix=url_prefix,
                    )
                    for done in (False, True)
                    for opens in (False, True)
                }
                items.append((lesson_id, title, icon, bool(item.is_preview), variants))
            heading = f'<h3 class="contents-module">{escape(module.title)}</h3><ol class="contents-list">'
            modules.append((heading, items))
        return modules

    tenant = current_tenant()
    if not outline.revision_id or tenant is None:  # a draft preview: built each time
        return build()
    key = (str(tenant.uuid), outline.revision_id, url_prefix)
    parts = _SIDEBAR_PARTS.get(key)
    if parts is not None:
        return parts
    parts = build()
    _SIDEBAR_PARTS.put(key, parts)
    return parts


@register.simple_tag
def course_contents(
    outline, current_id, completed, url_name: str, slug: str, open_all: bool, locked=None
) -> SafeString:
    """The syllabus sidebar of the lesson player, built in Python.

    A course can have a hundred lessons; a template loop with a `{% url %}` per lesson
    cost more than the rest of the page, so the lesson URL is reversed once and reused,
    and the items of a published revision are pre-rendered once per process.
    """
    url_prefix = reverse_memo(url_name, slug, 0)[: -len("0/")]
    locked = locked or {}
    parts = []
    for heading, items in _sidebar_parts(outline, url_prefix):
        parts.append(heading)
        for lesson_id, title, icon, is_preview, variants in items:
            done = lesson_id in completed
            opens = open_all or is_preview
            gate = locked.get(lesson_id)
            if lesson_id == current_id or gate is not None:
                parts.append(
                    _sidebar_item(
                        lesson_id,
                        title,
                        icon,
                        done=done,
                        current=lesson_id == current_id,
                        gate=gate,
                        opens=opens,
                        url_prefix=url_prefix,
                    )
                )
            else:
                parts.append(variants[(done, bool(opens))])
        parts.append("</ol>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped above


@register.filter
def lookup(mapping, key):
    """mapping[key] in a template, or None."""
    return (mapping or {}).get(key)
