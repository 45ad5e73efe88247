"""Assignment files go from the browser straight to the real S3 server (presigned POST), are
checked by media_delivery, handed in by their asset id, and downloaded through a signed URL."""

from __future__ import annotations

import io
import json
import uuid
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.test import Client

from assessments.models import AssessmentKind, AssignmentUpload, Attempt, AttemptStatus
from core.uploads import MB
from enrollments.services import enrollment_create
from media_delivery import storage
from media_delivery.models import AssetKind, AssetStatus, MediaAsset
from media_delivery.tests.helpers import PDF, http
from media_delivery.tests.test_uploads import post_to_s3
from tenants.context import storage_prefix
from tests.fixtures import client_for, host_of

from .factories import make_assessed_course

User = get_user_model()


@pytest.fixture
def learner(in_tenant):
    return User.objects.get(email="learner@acme.test")


@pytest.fixture
def assignment(in_tenant, learner):
    course, lesson, assessment = make_assessed_course(
        slug="upload-course", kind=AssessmentKind.ASSIGNMENT, passing_score=Decimal("50")
    )
    enrollment_create(user=learner, course=course)
    return course, lesson, assessment


@pytest.fixture
def cleanup(in_tenant):
    """Objects the tests put in the bucket are removed afterwards (the rows roll back)."""
    made: list[str] = []
    yield made
    connection.set_tenant(in_tenant)
    for asset_id in made:
        storage.objects_delete_prefix(f"{storage_prefix()}media/{asset_id}/")


def _base(course, lesson) -> str:
    return f"/assessments/{course.slug}/lessons/{lesson.pk}/uploads/"


def start(client, course, lesson, **body) -> tuple[int, dict]:
    response = client.post(_base(course, lesson), data=json.dumps(body), content_type="application/json")
    assert response["Content-Type"] == "application/json"
    return response.status_code, response.json()


def finish(client, course, lesson, asset_id):
    return client.post(f"{_base(course, lesson)}{asset_id}/finish/")


def uploaded(client, course, lesson, cleanup, data=PDF, content_type="application/pdf", name="essay.pdf"):
    """Start, send the bytes to S3, finish: the finish response."""
    status, ticket = start(client, course, lesson, filename=name, content_type=content_type, size=len(data))
    assert status == 201, ticket
    cleanup.append(ticket["asset"])
    assert post_to_s3(ticket, data) == 204
    return ticket, finish(client, course, lesson, ticket["asset"])


def another_learner(tenant, email="second@acme.test") -> tuple[Client, object]:
    user = User.objects.create_user(email=email, password="second-pass-2026")
    client = Client(HTTP_HOST=host_of(tenant))
    client.force_login(user)
    return client, user


def test_a_file_goes_to_s3_is_checked_handed_in_and_the_grader_downloads_it(
    in_tenant, learner, assignment, cleanup
):
    course, lesson, assessment = assignment
    client = client_for(in_tenant, as_role="learner")
    page = client.get(f"/assessments/{course.slug}/lessons/{lesson.pk}/").content.decode()
    assert "data-assignment-upload" in page and "<noscript>" in page and "js/uploader.js" in page
    assert 'type="file"' in page and 'name="file"' not in page  # nothing goes through the form

    ticket, done = uploaded(client, course, lesson, cleanup)
    asset_id = ticket["asset"]
    assert ticket["method"] == "post" and ticket["max_bytes"] == 20 * MB
    assert ticket["fields"]["key"] == f"t/{in_tenant.uuid}/media/{asset_id}/upload/source.pdf"
    assert done.status_code == 200 and done.json()["status"] == "ready", done.content
    assert done["Cache-Control"] == "private, no-store"
    asset = MediaAsset.objects.get(pk=asset_id)
    assert (asset.kind, asset.owner, asset.size, asset.lesson) == (
        AssetKind.SUBMISSION,
        learner,
        len(PDF),
        None,
    )
    assert AssignmentUpload.objects.filter(asset=asset, assessment=assessment, user=learner).exists()

    handed = client.post(
        f"/assessments/{course.slug}/lessons/{lesson.pk}/", {"text": "See file.", "asset": asset_id}
    )
    assert handed.status_code == 302, handed.content.decode()
    attempt = Attempt.objects.get()
    assert (attempt.status, attempt.asset_id, attempt.file_name) == (
        AttemptStatus.SUBMITTED,
        asset.pk,
        "essay.pdf",
    )
    file_url = f"/assessments/{course.slug}/attempts/{attempt.pk}/file/"
    assert file_url in client.get(f"/assessments/{course.slug}/attempts/{attempt.pk}/").content.decode()

    own = client.get(file_url)
    assert own.status_code == 302 and own["Cache-Control"] == "private, no-store"
    assert asset.key in own["Location"] and "X-Amz-Signature" in own["Location"]
    assert "X-Amz-Expires=3" in own["Location"]  # 5 to 6 minutes (300-360 s)
    assert http("GET", own["Location"]) == (200, PDF)

    instructor = client_for(in_tenant, as_role="instructor")
    assert instructor.get(file_url).status_code == 404  # not on this course's staff
    course.instructors.add(User.objects.get(email="instructor@acme.test"))
    grade_page = instructor.get(f"/assessments/grading/{attempt.pk}/").content.decode()
    assert file_url in grade_page and "essay.pdf" in grade_page
    graders = instructor.get(file_url)
    assert graders.status_code == 302 and http("GET", graders["Location"]) == (200, PDF)
    # The general media URL stays closed to the grader (an asset of no lesson: owner and admins).
    assert instructor.get(f"/media/{asset.pk}/").status_code == 404

    other, _ = another_learner(in_tenant)
    assert other.get(file_url).status_code == 404
    assert Client(HTTP_HOST=host_of(in_tenant)).get(file_url).status_code == 302  # to sign-in
    # The same file cannot be handed in twice.
    attempt.status = AttemptStatus.GRADED
    attempt.save()
    again = client.post(f"/assessments/{course.slug}/lessons/{lesson.pk}/", {"asset": asset_id})
    assert again.status_code == 400 and "already handed in" in again.content.decode()
    assert Attempt.objects.count() == 1


def test_plain_text_is_accepted_and_the_limits_are_the_assignments(in_tenant, learner, assignment, cleanup):
    course, lesson, assessment = assignment
    assessment.max_file_mb = 1
    assessment.save()
    client = client_for(in_tenant, as_role="learner")
    ticket, done = uploaded(
        client, course, lesson, cleanup, data="Mon essai, en français.\n".encode(), content_type="text/plain"
    )
    assert done.status_code == 200 and ticket["fields"]["key"].endswith("/source.txt")
    status, body = start(
        client, course, lesson, filename="big.pdf", content_type="application/pdf", size=MB + 1
    )
    assert status == 400 and "at most 1 MB" in body["error"]
    for content_type in ("application/zip", "text/html", "video/mp4", ""):
        status, body = start(client, course, lesson, filename="x", content_type=content_type, size=10)
        assert status == 400 and "must be one of" in body["error"], content_type
    status, body = start(client, course, lesson, filename="x.pdf", content_type="application/pdf", size=0)
    assert status == 400 and "empty" in body["error"]
    bad = client.post(_base(course, lesson), data="not json", content_type="application/json")
    assert bad.status_code == 400 and "JSON" in bad.json()["error"]
    # Only the one valid ticket left an asset behind.
    assert MediaAsset.objects.count() == 1


def test_the_s3_server_refuses_an_oversized_file_and_another_content_type(
    in_tenant, learner, assignment, cleanup
):
    course, lesson, assessment = assignment
    assessment.max_file_mb = 1
    assessment.save()
    client = client_for(in_tenant, as_role="learner")
    status, ticket = start(client, course, lesson, filename="a.pdf", content_type="application/pdf", size=MB)
    assert status == 201
    cleanup.append(ticket["asset"])
    # The browser declared 1 MB; S3 holds it to the assignment's limit whatever is sent.
    assert post_to_s3(ticket, PDF + b"x" * (MB + 1 - len(PDF))) == 400
    assert post_to_s3(ticket, PDF, **{"Content-Type": "text/html"}) == 403
    done = finish(client, course, lesson, ticket["asset"])
    assert done.status_code == 422 and "did not arrive" in done.json()["reason"]
    assert MediaAsset.objects.get(pk=ticket["asset"]).status == AssetStatus.REJECTED
    handed = client.post(f"/assessments/{course.slug}/lessons/{lesson.pk}/", {"asset": ticket["asset"]})
    assert handed.status_code == 400 and "not accepted" in handed.content.decode()
    assert not Attempt.objects.exists()


def test_bytes_that_are_not_the_declared_type_are_rejected_and_deleted(
    in_tenant, learner, assignment, cleanup
):
    course, lesson, _ = assignment
    client = client_for(in_tenant, as_role="learner")
    # A PDF claiming to be a PNG: S3 takes it (type and size match the policy), the check does not.
    ticket, done = uploaded(client, course, lesson, cleanup, data=PDF, content_type="image/png", name="a.png")
    assert done.status_code == 422 and "not PNG" in done.json()["reason"]
    with pytest.raises(storage.ObjectMissing):
        storage.object_head(ticket["fields"]["key"])
    # Binary bytes claiming to be text.
    _, done = uploaded(client, course, lesson, cleanup, data=b"MZ\x90\x00\x03", content_type="text/plain")
    assert done.status_code == 422 and "not TEXT" in done.json()["reason"]
    handed = client.post(f"/assessments/{course.slug}/lessons/{lesson.pk}/", {"asset": ticket["asset"]})
    assert handed.status_code == 400 and not Attempt.objects.exists()


def test_only_the_learner_it_was_issued_to_finishes_and_hands_in_an_upload(
    in_tenant, learner, assignment, cleanup, other_tenant
):
    course, lesson, _ = assignment
    client = client_for(in_tenant, as_role="learner")
    _, ticket = start(client, course, lesson, filename="a.pdf", content_type="application/pdf", size=len(PDF))
    cleanup.append(ticket["asset"])
    assert post_to_s3(ticket, PDF) == 204
    overview = f"/assessments/{course.slug}/lessons/{lesson.pk}/"
    # Not finished yet: handing it in is refused.
    pending = client.post(overview, {"asset": ticket["asset"]})
    assert pending.status_code == 400 and "not finished uploading" in pending.content.decode()

    other, other_user = another_learner(in_tenant)
    enrollment_create(user=other_user, course=course)
    assert finish(other, course, lesson, ticket["asset"]).status_code == 404
    assert other.post(f"{_base(course, lesson)}{ticket['asset']}/abort/").status_code == 404
    assert MediaAsset.objects.get(pk=ticket["asset"]).status == AssetStatus.PENDING
    # globex's learner, on globex's host, aims at acme's course and upload: nothing there.
    globex = client_for(other_tenant, as_role="learner")
    assert finish(globex, course, lesson, ticket["asset"]).status_code == 404
    assert globex.post(overview, {"asset": ticket["asset"]}).status_code == 404
    connection.set_tenant(in_tenant)
    assert finish(client, course, lesson, ticket["asset"]).status_code == 200
    stolen = other.post(overview, {"text": "Mine now.", "asset": ticket["asset"]})
    assert stolen.status_code == 400 and "not uploaded for this assignment" in stolen.content.decode()
    never = client.post(overview, {"asset": str(uuid.uuid4())})
    assert never.status_code == 400 and "not uploaded for this assignment" in never.content.decode()
    garbage = client.post(overview, {"asset": "../../etc"})
    assert garbage.status_code == 400
    assert not Attempt.objects.exists()

    # An upload issued for another assignment of the same learner does not fit this one.
    course2, lesson2, _ = make_assessed_course(slug="upload-course-2", kind=AssessmentKind.ASSIGNMENT)
    enrollment_create(user=learner, course=course2)
    wrong = client.post(f"/assessments/{course2.slug}/lessons/{lesson2.pk}/", {"asset": ticket["asset"]})
    assert wrong.status_code == 400 and "not uploaded for this assignment" in wrong.content.decode()
    assert finish(client, course2, lesson2, ticket["asset"]).status_code == 404
    # An asset made by the general media upload (not issued for an assignment) is refused too.
    staff_asset = MediaAsset.objects.create(
        kind=AssetKind.FILE,
        key=f"{storage_prefix()}media/{uuid.uuid4()}/source.pdf",
        status="ready",
        owner=learner,
    )
    foreign = client.post(overview, {"asset": str(staff_asset.pk)})
    assert foreign.status_code == 400 and not Attempt.objects.exists()
    handed = client.post(overview, {"asset": ticket["asset"]})
    attempt = Attempt.objects.get()
    assert handed.status_code == 302 and attempt.asset_id == uuid.UUID(ticket["asset"])
    file_url = f"/assessments/{course.slug}/attempts/{attempt.pk}/file/"
    assert globex.get(file_url).status_code == 404
    assert client_for(other_tenant, as_role="admin").get(file_url).status_code == 404


def test_who_may_start_an_upload(in_tenant, learner, assignment, other_tenant):
    course, lesson, assessment = assignment
    body = {"filename": "a.pdf", "content_type": "application/pdf", "size": 10}
    anonymous = Client(HTTP_HOST=host_of(in_tenant))
    assert start(anonymous, course, lesson, **body)[0] == 403
    stranger, _ = another_learner(in_tenant)  # not enrolled
    assert start(stranger, course, lesson, **body) == (404, {"error": "No such assignment."})
    # The same path on globex's host: no such course there.
    assert start(client_for(other_tenant, as_role="learner"), course, lesson, **body)[0] == 404
    client = client_for(in_tenant, as_role="learner")
    assert client.get(_base(course, lesson)).status_code == 405
    assessment.accepts_file = False
    assessment.save()
    assert start(client, course, lesson, **body) == (400, {"error": "This assignment does not take files."})
    assessment.accepts_file, assessment.attempts_allowed = True, 1
    assessment.save()
    Attempt.objects.create(
        assessment=assessment, user=learner, number=1, started_at=assessment.created_at, status="graded"
    )
    status, refusal = start(client, course, lesson, **body)
    assert status == 400 and "used all 1 submission" in refusal["error"]
    # The general media API does not issue assignment uploads.
    instructor = client_for(in_tenant, as_role="instructor")
    general = instructor.post(
        "/media/uploads/", data=json.dumps(body | {"kind": "submission"}), content_type="application/json"
    )
    assert general.status_code == 400 and "assignment's page" in general.json()["error"]
    assert not MediaAsset.objects.exists()


def test_files_handed_in_through_the_old_form_stay_downloadable(in_tenant, learner, assignment):
    course, _, assessment = assignment
    attempt = Attempt.objects.create(
        assessment=assessment,
        user=learner,
        number=1,
        started_at=assessment.created_at,
        status="submitted",
        file_name="old.pdf",
    )
    attempt.file.save(f"{assessment.pk}/{learner.pk}-1", ContentFile(PDF), save=True)
    try:
        response = client_for(in_tenant, as_role="learner").get(
            f"/assessments/{course.slug}/attempts/{attempt.pk}/file/"
        )
        assert response.status_code == 302
        assert f"t/{in_tenant.uuid}/assessments/submissions/" in response["Location"]
        assert http("GET", response["Location"]) == (200, PDF)
    finally:
        default_storage.delete(attempt.file.name)


def test_files_never_handed_in_are_pruned_after_a_week(in_tenant, learner, assignment, cleanup):
    from datetime import timedelta

    from django.core.management import CommandError, call_command
    from django.utils import timezone

    course, lesson, _ = assignment
    client = client_for(in_tenant, as_role="learner")
    stale, _ = uploaded(client, course, lesson, cleanup, name="forgotten.pdf")
    handed, _ = uploaded(client, course, lesson, cleanup, name="handed.pdf")
    uploaded(client, course, lesson, cleanup, name="fresh.pdf")
    overview = f"/assessments/{course.slug}/lessons/{lesson.pk}/"
    assert client.post(overview, {"asset": handed["asset"]}).status_code == 302
    AssignmentUpload.objects.filter(asset_id__in=[stale["asset"], handed["asset"]]).update(
        created_at=timezone.now() - timedelta(days=8)
    )
    with pytest.raises(CommandError, match="at least 1"):
        call_command("prune_assignment_uploads", schema="acme", days=0)
    out = io.StringIO()
    call_command("prune_assignment_uploads", schema="acme", stdout=out)
    assert "acme: deleted 1 assignment file(s)" in out.getvalue()
    connection.set_tenant(in_tenant)
    assert set(MediaAsset.objects.values_list("filename", flat=True)) == {"handed.pdf", "fresh.pdf"}
    with pytest.raises(storage.ObjectMissing):
        storage.object_head(stale["fields"]["key"])
    assert storage.object_head(MediaAsset.objects.get(pk=handed["asset"]).key)["size"] == len(PDF)
    assert Attempt.objects.get().asset.filename == "handed.pdf"
