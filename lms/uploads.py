"""Checks for uploaded files: the type their first bytes announce, and their size.

A file's name and the browser's content type are the uploader's claims; the first bytes
are what the file is. Any app's forms use these.
"""

import codecs

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
