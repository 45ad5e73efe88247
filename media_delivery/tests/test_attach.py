"""Attaching a file to a lesson asks who may: the file's uploader (or an admin) who may change
both lessons' courses. A refusal changes nothing."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth import get_user_model

from accounts.models import AuditEntry
from courses.models import CourseStaff, CourseStaffRole
from courses.tests.factories import lessons_of, make_course
from media_delivery.models import MediaAsset
from media_delivery.services import UploadRefused, asset_attach


def _asset(owner) -> MediaAsset:
    key = f"t/x/media/attach/{uuid.uuid4().hex}.pdf"  # a row only: nothing is stored
    return MediaAsset.objects.create(kind="document", key=key, status="ready", owner=owner)


def test_the_uploader_attaches_to_a_course_they_teach_and_it_is_audited(in_tenant):
    instructor = get_user_model().objects.get(email="instructor@acme.test")
    course = make_course(slug="attach-mine")
    CourseStaff.objects.create(course=course, user=instructor, role=CourseStaffRole.OWNER)
    lesson = lessons_of(course)[0]
    asset = asset_attach(actor=instructor, asset=_asset(instructor), lesson=lesson)
    assert asset.lesson_id == lesson.pk
    assert AuditEntry.objects.filter(action="media.attached", target_id=str(asset.pk)).exists()


def test_a_course_they_do_not_teach_or_someone_elses_file_is_refused_and_nothing_changes(in_tenant):
    User = get_user_model()
    instructor = User.objects.get(email="instructor@acme.test")
    admin = User.objects.get(email="admin@acme.test")
    elsewhere = lessons_of(make_course(slug="attach-theirs"))[0]
    mine = _asset(instructor)
    with pytest.raises(UploadRefused) as refused:
        asset_attach(actor=instructor, asset=mine, lesson=elsewhere)
    assert refused.value.status == 403
    assert MediaAsset.objects.get(pk=mine.pk).lesson_id is None
    theirs = _asset(admin)
    course = make_course(slug="attach-taught")
    CourseStaff.objects.create(course=course, user=instructor, role=CourseStaffRole.OWNER)
    with pytest.raises(UploadRefused):
        asset_attach(actor=instructor, asset=theirs, lesson=lessons_of(course)[0])
    assert MediaAsset.objects.get(pk=theirs.pk).lesson_id is None
    assert not AuditEntry.objects.filter(action="media.attached").exists()
