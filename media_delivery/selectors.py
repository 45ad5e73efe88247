"""Reads of media assets, each with its access check (ARCHITECTURE section 5: not allowed = 404)."""

from __future__ import annotations

import uuid

from django.http import Http404

from accounts.models import Role
from courses.selectors import outline_for
from enrollments.access import editing_decision, lesson_decision
from enrollments.selectors import completed_lesson_ids, enrollment_get

from .models import AssetStatus, MediaAsset


def _parse_id(asset_id) -> uuid.UUID:
    try:
        return asset_id if isinstance(asset_id, uuid.UUID) else uuid.UUID(str(asset_id))
    except ValueError:
        raise Http404("No such media.") from None


def may_view(*, user, asset: MediaAsset) -> bool:
    """The access policy for one asset: a lesson's asset opens with the lesson; an asset of no
    lesson opens to its owner and the tenant's staff who could edit courses."""
    if not user.is_authenticated or not user.is_active:
        return False
    lesson = asset.lesson
    if lesson is None:
        return asset.owner_id == user.pk or user.role == Role.ADMIN or user.is_superuser
    course = lesson.module.course
    if editing_decision(user, course):
        return True  # staff preview drafts too
    if course.published_revision_id is None or course.is_deleted:
        return False
    outline = outline_for(course)
    entry = outline.by_id.get(lesson.pk)
    if entry is None:
        return False  # not in what learners see
    enrollment = enrollment_get(user=user, course=course)
    decision = lesson_decision(
        user=user,
        course=course,
        lesson=entry,
        enrollment=enrollment,
        completed=completed_lesson_ids(user=user, course=course) if enrollment else set(),
        titles=outline.titles,
    )
    return decision.allowed


def asset_get_for_viewer(*, user, asset_id) -> MediaAsset:
    """The ready asset if `user` may see it now; Http404 otherwise (as for another tenant's)."""
    asset = (
        MediaAsset.objects.select_related("lesson__module__course")
        .filter(pk=_parse_id(asset_id), status=AssetStatus.READY)
        .first()
    )
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


def lesson_asset(*, lesson_id: int, kind: str) -> MediaAsset | None:
    """The newest ready asset of this kind attached to the lesson."""
    return (
        MediaAsset.objects.filter(lesson_id=lesson_id, kind=kind, status=AssetStatus.READY)
        .order_by("-ready_at", "-created_at")
        .first()
    )
