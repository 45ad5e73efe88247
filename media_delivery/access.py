"""The media door: may this person receive this asset's bytes now? (ADR 0140)

A lesson's asset opens with its lesson (enrollments.access decides); an asset of no lesson
opens to its uploader and the organization's admins. Every refusal is Http404: a learner
may not learn that a file exists from its address.

Uploading is for the people who use the admin (instructors, admins, operators); uploading to
a lesson needs the right to change its course, which `access_lesson_for_upload` answers like
the course door: Http404 off the course's staff, 403 with the reason for an assistant.
"""

from __future__ import annotations

from django.http import Http404

from accounts.permissions import is_tenant_admin, may_use_admin
from courses.models import Course, Lesson
from courses.selectors import course_get_published
from enrollments.access import access_course_as_staff, access_lesson_in, editing_decision
from tenants.context import storage_prefix

from .models import MediaAsset
from .selectors import AssetRef, asset_ref, parse_asset_id


def _may_manage(user, owner_id: int | None) -> bool:
    """The uploader, a tenant admin or an operator."""
    return owner_id == user.pk or is_tenant_admin(user) or user.is_superuser


def may_view(*, user, asset: AssetRef) -> bool:
    """The policy for one ready asset (see the module docstring)."""
    if not user.is_authenticated or not user.is_active:
        return False
    if asset.lesson_id is None:
        return _may_manage(user, asset.owner_id)
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
    try:
        door = access_lesson_in(user=user, course=course, lesson_id=asset.lesson_id)
    except Http404:
        return False  # not part of what learners see
    name = door.lesson.media_name(asset.kind)  # "" for kinds a lesson does not name
    if not name or asset.key != storage_prefix() + name:
        return False  # not the file the published lesson shows (a newer upload, say)
    return door.decision.allowed


def access_asset(*, user, asset_id) -> AssetRef:
    """The ready asset if `user` may see it now; Http404 otherwise (as for another tenant's)."""
    asset = asset_ref(parse_asset_id(asset_id))
    if asset is None or not may_view(user=user, asset=asset):
        raise Http404("No such media.")
    return asset


def access_upload(*, user, asset_id) -> MediaAsset:
    """An asset its uploader (or a tenant admin) is finishing or cancelling; Http404 otherwise."""
    asset = MediaAsset.objects.filter(pk=parse_asset_id(asset_id)).first()
    if asset is None or not user.is_authenticated or not _may_manage(user, asset.owner_id):
        raise Http404("No such upload.")
    return asset


def may_attach(*, user, asset: MediaAsset, lesson: Lesson | None) -> bool:
    """May `user` move `asset` onto `lesson` (or off every lesson, for None)? Its uploader or an
    admin, who may also change the course of the lesson it leaves and of the one it joins."""
    if not user.is_authenticated or not _may_manage(user, asset.owner_id):
        return False
    courses = [lesson.module.course] if lesson is not None else []
    if asset.lesson_id is not None:
        courses.append(Lesson.objects.select_related("module__course").get(pk=asset.lesson_id).module.course)
    return all(editing_decision(user, course) for course in courses)


def may_upload(user) -> bool:
    """Instructors, the organization's admins and operators upload media."""
    return may_use_admin(user) or bool(user.is_authenticated and user.is_active and user.is_superuser)


def access_lesson_for_upload(*, user, lesson_id: int) -> Lesson:
    """A lesson whose files `user` may replace; Http404 for a lesson they may not know of,
    Forbidden with the reason when they see its course but may not change it."""
    lesson = (
        Lesson.objects.select_related("module__course").filter(pk=lesson_id, deleted_at__isnull=True).first()
    )
    if lesson is None:
        raise Http404("No such lesson.")
    access_course_as_staff(user=user, course_id=lesson.module.course_id, need="edit")
    return lesson
