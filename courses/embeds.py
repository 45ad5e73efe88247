"""The external video hosts lessons may embed, and their player URLs."""

import re
from urllib.parse import parse_qs, urlsplit

_YOUTUBE_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
_VIMEO_ID = re.compile(r"^\d{1,12}$")


def embed_player_url(url: str) -> str | None:
    """The privacy-friendly player URL for an allowed video address, or None if not allowed."""
    try:
        parts = urlsplit((url or "").strip())
    except ValueError:
        return None
    if parts.scheme != "https":
        return None
    host = (parts.hostname or "").lower()
    path = parts.path.rstrip("/")
    video_id = None
    if host in {"www.youtube.com", "youtube.com", "m.youtube.com"}:
        if path == "/watch":
            values = parse_qs(parts.query).get("v")
            video_id = values[0] if values else None
        elif path.startswith(("/embed/", "/shorts/")):
            video_id = path.split("/")[2]
        if video_id and _YOUTUBE_ID.match(video_id):
            return f"https://www.youtube-nocookie.com/embed/{video_id}"
    elif host == "youtu.be":
        video_id = path.lstrip("/")
        if _YOUTUBE_ID.match(video_id):
            return f"https://www.youtube-nocookie.com/embed/{video_id}"
    elif host in {"vimeo.com", "www.vimeo.com", "player.vimeo.com"}:
        video_id = path.split("/")[-1]
        if _VIMEO_ID.match(video_id):
            return f"https://player.vimeo.com/video/{video_id}"
    return None
