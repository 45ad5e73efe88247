"""Writes of media assets: the direct-upload protocol, verification, and attaching to lessons.

The upload API other apps use (assessments' assignment files, ADR 0033):

1. `upload_start(actor=, kind=, filename=, content_type=, size=, lesson=None)` makes a
   pending `MediaAsset` with a server-chosen key and returns an `UploadTicket`: either a
   presigned POST (url + fields; S3 enforces key, content type and size range) or, for
   videos above MULTIPART_THRESHOLD, a multipart upload whose part URLs the browser asks
   for with `upload_part_urls`.
2. The browser sends the bytes straight to S3 (static/js/uploader.js does this).
3. `upload_finish(actor=, asset=)` HEADs the object, checks its size and sniffs its first
   bytes (core.uploads.sniff_file_type), copies exactly that version (by ETag) to the asset's
   final key with the Content-Type and Content-Disposition the server decides, records the
   ETag and size, and marks the asset ready; or rejected with the reason (and deletes the
   object). A ready video is queued for transcoding. A second finish is refused.

The browser's grant (presigned POST, 10 minutes, or part URLs) names only the upload key;
the final key is named by no grant, so what was verified is what is served (ADR 0061).
`upload_abort` cancels. An asset that is not ready is never served.
"""

from __future__ import annotations

import contextlib
import math
import re
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import PurePosixPath

from django.db import transaction
from django.utils import timezone

from accounts.audit import audit_record
from core.celery import enqueue_on_commit
from core.errors import DomainError
from core.uploads import MB, content_disposition, served_type_of_bytes
from courses.models import Lesson
from tenants.context import storage_prefix

from . import storage
from .access import may_attach
from .models import AssetKind, AssetStatus, MediaAsset, TranscodeStatus

GB = 1024 * MB
UPLOAD_URL_TTL = 600  # seconds a browser has to send the file (per ticket / part URL)
MULTIPART_THRESHOLD = 64 * MB
PART_SIZE = 16 * MB
SNIFF_BYTES = 512  # enough to tell plain text from binary; the signatures need 16


@dataclass(frozen=True)
class KindRule:
    max_bytes: int
    #: content type the browser declares -> the type its first bytes must announce
    types: dict[str, str]
    extensions: dict[str, str]
    #: the first bytes must be the declared type itself, not just any type of the kind
    strict: bool = False


KIND_RULES = {
    AssetKind.VIDEO: KindRule(
        5 * GB,
        {"video/mp4": "mp4", "video/webm": "webm", "video/quicktime": "mp4"},
        {"mp4": ".mp4", "webm": ".webm"},
    ),
    AssetKind.DOCUMENT: KindRule(100 * MB, {"application/pdf": "pdf"}, {"pdf": ".pdf"}),
    AssetKind.IMAGE: KindRule(
        10 * MB,
        {"image/png": "png", "image/jpeg": "jpeg", "image/webp": "webp"},
        {"png": ".png", "jpeg": ".jpg", "webp": ".webp"},
    ),
    AssetKind.FILE: KindRule(
        50 * MB,
        {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpeg", "video/mp4": "mp4"},
        {"pdf": ".pdf", "png": ".png", "jpeg": ".jpg", "mp4": ".mp4"},
    ),
    # Assignment files (assessments, ADR 0041): started only through the assignment's own
    # endpoints, which may narrow the size and the types further per assignment.
    AssetKind.SUBMISSION: KindRule(
        50 * MB,
        {
            "application/pdf": "pdf",
            "image/png": "png",
            "image/jpeg": "jpeg",
            "image/webp": "webp",
            "text/plain": "text",
        },
        {"pdf": ".pdf", "png": ".png", "jpeg": ".jpg", "webp": ".webp", "text": ".txt"},
        strict=True,
    ),
}


class UploadRefused(DomainError, ValueError):
    """The upload cannot go ahead; the message says why and what to do."""


class UploadAlreadyFinished(UploadRefused):
    """The upload's grant was used: it was verified (or rejected) once and stays so."""


@dataclass
class UploadTicket:
    asset: MediaAsset
    #: "post": url + fields for one multipart/form-data POST; "multipart": part_count parts
    method: str
    url: str = ""
    fields: dict = field(default_factory=dict)
    part_size: int = 0
    part_count: int = 0

    def as_json(self) -> dict:
        data = {
            "asset": str(self.asset.pk),
            "method": self.method,
            "max_bytes": KIND_RULES[self.asset.kind].max_bytes,
        }
        if self.method == "post":
            data |= {"url": self.url, "fields": self.fields}
        else:
            data |= {"part_size": self.part_size, "part_count": self.part_count}
        return data


def _rule(kind: str) -> KindRule:
    try:
        return KIND_RULES[AssetKind(kind)]
    except ValueError:
        raise UploadRefused(f"Unknown kind of media {kind!r}: use video, document or image.") from None


def _human(size: int) -> str:
    return f"{size / GB:.0f} GB" if size >= GB else f"{size / MB:.0f} MB"


def asset_prefix(asset_id: uuid.UUID) -> str:
    """Every object of one asset lives under this folder of the tenant's prefix."""
    return f"{storage_prefix()}media/{asset_id}/"


def upload_start(
    *,
    actor,
    kind: str,
    filename: str,
    content_type: str,
    size: int,
    lesson: Lesson | None = None,
    max_bytes: int | None = None,
    types: frozenset[str] | None = None,
) -> UploadTicket:
    """Check the declared file, make the pending asset and the ticket to send the bytes with.

    `max_bytes` and `types` (content types) narrow the kind's rule for one caller, e.g. an
    assignment's own limits; they never widen it. S3 enforces the narrowed size.
    """
    rule = _rule(kind)
    limit = min(rule.max_bytes, max_bytes) if max_bytes else rule.max_bytes
    accepted = {t: v for t, v in rule.types.items() if types is None or t in types}
    what = "file" if kind == AssetKind.SUBMISSION else kind
    content_type = (content_type or "").split(";")[0].strip().lower()
    if content_type not in accepted:
        allowed = ", ".join(sorted(accepted))
        raise UploadRefused(f"A {what} must be one of {allowed}, not {content_type or 'an unknown type'}.")
    if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
        raise UploadRefused("The file is empty.")
    if size > limit:
        raise UploadRefused(f"This file is {_human(size)}; a {what} can be at most {_human(limit)}.")
    asset_id = uuid.uuid4()
    extension = rule.extensions[rule.types[content_type]]
    key = f"{asset_prefix(asset_id)}source{extension}"
    upload_key = f"{asset_prefix(asset_id)}upload/source{extension}"
    # Display only, and later a download's file name: no path, no control characters.
    name = re.sub(r"[\x00-\x1f\x7f]", "", PurePosixPath((filename or "").replace("\\", "/")).name)[:255]
    name = name or f"upload{extension}"
    multipart = kind == AssetKind.VIDEO and size > MULTIPART_THRESHOLD
    with transaction.atomic():
        asset = MediaAsset.objects.create(
            id=asset_id,
            kind=kind,
            key=key,
            filename=name,
            content_type=content_type,
            size=size,
            owner=actor,
            lesson=lesson,
            upload_key=upload_key,
            grant_expires_at=timezone.now() + timedelta(seconds=UPLOAD_URL_TTL),
        )
        if multipart:
            asset.upload_id = storage.multipart_start(upload_key, content_type=content_type)
            asset.save(update_fields=["upload_id", "updated_at"])
            return UploadTicket(
                asset, "multipart", part_size=PART_SIZE, part_count=math.ceil(size / PART_SIZE)
            )
    post = storage.presigned_post(
        upload_key,
        content_type=content_type,
        content_disposition="attachment",
        min_bytes=1,
        max_bytes=limit,
        expires_in=UPLOAD_URL_TTL,
    )
    return UploadTicket(asset, "post", url=post["url"], fields=post["fields"])


def upload_part_urls(*, asset: MediaAsset, part_numbers: list[int]) -> dict[int, str]:
    """Presigned PUT URLs for parts of a multipart upload still open."""
    if asset.status != AssetStatus.PENDING or not asset.upload_id:
        raise UploadRefused("This upload is not a multipart upload in progress.")
    top = math.ceil((asset.size or 0) / PART_SIZE)
    if not part_numbers or any(not isinstance(n, int) or not 1 <= n <= top for n in part_numbers):
        raise UploadRefused(f"Part numbers run from 1 to {top}.")
    return {
        n: storage.multipart_part_url(
            _upload_key(asset), upload_id=asset.upload_id, part_number=n, expires_in=UPLOAD_URL_TTL
        )
        for n in part_numbers[:100]
    }


def _upload_key(asset: MediaAsset) -> str:
    """Where the browser's bytes land (assets made before ADR 0061 wrote to their key)."""
    return asset.upload_key or asset.key


def _reject(asset: MediaAsset, reason: str) -> MediaAsset:
    asset.status, asset.reason = AssetStatus.REJECTED, reason
    asset.save(update_fields=["status", "reason", "upload_id", "updated_at"])
    # A failed delete leaves an orphan that `media_audit` lists; the asset is rejected anyway.
    for key in {asset.key, _upload_key(asset)}:
        with contextlib.suppress(Exception):
            storage.object_delete(key)
    return asset


CHANGED = "The file changed while it was being checked: upload it again."


def _verify(asset: MediaAsset, *, source: str, target: str | None) -> str:
    """'' if the object at `source` is what the asset claims, else the reason it is not.

    The version checked (its ETag) is the version copied to `target`: `source` itself, or
    None for `source.<extension of the sniffed type>` in the asset's folder. The copy is
    stored with the type and disposition the server decides from the sniffed bytes; the
    asset records the target's key, ETag, size and type.
    """
    rule = _rule(asset.kind)
    try:
        head = storage.object_head(source)
    except storage.ObjectMissing:
        return "The file did not arrive: upload it again."
    if head["size"] == 0:
        return "The file is empty."
    if head["size"] > rule.max_bytes:
        return f"The file is {_human(head['size'])}; a {asset.kind} can be at most {_human(rule.max_bytes)}."
    try:
        first = storage.object_read(source, length=SNIFF_BYTES, if_match=head["etag"])
    except (storage.ObjectMissing, storage.ObjectChanged):
        return CHANGED
    sniffed, served = served_type_of_bytes(first)
    expected = set(rule.types.values())
    if rule.strict and asset.content_type in rule.types:
        expected = {rule.types[asset.content_type]}
    if sniffed not in expected:
        names = ", ".join(sorted(t.upper() for t in expected))
        return f"The file's contents are not {names}, whatever its name or type says."
    target = target or f"{asset_prefix(asset.pk)}source{served.extension}"
    try:
        final = storage.object_copy_verified(
            source,
            target,
            etag=head["etag"],
            content_type=served.content_type,
            content_disposition=content_disposition(served, filename=asset.filename),
        )
    except (storage.ObjectMissing, storage.ObjectChanged):
        return CHANGED
    if final["size"] != head["size"]:
        return CHANGED
    asset.key, asset.size, asset.verified_etag = target, final["size"], final["etag"]
    asset.content_type = served.content_type
    return ""


def upload_finish(*, actor, asset: MediaAsset) -> MediaAsset:
    """Verify the uploaded object and mark the asset ready, or rejected with the reason.

    Once only: the grant is spent by the first finish, whatever its outcome
    (UploadAlreadyFinished after that).
    """
    with transaction.atomic():
        asset = MediaAsset.objects.select_for_update().get(pk=asset.pk)
        if asset.status != AssetStatus.PENDING:
            raise UploadAlreadyFinished(
                "This upload was already finished; start a new upload to change the file."
            )
        source = _upload_key(asset)
        if asset.upload_id:
            try:
                storage.multipart_complete(source, upload_id=asset.upload_id)
            except storage.ObjectMissing as exc:
                storage.multipart_abort(source, upload_id=asset.upload_id)
                asset.upload_id = ""
                return _reject(asset, str(exc))
            asset.upload_id = ""
        reason = _verify(asset, source=source, target=None if asset.upload_key else asset.key)
        if reason:
            return _reject(asset, reason)
        _mark_ready(asset)
    if source != asset.key:
        # What the grant wrote is spent; a reused grant may write it again, never the final key.
        with contextlib.suppress(Exception):
            storage.object_delete(source)
    return asset


def _mark_ready(asset: MediaAsset) -> None:
    asset.status, asset.reason, asset.ready_at = AssetStatus.READY, "", timezone.now()
    _point_lesson_at(asset)
    if asset.kind == AssetKind.VIDEO:
        asset.transcode_status = TranscodeStatus.QUEUED
    asset.save()
    if asset.kind == AssetKind.VIDEO:
        from .tasks import asset_transcode_task

        enqueue_on_commit(asset_transcode_task, str(asset.pk))


def _point_lesson_at(asset: MediaAsset) -> None:
    """The lesson's file field names the asset's object, so the course's publish checks and
    its published snapshot see the new file (the page reaches it through the asset)."""
    field_name = {AssetKind.VIDEO: "video", AssetKind.DOCUMENT: "document"}.get(asset.kind)
    prefix = storage_prefix()
    if asset.lesson_id and field_name and asset.key.startswith(prefix):
        Lesson.objects.filter(pk=asset.lesson_id).update(
            **{field_name: asset.key[len(prefix) :], "updated_at": timezone.now()}
        )


def upload_abort(*, actor, asset: MediaAsset) -> MediaAsset:
    """Cancel a pending upload: free the multipart parts and forget the object."""
    with transaction.atomic():
        asset = MediaAsset.objects.select_for_update().get(pk=asset.pk)
        if asset.status != AssetStatus.PENDING:
            return asset
        if asset.upload_id:
            storage.multipart_abort(_upload_key(asset), upload_id=asset.upload_id)
            asset.upload_id = ""
        return _reject(asset, "The upload was cancelled.")


def asset_discard(*, actor, asset: MediaAsset) -> None:
    """Delete an asset and every object under its folder (source, renditions, poster)."""
    with transaction.atomic():
        MediaAsset.objects.filter(pk=asset.pk).delete()
        storage.objects_delete_prefix(asset_prefix(asset.pk))


def asset_adopt(
    *, actor, key: str, kind: str, lesson: Lesson | None = None, filename: str = ""
) -> MediaAsset:
    """Register an object already in the tenant's bucket (seed_demo, existing lesson files).

    Verified like an upload; the same key twice returns the existing asset.
    """
    with transaction.atomic():
        asset, created = MediaAsset.objects.select_for_update().get_or_create(
            key=key,
            defaults={
                "kind": kind,
                "filename": filename or key.rsplit("/", 1)[-1],
                "owner": actor,
                "lesson": lesson,
            },
        )
        if not created:
            if lesson is not None and asset.lesson_id != lesson.pk:
                asset.lesson = lesson
                asset.save(update_fields=["lesson", "updated_at"])
            return asset
        reason = _verify(asset, source=key, target=key)
        if reason:
            asset.status, asset.reason = AssetStatus.REJECTED, reason
            asset.save()
            return asset
        _mark_ready(asset)
    return asset


@transaction.atomic
def asset_attach(*, actor, asset: MediaAsset, lesson: Lesson | None) -> MediaAsset:
    """Move an asset onto a lesson (or off it); refused, changing nothing, unless `actor` may
    manage the asset and change both lessons' courses (`access.may_attach`)."""
    if not may_attach(user=actor, asset=asset, lesson=lesson):
        raise UploadRefused("You may not attach this file to that lesson.", code="forbidden", status=403)
    before = asset.lesson_id
    asset.lesson = lesson
    asset.save(update_fields=["lesson", "updated_at"])
    audit_record(
        actor=actor,
        action="media.attached",
        target=asset,
        before={"lesson": before},
        after={"lesson": asset.lesson_id},
    )
    return asset


def lesson_files_adopt() -> dict[str, list]:
    """Register an asset for every file the active tenant's lessons name that has none yet
    (files stored before media assets existed). Idempotent; returns the assets by outcome."""
    prefix, outcome = storage_prefix(), {"ready": [], "rejected": [], "existing": 0}
    for lesson in Lesson.objects.alive().exclude(video="", document=""):
        for kind, name in ((AssetKind.VIDEO, lesson.video.name), (AssetKind.DOCUMENT, lesson.document.name)):
            if not name:
                continue
            if MediaAsset.objects.filter(key=prefix + name).exists():
                outcome["existing"] += 1
                continue
            asset = asset_adopt(actor=None, key=prefix + name, kind=kind, lesson=lesson)
            outcome["ready" if asset.status == AssetStatus.READY else "rejected"].append(asset)
    return outcome
