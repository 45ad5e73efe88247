"""Hostile files: polyglots declared as HTML or SVG, swapped objects, reused grants (issue #11,
findings 1 and 3). The server decides what a stored file is served as; what was verified is
what is served. Every check reads the real headers SeaweedFS answers with."""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.request
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django_tenants.utils import schema_context

from courses.models import Course
from courses.templatetags.course_ui import download_url, storage_url
from courses.tests.factories import lessons_of, make_course
from media_delivery import storage
from media_delivery.models import AssetStatus, MediaAsset
from media_delivery.services import upload_start
from media_delivery.tests.helpers import PDF, put
from media_delivery.tests.test_uploads import post_to_s3, start
from tenants.context import storage_prefix
from tenants.models import Tenant
from tests.fixtures import client_for

SCRIPT = b'<html><body><script>document.title="pwned";window.__pwned=1</script></body></html>'
PDF_POLYGLOT = b"%PDF-1.4\n" + SCRIPT + b"\n%%EOF\n"
PNG_POLYGLOT = b"\x89PNG\r\n\x1a\n" + SCRIPT
SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" onload="document.title=\'pwned\'">'
    b"<script>alert(1)</script></svg>"
)
DECLARED = ["text/html", "image/svg+xml"]


def fetch(url: str) -> tuple[int, dict, bytes]:
    """GET with no credentials of ours: (status, headers with lower-case names, body)."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - test endpoints
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


@pytest.fixture
def instructor_client(in_tenant):
    return client_for(in_tenant, as_role="instructor")


@pytest.fixture
def stored(in_tenant):
    """Names saved through default_storage during the test, deleted afterwards."""
    names: list[str] = []
    yield names
    connection.set_tenant(in_tenant)
    for name in names:
        default_storage.delete(name)


@pytest.fixture
def assets(in_tenant):
    made: list[str] = []
    yield made
    connection.set_tenant(in_tenant)
    for asset_id in made:
        storage.objects_delete_prefix(f"{storage_prefix()}media/{asset_id}/")


# --- Files saved through Django's storage (admin file fields, logos, certificates) ---------------


@pytest.mark.parametrize("declared", DECLARED)
def test_a_polyglot_lesson_document_declared_as_html_or_svg_is_stored_and_served_as_pdf(
    in_tenant, stored, declared
):
    """The admin's lesson form stores through FileField.save: the browser's type is ignored."""
    course = make_course(slug=f"poly-{uuid.uuid4().hex[:6]}", lessons=1, publish=False)
    lesson = lessons_of(course)[0]
    lesson.document.save("guide.html", SimpleUploadedFile("guide.html", PDF_POLYGLOT, content_type=declared))
    stored.append(lesson.document.name)
    assert lesson.document.name.endswith(".pdf")
    head = storage.object_head(storage_prefix() + lesson.document.name)
    assert head["content_type"] == "application/pdf" and head["content_disposition"] == "inline"
    status, headers, body = fetch(storage_url(lesson.document.name))
    assert (status, headers["content-type"], headers["content-disposition"]) == (
        200,
        "application/pdf",
        "inline",
    )
    assert body == PDF_POLYGLOT
    _, headers, _ = fetch(download_url(lesson.document.name))
    assert headers["content-type"] == "application/pdf"
    assert headers["content-disposition"].startswith("attachment")


@pytest.mark.parametrize("declared", DECLARED)
def test_a_polyglot_cover_declared_as_html_or_svg_is_stored_and_served_as_png(in_tenant, stored, declared):
    course = make_course(slug=f"cover-{uuid.uuid4().hex[:6]}", lessons=1, publish=False)
    course.cover.save("cover.svg", SimpleUploadedFile("cover.svg", PNG_POLYGLOT, content_type=declared))
    stored.append(course.cover.name)
    assert course.cover.name.endswith(".png")
    assert storage.object_head(storage_prefix() + course.cover.name)["content_type"] == "image/png"
    _, headers, _ = fetch(storage_url(Course.objects.get(pk=course.pk).cover.name))
    assert headers["content-type"] == "image/png"


def test_an_svg_saved_through_storage_is_never_served_inline_or_as_svg(in_tenant, stored):
    """Whatever path stores an SVG (a cover, a seeded file), it is downloaded as plain text."""
    name = default_storage.save(
        "covers/logo.svg", SimpleUploadedFile("logo.svg", SVG, content_type="image/svg+xml")
    )
    stored.append(name)
    assert name.endswith(".txt")
    head = storage.object_head(storage_prefix() + name)
    assert head["content_type"].startswith("text/plain") and head["content_disposition"].startswith(
        "attachment"
    )
    _, headers, _ = fetch(default_storage.url(name))
    assert headers["content-type"].startswith("text/plain")
    assert headers["content-disposition"].startswith("attachment")
    # A caller asking for inline does not get it for a type that is not safe inline.
    _, headers, _ = fetch(default_storage.url(name, parameters={"ResponseContentDisposition": "inline"}))
    assert headers["content-disposition"].startswith("attachment")


def test_an_object_stored_as_html_before_this_fix_is_served_with_the_type_of_its_name(in_tenant):
    """Old objects keep their stored metadata; every signed GET overrides it."""
    key = put(f"lessons/documents/old-{uuid.uuid4().hex[:6]}.pdf", PDF_POLYGLOT, "text/html")
    name = key[len(storage_prefix()) :]
    try:
        _, headers, _ = fetch(storage_url(name))
        assert (headers["content-type"], headers["content-disposition"]) == ("application/pdf", "inline")
        unknown = put(f"covers/old-{uuid.uuid4().hex[:6]}.html", SCRIPT, "text/html")
        _, headers, _ = fetch(storage_url(unknown[len(storage_prefix()) :]))
        assert headers["content-type"] == "application/octet-stream"
        assert headers["content-disposition"].startswith("attachment")
        storage.object_delete(unknown)
    finally:
        storage.object_delete(key)


@pytest.mark.parametrize("declared", DECLARED)
def test_a_polyglot_logo_declared_as_html_or_svg_is_stored_as_png_through_the_branding_page(tenant, declared):
    client = client_for(tenant, as_role="admin")
    logo = SimpleUploadedFile("logo.html", PNG_POLYGLOT, content_type=declared)
    response = client.post(
        "/admin/branding/", {"display_name": "Acme", "primary_colour": "#112233", "logo": logo}
    )
    assert response.status_code == 302
    tenant.refresh_from_db()
    with schema_context(tenant.schema_name):
        try:
            assert tenant.logo.name.endswith(".png")
            assert storage.object_head(storage_prefix() + tenant.logo.name)["content_type"] == "image/png"
            _, headers, _ = fetch(tenant.logo.url)
            assert headers["content-type"] == "image/png"
        finally:
            default_storage.delete(tenant.logo.name)
            Tenant.objects.filter(pk=tenant.pk).update(logo="")


def test_an_svg_logo_is_refused_and_nothing_changes(tenant):
    before = Tenant.objects.get(pk=tenant.pk).logo.name
    client = client_for(tenant, as_role="admin")
    logo = SimpleUploadedFile("logo.svg", SVG, content_type="image/svg+xml")
    response = client.post(
        "/admin/branding/", {"display_name": "Acme", "primary_colour": "#112233", "logo": logo}
    )
    assert response.status_code == 200 and "not a JPEG, PNG, WEBP file" in response.content.decode()
    assert Tenant.objects.get(pk=tenant.pk).logo.name == before


def test_generated_and_legacy_assessment_files_are_stored_with_the_type_of_their_bytes(in_tenant, stored):
    """Certificates (server-made PDFs) and old-form assignment files go through the same storage."""
    name = default_storage.save("certificates/ABC.pdf", ContentFile(PDF))
    stored.append(name)
    assert storage.object_head(storage_prefix() + name)["content_type"] == "application/pdf"
    html = SimpleUploadedFile("essay.pdf", SCRIPT, content_type="application/pdf")
    name = default_storage.save("assessments/submissions/1/essay.pdf", html)
    stored.append(name)
    assert name.endswith(".txt")  # an HTML "PDF" is text, and text is downloaded
    _, headers, _ = fetch(default_storage.url(name))
    assert headers["content-disposition"].startswith("attachment")


# --- Direct uploads -----------------------------------------------------------------------------


@pytest.mark.parametrize("declared", DECLARED)
def test_a_direct_upload_declared_as_html_or_svg_is_refused(instructor_client, declared):
    for kind in ("document", "image", "file"):
        status, answer = start(instructor_client, kind=kind, filename="x", content_type=declared, size=10)
        assert status == 400 and "must be one of" in answer["error"]


def test_an_upload_that_arrived_typed_as_html_is_stored_and_served_as_pdf(
    instructor_client, in_tenant, assets
):
    """Whatever Content-Type the object arrived with (an S3 that does not enforce the policy,
    an upload made before it pinned the type), the verified copy carries the server's."""
    _, ticket = start(
        instructor_client,
        kind="document",
        filename="x.pdf",
        content_type="application/pdf",
        size=len(PDF_POLYGLOT),
    )
    assets.append(ticket["asset"])
    storage.s3_client().put_object(
        Bucket=storage.settings.S3_BUCKET,
        Key=ticket["fields"]["key"],
        Body=PDF_POLYGLOT,
        ContentType="text/html",
    )
    assert instructor_client.post(f"/media/uploads/{ticket['asset']}/finish/").status_code == 200
    asset = MediaAsset.objects.get(pk=ticket["asset"])
    head = storage.object_head(asset.key)
    assert (asset.content_type, head["content_type"]) == ("application/pdf", "application/pdf")
    assert (asset.verified_etag, asset.size) == (head["etag"], len(PDF_POLYGLOT))
    location = instructor_client.get(f"/media/{asset.pk}/")["Location"]
    query = parse_qs(urlsplit(location).query)
    assert query["response-content-type"] == ["application/pdf"]
    assert query["response-content-disposition"] == ["inline"]
    _, headers, _ = fetch(location)
    assert (headers["content-type"], headers["content-disposition"]) == ("application/pdf", "inline")
    download = instructor_client.get(f"/media/{asset.pk}/?download=1")["Location"]
    _, headers, _ = fetch(download)
    assert headers["content-disposition"] == 'attachment; filename="x.pdf"'


def test_the_grant_is_short_and_pins_type_and_disposition(instructor_client, assets):
    _, ticket = start(
        instructor_client, kind="document", filename="x.pdf", content_type="application/pdf", size=10
    )
    assets.append(ticket["asset"])
    policy = json.loads(base64.b64decode(ticket["fields"]["policy"]))
    expires = time.mktime(time.strptime(policy["expiration"][:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
    assert expires - time.time() <= 600
    assert {"Content-Type": "application/pdf"} in policy["conditions"]
    assert {"Content-Disposition": "attachment"} in policy["conditions"]
    assert post_to_s3(ticket, PDF, **{"Content-Disposition": "inline"}) == 403
    asset = MediaAsset.objects.get(pk=ticket["asset"])
    assert asset.grant_expires_at is not None and asset.upload_key == ticket["fields"]["key"]


def test_a_reused_grant_after_finish_is_refused_and_what_is_served_stays_what_was_verified(
    instructor_client, in_tenant, assets
):
    _, ticket = start(
        instructor_client, kind="document", filename="x.pdf", content_type="application/pdf", size=len(PDF)
    )
    assets.append(ticket["asset"])
    assert post_to_s3(ticket, PDF) == 204
    assert instructor_client.post(f"/media/uploads/{ticket['asset']}/finish/").status_code == 200
    asset = MediaAsset.objects.get(pk=ticket["asset"])
    # The grant names the upload key only: it cannot write the key that is served.
    assert asset.key != ticket["fields"]["key"]
    assert post_to_s3(ticket, SCRIPT, key=asset.key) == 403
    # Reusing it as issued lands where nothing is served, and finishing again is refused.
    post_to_s3(ticket, PDF_POLYGLOT)
    again = instructor_client.post(f"/media/uploads/{ticket['asset']}/finish/")
    assert again.status_code == 409 and "already finished" in again.json()["error"]
    assert MediaAsset.objects.get(pk=asset.pk).verified_etag == asset.verified_etag
    status, _, body = fetch(instructor_client.get(f"/media/{asset.pk}/")["Location"])
    assert (status, body) == (200, PDF)


def test_an_upload_swapped_after_it_was_checked_is_refused(in_tenant, assets):
    """The version sniffed is the version copied: a stale ETag copies nothing."""
    key = put(f"media/{uuid.uuid4()}/upload/source.pdf", PDF, "application/pdf")
    assets.append(key.split("/")[-3])
    etag = storage.object_head(key)["etag"]
    put(key[len(storage_prefix()) :], PDF_POLYGLOT, "text/html")
    target = key.replace("/upload/", "/")
    with pytest.raises(storage.ObjectChanged):
        storage.object_copy_verified(
            key, target, etag=etag, content_type="application/pdf", content_disposition="inline"
        )
    with pytest.raises(storage.ObjectChanged):
        storage.object_read(key, length=16, if_match=etag)
    with pytest.raises(storage.ObjectMissing):
        storage.object_head(target)


def test_a_second_finish_through_the_service_changes_nothing(in_tenant, assets):
    from django.contrib.auth import get_user_model

    from media_delivery.services import UploadAlreadyFinished, upload_finish

    instructor = get_user_model().objects.filter(role="instructor").first()
    ticket = upload_start(
        actor=instructor, kind="document", filename="a.pdf", content_type="application/pdf", size=len(PDF)
    )
    assets.append(str(ticket.asset.pk))
    assert post_to_s3({"url": ticket.url, "fields": ticket.fields}, PDF) == 204
    done = upload_finish(actor=instructor, asset=ticket.asset)
    assert done.status == AssetStatus.READY
    with pytest.raises(UploadAlreadyFinished):
        upload_finish(actor=instructor, asset=done)
    assert MediaAsset.objects.get(pk=done.pk).status == AssetStatus.READY


# --- Tenants ------------------------------------------------------------------------------------


def test_another_tenant_cannot_use_a_grant_or_a_verified_key(
    instructor_client, in_tenant, other_tenant, assets
):
    _, ticket = start(
        instructor_client, kind="document", filename="x.pdf", content_type="application/pdf", size=len(PDF)
    )
    assets.append(ticket["asset"])
    # The grant writes acme's upload key only, not a key in globex's prefix.
    globex_key = f"t/{other_tenant.uuid}/media/{ticket['asset']}/upload/source.pdf"
    assert post_to_s3(ticket, PDF, key=globex_key) == 403
    assert post_to_s3(ticket, PDF) == 204
    # globex cannot finish it (404, JSON) and it stays pending for acme.
    globex = client_for(other_tenant, as_role="admin")
    response = globex.post(f"/media/uploads/{ticket['asset']}/finish/")
    assert response.status_code == 404 and "error" in response.json()
    connection.set_tenant(in_tenant)
    assert MediaAsset.objects.get(pk=ticket["asset"]).status == AssetStatus.PENDING
    assert instructor_client.post(f"/media/uploads/{ticket['asset']}/finish/").status_code == 200
    asset = MediaAsset.objects.get(pk=ticket["asset"])
    assert globex.get(f"/media/{asset.pk}/").status_code == 404
    connection.set_tenant(in_tenant)
    # Storage refuses to copy to, sign or read a key outside the active tenant's prefix.
    with schema_context(other_tenant.schema_name):
        with pytest.raises(PermissionError):
            storage.object_copy_verified(
                asset.key,
                asset.key,
                etag=asset.verified_etag,
                content_type="text/html",
                content_disposition="inline",
            )
        with pytest.raises(PermissionError):
            storage.presigned_get(asset.key, expires_in=60)
    assert storage.object_head(asset.key)["content_type"] == "application/pdf"
