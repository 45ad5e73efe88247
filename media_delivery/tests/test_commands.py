"""Operator commands: media_audit and rotate_cloudfront_key."""

from __future__ import annotations

import stat
import uuid
from io import StringIO

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.management import CommandError, call_command
from django.db import connection

from media_delivery import storage
from media_delivery.models import AssetStatus, MediaAsset
from media_delivery.signing import _signer_for
from media_delivery.tests.helpers import PDF, put
from tenants.context import storage_prefix


def test_media_audit_lists_orphans_and_missing_objects_per_tenant(in_tenant, other_tenant):
    folder = f"tests/{uuid.uuid4()}/"
    orphan = put(f"{folder}orphan.pdf", PDF, "application/pdf")
    kept = put(f"{folder}kept.pdf", PDF, "application/pdf")
    MediaAsset.objects.create(kind="document", key=kept, status=AssetStatus.READY)
    gone = MediaAsset.objects.create(
        kind="document", key=f"{storage_prefix()}{folder}gone.pdf", status="ready"
    )
    try:
        out = StringIO()
        call_command("media_audit", "--schema", "acme", stdout=out)
        text = out.getvalue()
        assert f"orphan: {orphan}" in text
        assert f"missing: {gone.pk} {gone.key}" in text
        assert kept not in text
        # Another tenant's audit does not see acme's objects.
        out = StringIO()
        call_command("media_audit", "--schema", "globex", stdout=out)
        assert orphan not in out.getvalue()
    finally:
        connection.set_tenant(in_tenant)
        storage.objects_delete_prefix(storage_prefix() + folder)


def test_media_audit_needs_a_known_tenant(db):
    with pytest.raises(CommandError, match="No tenant"):
        call_command("media_audit", "--schema", "nobody")


def test_rotate_makes_a_private_p256_key_and_prints_the_steps(tmp_path):
    out = StringIO()
    call_command("rotate_cloudfront_key", "--out", str(tmp_path), stdout=out)
    private = next(tmp_path.glob("cloudfront-*[0-9].pem"))
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    key = serialization.load_pem_private_key(private.read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1"
    text = out.getvalue()
    assert "key group NEXT TO the current one" in text and "not before" in text and str(private) in text


def test_rotate_refuses_a_missing_directory_and_check_refuses_no_configuration(tmp_path, settings):
    with pytest.raises(CommandError, match="not a directory"):
        call_command("rotate_cloudfront_key", "--out", str(tmp_path / "nope"))
    settings.CLOUDFRONT_DOMAIN = ""
    with pytest.raises(CommandError, match="not configured"):
        call_command("rotate_cloudfront_key", "--check")


def test_rotate_check_signs_with_the_configured_key(tmp_path, settings):
    call_command("rotate_cloudfront_key", "--out", str(tmp_path), stdout=StringIO())
    settings.CLOUDFRONT_DOMAIN = "media.example.test"
    settings.CLOUDFRONT_KEY_ID = "K2NEW"
    settings.CLOUDFRONT_PRIVATE_KEY_FILE = str(next(tmp_path.glob("cloudfront-*[0-9].pem")))
    _signer_for.cache_clear()
    out = StringIO()
    call_command("rotate_cloudfront_key", "--check", stdout=out)
    assert "Key K2NEW signs" in out.getvalue()
    settings.CLOUDFRONT_PRIVATE_KEY_FILE = str(tmp_path / "missing.pem")
    with pytest.raises(CommandError, match="cannot be used"):
        call_command("rotate_cloudfront_key", "--check")
    _signer_for.cache_clear()


def test_adopt_lesson_media_registers_files_stored_before_assets_existed(in_tenant):
    from courses.models import Lesson, LessonKind
    from courses.tests.factories import lessons_of, make_course

    folder = f"tests/{uuid.uuid4()}/"
    course = make_course(slug=f"old-{uuid.uuid4().hex[:6]}", lessons=1, publish=False)
    lesson = lessons_of(course)[0]
    put(f"{folder}old.pdf", PDF, "application/pdf")
    Lesson.objects.filter(pk=lesson.pk).update(
        kind=LessonKind.DOCUMENT, document=f"{folder}old.pdf"
    )  # no signal
    try:
        out = StringIO()
        call_command("adopt_lesson_media", "--schema", "acme", stdout=out)
        assert "1 files registered" in out.getvalue()
        connection.set_tenant(in_tenant)
        asset = MediaAsset.objects.get(key=f"{storage_prefix()}{folder}old.pdf")
        assert asset.status == AssetStatus.READY and asset.lesson_id == lesson.pk
        out = StringIO()
        call_command("adopt_lesson_media", "--schema", "acme", stdout=out)
        assert "0 files registered" in out.getvalue()
    finally:
        connection.set_tenant(in_tenant)
        storage.objects_delete_prefix(storage_prefix() + folder)


def test_system_check_refuses_a_half_configured_or_unusable_cloudfront(settings, tmp_path):
    from media_delivery.checks import cloudfront_settings

    settings.CLOUDFRONT_DOMAIN, settings.CLOUDFRONT_KEY_ID, settings.CLOUDFRONT_PRIVATE_KEY_FILE = "", "", ""
    assert cloudfront_settings() == []
    settings.CLOUDFRONT_DOMAIN = "media.example.test"
    assert [e.id for e in cloudfront_settings()] == ["media_delivery.E001"]
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key")
    settings.CLOUDFRONT_KEY_ID, settings.CLOUDFRONT_PRIVATE_KEY_FILE = "K", str(bad)
    _signer_for.cache_clear()
    assert [e.id for e in cloudfront_settings()] == ["media_delivery.E002"]
    _signer_for.cache_clear()


def test_media_audit_knows_every_tenant_file_field_including_apps_above_it():
    from media_delivery.management.commands.media_audit import _tenant_file_fields

    fields = {f"{field.model._meta.label}.{field.name}" for field in _tenant_file_fields()}
    assert {"courses.Course.cover", "courses.Lesson.video", "courses.Lesson.document"} <= fields
    # Older assignment files and certificate PDFs are owned, not orphans.
    assert {"assessments.Attempt.file", "assessments.Certificate.file"} <= fields
