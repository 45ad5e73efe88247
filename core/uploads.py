"""Checks for uploaded files: the type their first bytes announce, and their size.

A file's name and the browser's content type are the uploader's claims; the first bytes
are what the file is. Any app's forms use these.
"""

import codecs
import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import quote

from django import forms
from django.core.files.uploadedfile import UploadedFile

MB = 1024 * 1024


def sniff_file_type(head: bytes) -> str | None:
    """The type a file's first bytes announce: "mp4", "webm", "pdf", "png", "jpeg", "webp",
    "text" (UTF-8 with no control characters but tab, newline, CR, form feed) or None."""
    if head[4:8] == b"ftyp":
        return "mp4"  # ISO base media (MP4, M4V, MOV): the ftyp box comes first
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm"  # EBML header (WebM, Matroska)
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head and _is_text(head):
        return "text"
    return None


_TEXT_CONTROLS = frozenset(b"\t\n\r\x0c")


def _is_text(head: bytes) -> bool:
    """Plain UTF-8 text (a BOM allowed); a character cut at the end of `head` is forgiven."""
    if any(byte < 0x20 and byte not in _TEXT_CONTROLS for byte in head) or b"\x7f" in head:
        return False
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


def check_upload(upload, *, allowed: set[str], max_bytes: int, what: str):
    """Refuse a new upload whose bytes are not one of `allowed`, or that is too large."""
    if not isinstance(upload, UploadedFile):
        return upload  # unchanged (the file already stored) or cleared
    if upload.size > max_bytes:
        raise forms.ValidationError(
            f"This file is {upload.size / MB:.1f} MB; {what} can be at most {max_bytes // MB} MB."
        )
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if sniff_file_type(head) not in allowed:
        names = ", ".join(sorted(a.upper() for a in allowed))
        raise forms.ValidationError(
            f"This file is not a {names} file (whatever its name says). Upload {what} as {names}."
        )
    return upload


# --- How a stored file is served -----------------------------------------------------------
#
# The server, never the uploader, decides the Content-Type and Content-Disposition a stored
# file is served with: from the type its bytes announce when it is stored, and from its key's
# extension (which the storage layer makes agree with those bytes) when a URL is signed.
# Only the types below are ever shown inline; HTML, SVG, XML and anything unknown are not in
# the table, so they can only ever be downloaded (ADR 0060).


@dataclass(frozen=True)
class ServedType:
    extension: str
    content_type: str
    inline: bool


SERVED_TYPES: dict[str, ServedType] = {
    "pdf": ServedType(".pdf", "application/pdf", True),
    "png": ServedType(".png", "image/png", True),
    "jpeg": ServedType(".jpg", "image/jpeg", True),
    "webp": ServedType(".webp", "image/webp", True),
    "mp4": ServedType(".mp4", "video/mp4", True),
    "webm": ServedType(".webm", "video/webm", True),
    # Plain text is downloaded: without nosniff (which S3 cannot send) a browser may guess.
    "text": ServedType(".txt", "text/plain; charset=utf-8", False),
}
UNKNOWN_TYPE = ServedType(".bin", "application/octet-stream", False)

#: extensions the server itself writes (HLS renditions, captions) besides the sniffed ones
_RENDITION_TYPES: dict[str, ServedType] = {
    ".ts": ServedType(".ts", "video/mp2t", True),
    ".m3u8": ServedType(".m3u8", "application/vnd.apple.mpegurl", True),
    ".vtt": ServedType(".vtt", "text/vtt; charset=utf-8", True),
}
_EXTENSION_KINDS = {
    ".pdf": "pdf",
    ".png": "png",
    ".jpg": "jpeg",
    ".jpeg": "jpeg",
    ".webp": "webp",
    ".mp4": "mp4",
    ".m4v": "mp4",
    ".mov": "mp4",
    ".webm": "webm",
    ".txt": "text",
}


def served_type_of_bytes(head: bytes) -> tuple[str | None, ServedType]:
    """(sniffed kind, how a file starting with `head` is served)."""
    kind = sniff_file_type(head)
    return kind, SERVED_TYPES.get(kind, UNKNOWN_TYPE) if kind else UNKNOWN_TYPE


def served_type_of_name(name: str) -> ServedType:
    """How the object called `name` is served, from its extension (see name_for_bytes)."""
    suffix = PurePosixPath(name).suffix.lower()
    if suffix in _RENDITION_TYPES:
        return _RENDITION_TYPES[suffix]
    return SERVED_TYPES.get(_EXTENSION_KINDS.get(suffix, ""), UNKNOWN_TYPE)


def name_for_bytes(name: str, head: bytes) -> str:
    """`name` with an extension that tells the truth about the bytes: kept when it already
    names the sniffed type, replaced by the type's own extension otherwise (`cv.html` holding
    a PDF becomes `cv.pdf`; an SVG becomes `logo.txt`; unknown bytes `.bin`)."""
    kind, served = served_type_of_bytes(head)
    path = PurePosixPath(name)
    if kind is not None and _EXTENSION_KINDS.get(path.suffix.lower()) == kind:
        return name
    stem = path.stem or "file"
    return str(path.with_name(stem + served.extension))


def content_disposition(served: ServedType, *, filename: str = "", download: bool = False) -> str:
    """`inline` for a type safe to show, else (or when asked) `attachment` with the file name
    as an ASCII fallback plus its UTF-8 form (RFC 6266)."""
    if served.inline and not download:
        return "inline"
    if not filename:
        return "attachment"
    name = re.sub(r'[\x00-\x1f\x7f"\\;/]', "", PurePosixPath(filename.replace("\\", "/")).name)
    ascii_name = name.encode("ascii", "ignore").decode() or f"download{served.extension}"
    if ascii_name == name:
        return f'attachment; filename="{ascii_name}"'
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
