"""Template tags that let course pages reach a lesson's media without courses importing this app.

    {% load media_ui %}
    {% lesson_media lesson "video" as media %}
    <video src="{% url 'media:file' media.id %}"> ...

`lesson` is the lesson as the page shows it (a lesson of the published outline, or of the
draft for staff previews); the asset is the one whose object that lesson names, so learners
see the published file even while a newer upload waits to be published. The URL is the
access-checked redirect (/media/<id>/), never a signed URL baked into the page.
"""

from __future__ import annotations

from django import template

from media_delivery.models import MediaAsset
from media_delivery.selectors import lesson_asset
from media_delivery.signing import cloudfront_configured

register = template.Library()


@register.simple_tag(takes_context=True)
def lesson_media(context, lesson, kind: str) -> MediaAsset | None:
    """The ready asset of the file the lesson names for `kind` (video, document), or None."""
    name = lesson.media_name(kind) if lesson is not None else ""
    if not name:
        return None
    memo = context.render_context.setdefault("media_ui.lesson_media", {})
    if name not in memo:
        memo[name] = lesson_asset(name=name)
    return memo[name]


@register.simple_tag
def hls_cookies_flag() -> str:
    """ "1" when HLS goes through CloudFront signed cookies (the player then sends credentials)."""
    return "1" if cloudfront_configured() else "0"
