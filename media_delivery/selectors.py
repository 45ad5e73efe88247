"""Reads of media assets, each with its access check (ARCHITECTURE section 5: not allowed = 404)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.core.cache import cache
from django.db import connection, transaction
from django.http import Http404
from django_tenants.utils import schema_context

from accounts.models import Role
from courses.models import Course
from courses.selectors import course_get_published, outline_for
from enrollments.access import editing_decision, lesson_decision
from enrollments.cache import learner_state
from enrollments.models import ProgressStatus
from tenants.context import storage_prefix

from .models import AssetStatus, MediaAsset

REF_SECONDS = 300


def _parse_id(asset_id) -> uuid.UUID:
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


def may_view(*, user, asset: AssetRef) -> bool:
    """The access policy for one asset: a lesson's asset opens with the lesson (the policy in
    enrollments.access decides); an asset of no lesson opens to its owner and tenant admins."""
    if not user.is_authenticated or not user.is_active:
        return False
    if asset.lesson_id is None:
        return asset.owner_id == user.pk or user.role == Role.ADMIN or user.is_superuser
    try:
        course = course_get_published(slug=asset.course_slug)
    except Http404:
        course = None
    if course is None or course.pk != asset.course_id:
        # A draft (or deleted) course: only its staff, previewing.
        draft = Course.objects.filter(pk=asset.course_id).first()
        return draft is not None and bool(editing_decision(user, draft))
    if editing_decision(user, course):
        return True
    if course.is_deleted:
        return False
    outline = outline_for(course)
    entry = outline.by_id.get(asset.lesson_id)
    if entry is None:
        return False  # not part of what learners see
    field = {"video": "video", "document": "document"}.get(asset.kind)
    if not field or not entry.get(field) or asset.key != storage_prefix() + entry[field]:
        return False  # not the file the published lesson shows (a newer upload, say)
    enrollment, rows = learner_state(user=user, course=course)
    completed = {row.lesson_id for row in rows if row.status == ProgressStatus.COMPLETED}
    decision = lesson_decision(
        user=user,
        course=course,
        lesson=entry,
        enrollment=enrollment,
        completed=completed,
        titles=outline.titles,
    )
    return decision.allowed


def asset_get_for_viewer(*, user, asset_id) -> AssetRef:
    """The ready asset if `user` may see it now; Http404 otherwise (as for another tenant's)."""
    asset = asset_ref(_parse_id(asset_id))
    if asset is None or not may_view(user=user, asset=asset):
        raise Http404("No such media.")
    return asset


def asset_get_for_uploader(*, user, asset_id) -> MediaAsset:
    """An asset its uploader (or a tenant admin) is finishing or cancelling; Http404 otherwise."""
    asset = MediaAsset.objects.filter(pk=_parse_id(asset_id)).first()
    if asset is None or not user.is_authenticated:
        raise Http404("No such upload.")
    if asset.owner_id != user.pk and user.role != Role.ADMIN and not user.is_superuser:
        raise Http404("No such upload.")
    return asset


def lesson_asset(*, name: str) -> MediaAsset | None:
    """The ready asset of the active tenant's object `name` (a lesson's file field value)."""
    return MediaAsset.objects.filter(key=storage_prefix() + name, status=AssetStatus.READY).first()


def lesson_video_duration(lesson: dict) -> float | None:
    """Seconds of the video a (published) lesson shows, as the transcoder measured them; None
    while it is not measured (not transcoded yet, or transcoding failed). enrollments asks this
    to decide video completion (registered in apps.py; ADR 0076)."""
    name = (lesson or {}).get("video") or ""
    if not name:
        return None
    duration = (
        MediaAsset.objects.filter(key=storage_prefix() + name, status=AssetStatus.READY)
        .values_list("duration_seconds", flat=True)
        .first()
    )
    return duration or None
