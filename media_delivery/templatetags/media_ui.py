"""Template tags that let course pages reach a lesson's media without courses importing this app.

    {% load media_ui %}
    {% lesson_media lesson.id "video" as media %}
    <video src="{% url 'media:file' media.id %}"> ...

The URL is the access-checked redirect (/media/<id>/), never a signed URL baked into the page.
"""

from __future__ import annotations

from django import template

from media_delivery.models import MediaAsset
from media_delivery.selectors import lesson_asset

register = template.Library()


@register.simple_tag(takes_context=True)
def lesson_media(context, lesson_id, kind: str) -> MediaAsset | None:
    """The lesson's ready asset of this kind (video, document), or None; one query per page."""
    if not lesson_id:
        return None
    memo = context.render_context.setdefault("media_ui.lesson_media", {})
    if (lesson_id, kind) not in memo:
        memo[(lesson_id, kind)] = lesson_asset(lesson_id=lesson_id, kind=kind)
    return memo[(lesson_id, kind)]
