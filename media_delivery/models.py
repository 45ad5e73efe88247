"""A media file of the tenant: where it is in the bucket, whether it may be served, and its renditions.

The asset points at the lesson it belongs to (courses never imports this app); a lesson's
page finds its asset through the `media_ui` template tags (ADR 0030).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class AssetKind(models.TextChoices):
    VIDEO = "video", "Video"
    DOCUMENT = "document", "PDF document"
    IMAGE = "image", "Image"
    FILE = "file", "File"
    SUBMISSION = "submission", "Assignment file"


class AssetStatus(models.TextChoices):
    PENDING = "pending", "Uploading"
    READY = "ready", "Ready"
    REJECTED = "rejected", "Rejected"


class TranscodeStatus(models.TextChoices):
    NONE = "", "Not needed"
    QUEUED = "queued", "Queued"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class MediaAsset(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=20, choices=AssetKind.choices)
    key = models.CharField(max_length=512, unique=True, help_text="Full object key, t/<tenant-uuid>/...")
    filename = models.CharField(
        max_length=255, blank=True, help_text="The uploader's file name (display only)."
    )
    status = models.CharField(max_length=20, choices=AssetStatus.choices, default=AssetStatus.PENDING)
    reason = models.CharField(max_length=500, blank=True, help_text="Why the upload was rejected.")
    size = models.BigIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    upload_id = models.CharField(max_length=255, blank=True, help_text="Open multipart upload, if any.")
    # The upload grant (ADR 0061): the browser may write `upload_key` only, until
    # `grant_expires_at`; finishing copies the verified version to `key`, which no grant names.
    upload_key = models.CharField(
        max_length=512, blank=True, help_text="Where the browser's upload lands (never served)."
    )
    grant_expires_at = models.DateTimeField(null=True, blank=True)
    verified_etag = models.CharField(
        max_length=100, blank=True, help_text="ETag of the object at `key` when it was verified."
    )
    duration_seconds = models.FloatField(null=True, blank=True)
    poster_key = models.CharField(max_length=512, blank=True)
    hls_prefix = models.CharField(
        max_length=512, blank=True, help_text="Folder of the HLS ladder, once made."
    )
    transcode_status = models.CharField(
        max_length=20, choices=TranscodeStatus.choices, default=TranscodeStatus.NONE, blank=True
    )
    transcode_error = models.CharField(max_length=500, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="media_assets",
    )
    lesson = models.ForeignKey(
        "courses.Lesson", null=True, blank=True, on_delete=models.SET_NULL, related_name="media_assets"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    ready_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["lesson", "kind", "status"], name="media_asset_lesson_kind")]

    def __str__(self) -> str:
        return self.filename or self.key.rsplit("/", 1)[-1]

    @property
    def is_ready(self) -> bool:
        return self.status == AssetStatus.READY

    @property
    def has_hls(self) -> bool:
        return bool(self.hls_prefix) and self.transcode_status == TranscodeStatus.DONE
