"""Direct uploads: the browser's POST goes to the real S3 server, which enforces the policy;
the server then verifies what arrived before anything is served."""

from __future__ import annotations

import json
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from courses.models import CourseStaff, CourseStaffRole
from courses.tests.factories import lessons_of, make_course
from media_delivery import storage
from media_delivery.models import AssetStatus, MediaAsset
from media_delivery.services import MULTIPART_THRESHOLD, UploadRefused, upload_start
from media_delivery.tests.helpers import PDF, PNG, http
from tenants.context import storage_prefix
from tests.fixtures import client_for

User = get_user_model()


def multipart_body(fields: dict, data: bytes, filename: str = "file.bin") -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    lines = []
    for name, value in fields.items():
        lines += [f"--{boundary}", f'Content-Disposition: form-data; name="{name}"', "", value]
    head = "\r\n".join(
        [*lines, f"--{boundary}", f'Content-Disposition: form-data; name="file"; filename="{filename}"']
    )
    body = (
        head.encode()
        + b"\r\nContent-Type: application/octet-stream\r\n\r\n"
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def post_to_s3(ticket: dict, data: bytes, **field_changes) -> int:
    fields = {**ticket["fields"], **field_changes}
    body, content_type = multipart_body(fields, data)
    return http("POST", ticket["url"], data=body, headers={"Content-Type": content_type})[0]


def start(client, **body) -> tuple[int, dict]:
    response = client.post("/media/uploads/", data=json.dumps(body), content_type="application/json")
    return response.status_code, response.json()


@pytest.fixture
def instructor_client(in_tenant):
    return client_for(in_tenant, as_role="instructor")


@pytest.fixture
def cleanup(in_tenant):
    made = []
    yield made
    connection.set_tenant(in_tenant)
    for asset_id in made:
        storage.objects_delete_prefix(f"{storage_prefix()}media/{asset_id}/")


def test_a_pdf_goes_straight_to_s3_then_is_verified_and_ready(instructor_client, in_tenant, cleanup):
    status, ticket = start(
        instructor_client,
        kind="document",
        filename="guide.pdf",
        content_type="application/pdf",
        size=len(PDF),
    )
    assert status == 201 and ticket["method"] == "post"
    cleanup.append(ticket["asset"])
    assert ticket["fields"]["key"] == f"{storage_prefix()}media/{ticket['asset']}/upload/source.pdf"
    assert post_to_s3(ticket, PDF) == 204
    finish = instructor_client.post(f"/media/uploads/{ticket['asset']}/finish/")
    assert finish.status_code == 200, finish.content
    assert finish.json()["status"] == "ready" and finish["Cache-Control"] == "private, no-store"
    asset = MediaAsset.objects.get(pk=ticket["asset"])
    assert (asset.status, asset.size, asset.filename) == (AssetStatus.READY, len(PDF), "guide.pdf")
    # The uploader reaches it through the redirect (an asset of no lesson: its owner and admins).
    assert instructor_client.get(f"/media/{asset.pk}/").status_code == 302
    assert client_for(in_tenant, as_role="learner").get(f"/media/{asset.pk}/").status_code == 404


def test_the_s3_server_refuses_an_oversized_post(in_tenant, cleanup):
    key = f"{storage_prefix()}media/{uuid.uuid4()}/source.pdf"
    cleanup.append(key.split("/")[-2])
    ticket = storage.presigned_post(
        key, content_type="application/pdf", min_bytes=1, max_bytes=100, expires_in=60
    )
    assert post_to_s3(ticket, PDF[:101] + b"x" * 200) == 400
    with pytest.raises(storage.ObjectMissing):
        storage.object_head(key)
    assert post_to_s3(ticket, PDF[:100]) == 204


def test_the_s3_server_refuses_a_key_or_type_the_server_did_not_issue(instructor_client, in_tenant, cleanup):
    _, ticket = start(
        instructor_client, kind="document", filename="a.pdf", content_type="application/pdf", size=len(PDF)
    )
    cleanup.append(ticket["asset"])
    other_key = f"{storage_prefix()}media/{ticket['asset']}/other.pdf"
    assert post_to_s3(ticket, PDF, key=other_key) == 403
    assert post_to_s3(ticket, PDF, **{"Content-Type": "text/html"}) == 403
    with pytest.raises(storage.ObjectMissing):
        storage.object_head(other_key)
    # Nothing arrived under the issued key either: finishing rejects, nothing is ready.
    finish = instructor_client.post(f"/media/uploads/{ticket['asset']}/finish/")
    assert finish.status_code == 422 and "did not arrive" in finish.json()["reason"]


def test_bytes_that_do_not_match_the_claimed_type_are_rejected_and_deleted(
    instructor_client, in_tenant, cleanup
):
    _, ticket = start(
        instructor_client, kind="document", filename="fake.pdf", content_type="application/pdf", size=len(PNG)
    )
    cleanup.append(ticket["asset"])
    assert post_to_s3(ticket, PNG) == 204
    finish = instructor_client.post(f"/media/uploads/{ticket['asset']}/finish/")
    assert finish.status_code == 422
    assert "not PDF" in finish.json()["reason"]
    asset = MediaAsset.objects.get(pk=ticket["asset"])
    assert asset.status == AssetStatus.REJECTED
    with pytest.raises(storage.ObjectMissing):
        storage.object_head(asset.key)
    assert instructor_client.get(f"/media/{asset.pk}/").status_code == 404


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"kind": "document", "content_type": "text/html", "size": 10}, "must be one of application/pdf"),
        ({"kind": "document", "content_type": "application/pdf", "size": 0}, "empty"),
        (
            {"kind": "document", "content_type": "application/pdf", "size": 200 * 1024 * 1024},
            "at most 100 MB",
        ),
        ({"kind": "video", "content_type": "video/mp4", "size": 6 * 1024**3}, "at most 5 GB"),
        ({"kind": "spreadsheet", "content_type": "text/csv", "size": 10}, "Unknown kind"),
        ({"kind": "video", "content_type": "video/mp4", "size": "12"}, "empty"),
    ],
)
def test_bad_declarations_are_refused_with_a_reason_and_nothing_is_made(instructor_client, body, message):
    before = MediaAsset.objects.count()
    status, answer = start(instructor_client, filename="x", **body)
    assert status == 400 and message in answer["error"]
    assert MediaAsset.objects.count() == before


def test_learners_cannot_upload_and_cannot_finish_others_uploads(instructor_client, in_tenant, cleanup):
    learner = client_for(in_tenant, as_role="learner")
    status, answer = start(learner, kind="document", content_type="application/pdf", size=10)
    assert status == 403 and "instructors" in answer["error"]
    _, ticket = start(instructor_client, kind="document", content_type="application/pdf", size=10)
    cleanup.append(ticket["asset"])
    for action in ("finish", "abort", "parts"):
        response = learner.post(f"/media/uploads/{ticket['asset']}/{action}/")
        assert response.status_code == 404 and "error" in response.json()
    assert MediaAsset.objects.get(pk=ticket["asset"]).status == AssetStatus.PENDING


def test_an_upload_of_another_tenant_cannot_be_finished_here(instructor_client, in_tenant, other_tenant):
    globex = client_for(other_tenant, as_role="admin")
    _, ticket = start(instructor_client, kind="document", content_type="application/pdf", size=10)
    response = globex.post(f"/media/uploads/{ticket['asset']}/finish/")
    assert response.status_code == 404
    connection.set_tenant(in_tenant)
    assert MediaAsset.objects.get(pk=ticket["asset"]).status == AssetStatus.PENDING


def test_a_cancelled_upload_is_never_ready(instructor_client, in_tenant, cleanup):
    _, ticket = start(instructor_client, kind="document", content_type="application/pdf", size=len(PDF))
    cleanup.append(ticket["asset"])
    assert post_to_s3(ticket, PDF) == 204
    assert instructor_client.post(f"/media/uploads/{ticket['asset']}/abort/").json()["status"] == "rejected"
    assert instructor_client.post(f"/media/uploads/{ticket['asset']}/finish/").status_code == 409
    with pytest.raises(storage.ObjectMissing):
        storage.object_head(MediaAsset.objects.get(pk=ticket["asset"]).key)


def test_a_large_video_uses_multipart_with_presigned_part_urls(instructor_client, in_tenant, cleanup):
    """Parts go to S3 by presigned PUT; finishing completes from the parts S3 holds."""
    size = MULTIPART_THRESHOLD + 1
    status, ticket = start(
        instructor_client, kind="video", filename="big.mp4", content_type="video/mp4", size=size
    )
    assert status == 201 and ticket["method"] == "multipart"
    cleanup.append(ticket["asset"])
    assert ticket["part_count"] == 5
    response = instructor_client.post(
        f"/media/uploads/{ticket['asset']}/parts/",
        data=json.dumps({"parts": [1, 2]}),
        content_type="application/json",
    )
    urls = response.json()["urls"]
    # Two parts are enough to show the protocol: S3 needs 5 MB for every part but the last.
    first = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * (5 * 1024 * 1024)
    assert http("PUT", urls["1"], data=first)[0] == 200
    assert http("PUT", urls["2"], data=b"\x00" * 1000)[0] == 200
    bad = instructor_client.post(
        f"/media/uploads/{ticket['asset']}/parts/",
        data=json.dumps({"parts": [0, 99]}),
        content_type="application/json",
    )
    assert bad.status_code == 400 and "Part numbers" in bad.json()["error"]
    finish = instructor_client.post(f"/media/uploads/{ticket['asset']}/finish/")
    assert finish.status_code == 200, finish.content
    asset = MediaAsset.objects.get(pk=ticket["asset"])
    assert asset.size == len(first) + 1000 and asset.upload_id == ""


def test_uploading_to_a_lesson_points_the_lesson_at_the_new_file(in_tenant, cleanup):
    course = make_course(slug=f"upl-{uuid.uuid4().hex[:6]}", publish=False)
    lesson = lessons_of(course)[0]
    instructor = User.objects.get(email="instructor@acme.test")
    with pytest.raises(UploadRefused):
        upload_start(actor=instructor, kind="document", filename="a.pdf", content_type="image/png", size=3)
    client = client_for(in_tenant, as_role="admin")
    _, ticket = start(
        client,
        kind="document",
        filename="notes.pdf",
        content_type="application/pdf",
        size=len(PDF),
        lesson=lesson.pk,
    )
    cleanup.append(ticket["asset"])
    assert post_to_s3(ticket, PDF) == 204
    assert client.post(f"/media/uploads/{ticket['asset']}/finish/").status_code == 200
    lesson.refresh_from_db()
    assert lesson.document.name == f"media/{ticket['asset']}/source.pdf"
    assert MediaAsset.objects.get(pk=ticket["asset"]).lesson_id == lesson.pk
    # An instructor who does not teach the course cannot upload to its lessons.
    status, _ = start(
        client_for(in_tenant, as_role="instructor"),
        kind="document",
        content_type="application/pdf",
        size=10,
        lesson=lesson.pk,
    )
    assert status == 404


def test_the_file_name_keeps_no_path_or_control_characters(in_tenant):
    instructor = User.objects.get(email="instructor@acme.test")
    ticket = upload_start(
        actor=instructor,
        kind="document",
        filename='..\\evil/na"me\r\nX-Injected: 1.pdf',
        content_type="application/pdf",
        size=10,
    )
    assert ticket.asset.filename == 'na"meX-Injected: 1.pdf'
    assert ticket.asset.key.endswith("/source.pdf")


def test_an_assistant_is_told_why_they_may_not_upload_to_a_lesson_of_their_course(in_tenant):
    """Off the course's staff a lesson is unknown (404); on it, without the right to change the
    course, the answer is 403 with the reason, like the course door's (ADR 0140)."""
    course = make_course(slug=f"upl-{uuid.uuid4().hex[:6]}", publish=False)
    lesson = lessons_of(course)[0]
    instructor = User.objects.get(email="instructor@acme.test")
    client = client_for(in_tenant, as_role="instructor")
    body = {"kind": "document", "filename": "a.pdf", "content_type": "application/pdf", "size": 10}
    assert start(client, **body, lesson=lesson.pk)[0] == 404
    assert client.get(f"/media/upload/?lesson={lesson.pk}").status_code == 404
    CourseStaff.objects.create(course=course, user=instructor, role=CourseStaffRole.ASSISTANT)
    status, answer = start(client, **body, lesson=lesson.pk)
    assert status == 403
    assert answer["error"] == "Only this course's instructors and the organization's admins can change it."
    page = client.get(f"/media/upload/?lesson={lesson.pk}")
    assert page.status_code == 403
    assert b"Only this course&#x27;s instructors" in page.content
    assert not MediaAsset.objects.filter(lesson=lesson).exists()
