"""Reads of media assets, each with its access check (ARCHITECTURE section 5: not allowed = 404)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.core.cache import cache
from django.db import connection, transaction
from django.http import Http404
from django_tenants.utils import schema_context

from courses.outline import PublishedLesson
from tenants.context import storage_prefix

from .models import AssetStatus, MediaAsset

REF_SECONDS = 300


def parse_asset_id(asset_id) -> uuid.UUID:
    try:
        return asset_id if isinstance(asset_id, uuid.UUID) else uuid.UUID(str(asset_id))
    except ValueError:
        raise Http404("No such media.") from None


@dataclass(frozen=True)
class AssetRef:
    """What serving an asset needs, cached per asset in the tenant's cache namespace."""

    id: uuid.UUID
    kind: str
    key: str
    filename: str
    owner_id: int | None
    lesson_id: int | None
    course_id: int | None
    course_slug: str
    poster_key: str
    hls_prefix: str
    has_hls: bool

    @property
    def pk(self) -> uuid.UUID:
        return self.id


def _ref_key(asset_id: uuid.UUID) -> str:
    return f"media-asset:{asset_id}"


def asset_ref(asset_id: uuid.UUID) -> AssetRef | None:
    """The ready asset's serving data, or None; one cache read when warm."""
    key = _ref_key(asset_id)
    ref = cache.get(key)
    if ref is None:
        asset = (
            MediaAsset.objects.select_related("lesson__module__course")
            .filter(pk=asset_id, status=AssetStatus.READY)
            .first()
        )
        course = asset.lesson.module.course if asset is not None and asset.lesson_id else None
        ref = (
            AssetRef(
                asset.pk,
                asset.kind,
                asset.key,
                asset.filename,
                asset.owner_id,
                asset.lesson_id,
                course.pk if course else None,
                course.slug if course else "",
                asset.poster_key,
                asset.hls_prefix,
                asset.has_hls,
            )
            if asset is not None
            else False
        )
        cache.set(key, ref, REF_SECONDS)
    return ref or None


def asset_ref_forget(asset_id: uuid.UUID) -> None:
    """Called on every write of an asset (signal), now and again after commit."""
    key, schema = _ref_key(asset_id), connection.schema_name
    cache.delete(key)

    def again() -> None:
        with schema_context(schema):
            cache.delete(key)

    transaction.on_commit(again)


def lesson_asset(*, name: str) -> MediaAsset | None:
    """The ready asset of the active tenant's object `name` (a lesson's file field value)."""
    return MediaAsset.objects.filter(key=storage_prefix() + name, status=AssetStatus.READY).first()


def lesson_video_duration(lesson: PublishedLesson | None) -> float | None:
    """Seconds of the video a (published) lesson shows, as the transcoder measured them; None
    while it is not measured (not transcoded yet, or transcoding failed). enrollments asks this
    to decide video completion (registered in apps.py; ADR 0076)."""
    name = lesson.video if lesson is not None else ""
    if not name:
        return None
    duration = (
        MediaAsset.objects.filter(key=storage_prefix() + name, status=AssetStatus.READY)
        .values_list("duration_seconds", flat=True)
        .first()
    )
    return duration or None
