"""Certificates: issued exactly once on completion, stored in S3, verifiable, revocable."""

from __future__ import annotations

import urllib.request
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage

from accounts.models import AuditEntry
from assessments.certificates import (
    CertificateError,
    certificate_issue,
    certificate_reissue,
    certificate_revoke,
    normalize_code,
)
from assessments.models import Certificate, CertificateSettings
from assessments.services import attempt_start, attempt_submit
from assessments.signals import certificate_issued
from enrollments.models import Enrollment, EnrollmentStatus
from enrollments.services import enrollment_create, lesson_complete
from tenants.context import storage_prefix
from tests.fixtures import client_for

from .factories import answers_for, make_assessed_course


@pytest.fixture(autouse=True)
def _certificate_files_deleted(db, tenant, other_tenant):
    """Each issued certificate stores a PDF; the database rolls back, the bucket does not."""
    yield
    from django.db import connection
    from django_tenants.utils import tenant_context

    from media_delivery.storage import object_keys, objects_delete_prefix

    for each in (tenant, other_tenant):
        with tenant_context(each):
            prefix = f"{storage_prefix(each)}certificates/"
            objects_delete_prefix(prefix)
            assert list(object_keys(prefix)) == []
    connection.set_schema_to_public()


@pytest.fixture
def learner(in_tenant):
    return get_user_model().objects.get(email="learner@acme.test")


@pytest.fixture
def issued_events():
    seen = []

    def receiver(sender, **kwargs):
        seen.append({k: v for k, v in kwargs.items() if k != "signal"})

    certificate_issued.connect(receiver, dispatch_uid="test-certificate-issued")
    yield seen
    certificate_issued.disconnect(dispatch_uid="test-certificate-issued")


def _complete(course, lesson, assessment, learner, *, right=True):
    reading = next(x for x in course.modules.get().lessons.all() if x.kind == "text")
    lesson_complete(user=learner, course=course, lesson_id=reading.pk)
    attempt = attempt_start(user=learner, course=course, assessment=assessment)
    attempt_submit(user=learner, attempt=attempt, answers=answers_for(assessment, right=right))


def test_completing_the_course_issues_one_certificate_stored_in_s3(
    learner, issued_events, django_capture_on_commit_callbacks
):
    course, lesson, assessment = make_assessed_course(slug="certified", passing_score=Decimal("80"))
    CertificateSettings.objects.create(course=course)
    learner.full_name = "Ada Learner"
    learner.save()
    enrollment_create(user=learner, course=course)
    with django_capture_on_commit_callbacks(execute=True):
        _complete(course, lesson, assessment, learner)
    assert Enrollment.objects.get(user=learner, course=course).status == EnrollmentStatus.COMPLETED
    certificate = Certificate.objects.get(user=learner, course=course)
    assert certificate.learner_name == "Ada Learner" and certificate.course_title == "Certified"
    assert certificate.file.name.startswith("certificates/")
    assert default_storage.open(certificate.file.name).read(5) == b"%PDF-"
    # Issued exactly once: saving the enrollment again or re-running the task adds nothing.
    with django_capture_on_commit_callbacks(execute=True):
        Enrollment.objects.get(user=learner, course=course).save()
        assert certificate_issue(enrollment=Enrollment.objects.get(user=learner, course=course)) is None
    assert Certificate.objects.filter(user=learner).count() == 1
    assert issued_events == [
        {"course_id": course.pk, "certificate_id": certificate.pk, "user_id": learner.pk}
    ]


def test_no_certificate_without_passing_or_when_turned_off(learner, django_capture_on_commit_callbacks):
    course, lesson, assessment = make_assessed_course(slug="uncertified")
    enrollment_create(user=learner, course=course)
    with django_capture_on_commit_callbacks(execute=True):
        _complete(course, lesson, assessment, learner)
    assert not Certificate.objects.exists()  # certificates are off for this course
    failed, flesson, fassessment = make_assessed_course(slug="failed-course")
    CertificateSettings.objects.create(course=failed)
    enrollment_create(user=learner, course=failed)
    with django_capture_on_commit_callbacks(execute=True):
        _complete(failed, flesson, fassessment, learner, right=False)
    assert Enrollment.objects.get(user=learner, course=failed).status == EnrollmentStatus.ACTIVE
    assert not Certificate.objects.exists()


@pytest.fixture
def certificate(learner, django_capture_on_commit_callbacks):
    course, lesson, assessment = make_assessed_course(slug="verifiable")
    CertificateSettings.objects.create(course=course)
    learner.full_name = "Vera Fiable"
    learner.save()
    enrollment_create(user=learner, course=course)
    with django_capture_on_commit_callbacks(execute=True):
        _complete(course, lesson, assessment, learner)
    return Certificate.objects.get(user=learner)


def test_verification_page_shows_only_validity_name_course_and_date(certificate, in_tenant):
    anonymous = client_for(in_tenant)
    response = anonymous.get(f"/certificates/verify/{certificate.code}/")
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-verdict="valid"' in body
    assert "Vera Fiable" in body and "Verifiable" in body
    assert f"{certificate.issued_at:%Y}" in body
    assert "learner@acme.test" not in body and "Download" not in body
    # The lookup form accepts the code typed loosely.
    loose = anonymous.get("/certificates/verify/", {"code": certificate.code.lower().replace("-", " ")})
    assert 'data-verdict="valid"' in loose.content.decode()
    unknown = anonymous.get("/certificates/verify/AAAA-BBBB-CCCC/")
    assert unknown.status_code == 404 and 'data-verdict="unknown"' in unknown.content.decode()


def test_the_code_normalizer():
    assert normalize_code(" abcd efgh-jkLM ") == "ABCD-EFGH-JKLM"
    assert normalize_code("short") == ""


def test_revoked_certificate_shows_since_when_and_reissue_gives_a_new_code(certificate, in_tenant):
    admin = get_user_model().objects.get(email="admin@acme.test")
    instructor = get_user_model().objects.get(email="instructor@acme.test")
    with pytest.raises(CertificateError) as refused:
        certificate_revoke(actor=instructor, certificate=certificate)
    # Who the actor is, not what they asked: 403 with the reason, like the doors.
    assert refused.value.status == 403 and refused.value.code == "not_tenant_admin"
    certificate.refresh_from_db()
    assert certificate.revoked_at is None
    certificate_revoke(actor=admin, certificate=certificate, reason="Issued by mistake")
    certificate.refresh_from_db()
    page = client_for(in_tenant).get(f"/certificates/verify/{certificate.code}/").content.decode()
    assert 'data-verdict="revoked"' in page and f"{certificate.revoked_at:%Y}" in page
    assert "Issued by mistake" not in page  # the reason is for admins, not the public
    fresh = certificate_reissue(actor=admin, certificate=certificate)
    assert fresh.code != certificate.code and fresh.revoked_at is None
    assert set(
        AuditEntry.objects.filter(action__startswith="certificate.").values_list("action", flat=True)
    ) == {
        "certificate.issued",
        "certificate.revoked",
        "certificate.reissued",
    }


def test_download_redirects_the_owner_to_a_presigned_url_and_refuses_others(certificate, in_tenant):
    owner = client_for(in_tenant, as_role="learner")
    response = owner.get(f"/certificates/{certificate.code}/download/")
    assert response.status_code == 302
    url = response["Location"]
    assert "X-Amz-Signature" in url and "X-Amz-Expires=300" in url
    assert f"/{storage_prefix(in_tenant)}certificates/" in url
    assert url.startswith("http")
    with urllib.request.urlopen(url, timeout=10) as fetched:  # noqa: S310 - checked above
        assert fetched.read(5) == b"%PDF-"
    other = get_user_model().objects.create_user(email="other@acme.test", password="other-pass-2026-x")
    assert other.pk
    stranger = client_for(in_tenant)
    stranger.force_login(other)
    assert stranger.get(f"/certificates/{certificate.code}/download/").status_code == 404
    staff = client_for(in_tenant, as_role="admin")
    assert staff.get(f"/certificates/{certificate.code}/download/").status_code == 302


def test_my_certificates_lists_them_with_an_empty_state(certificate, in_tenant):
    page = client_for(in_tenant, as_role="learner").get("/certificates/").content.decode()
    assert certificate.code in page and "Download PDF" in page
    empty = client_for(in_tenant, as_role="instructor").get("/certificates/").content.decode()
    assert "No certificates yet" in empty


def test_the_certificate_task_works_only_inside_the_tenant_it_was_sent_for(learner, tenant, other_tenant):
    from django.db import connection
    from django_tenants.utils import schema_context

    from assessments.tasks import certificate_issue_task
    from core.celery import TenantRequired
    from courses.tests.factories import make_course
    from tests.test_url_isolation import _bump_sequences_past

    _bump_sequences_past("acme", "globex", ["enrollments_enrollment"])
    with schema_context(other_tenant.schema_name):
        course = make_course(slug="globex-certified")
        CertificateSettings.objects.create(course=course)
        globex_learner = get_user_model().objects.get(email="learner@globex.test")
        enrollment = Enrollment.objects.create(
            user=globex_learner, course=course, status=EnrollmentStatus.COMPLETED
        )
    connection.set_tenant(tenant)
    assert not Enrollment.objects.filter(pk=enrollment.pk).exists()
    assert certificate_issue_task(enrollment_id=enrollment.pk) is None  # acme has no such enrollment
    assert not Certificate.objects.exists()
    connection.set_schema_to_public()
    with pytest.raises(TenantRequired):
        certificate_issue_task(enrollment_id=enrollment.pk)
    with schema_context(other_tenant.schema_name):
        assert not Certificate.objects.exists()
        issued = certificate_issue_task(enrollment_id=enrollment.pk)  # in its own tenant: issued
        certificate = Certificate.objects.get()
        assert certificate.pk == issued
        assert certificate.file.name.startswith("certificates/")
        default_storage.delete(certificate.file.name)


def _hand_in_form(course, assessment, learner, in_tenant, *, right=True):
    """The learner completes the reading and hands the quiz in through the attempt form (the door's
    locking find, ADR 0202), the on-commit work run; returns the statements of the hand-in."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from assessments.models import Attempt

    from .test_views import _form_data

    reading = next(x for x in course.modules.get().lessons.all() if x.kind == "text")
    lesson_complete(user=learner, course=course, lesson_id=reading.pk)
    client = client_for(in_tenant, as_role="learner")
    client.post(f"/assessments/{course.slug}/lessons/{assessment.lesson_id}/start/")
    attempt = Attempt.objects.get(user=learner, assessment=assessment)
    with CaptureQueriesContext(connection) as statements:
        done = client.post(
            f"/assessments/{course.slug}/attempts/{attempt.pk}/submit/",
            {**_form_data(assessment, right=right), "confirm": "1"},
        )
    assert done.status_code == 302
    return [query["sql"] for query in statements.captured_queries]


def test_the_form_hand_in_that_completes_the_course_issues_the_certificate(
    learner, in_tenant, django_capture_on_commit_callbacks
):
    """The door's lock statement says whether the course issues certificates; the completed
    enrollment's check takes its answer instead of asking again, and the certificate comes."""
    course, _, assessment = make_assessed_course(slug="form-certified")
    CertificateSettings.objects.create(course=course)
    enrollment_create(user=learner, course=course)
    with django_capture_on_commit_callbacks(execute=True):
        statements = _hand_in_form(course, assessment, learner, in_tenant)
    assert Enrollment.objects.get(user=learner, course=course).status == EnrollmentStatus.COMPLETED
    assert Certificate.objects.filter(user=learner, course=course).count() == 1
    asking = [sql for sql in statements if "assessments_certificatesettings" in sql]
    assert len(asking) == 1 and "FOR UPDATE OF a" in asking[0]


def test_the_form_hand_in_issues_none_when_certificates_are_turned_off(
    learner, in_tenant, django_capture_on_commit_callbacks
):
    course, _, assessment = make_assessed_course(slug="form-uncertified")
    CertificateSettings.objects.create(course=course, enabled=False)
    enrollment_create(user=learner, course=course)
    with django_capture_on_commit_callbacks(execute=True):
        _hand_in_form(course, assessment, learner, in_tenant)
    assert Enrollment.objects.get(user=learner, course=course).status == EnrollmentStatus.COMPLETED
    assert not Certificate.objects.exists()


def test_what_the_hand_in_read_about_certificates_holds_only_inside_its_block(learner):
    """certificates_known answers for its course, in its schema, within its block; nowhere else."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from assessments.certificates import certificates_enabled, certificates_known

    course, _, _ = make_assessed_course(slug="known-block")
    CertificateSettings.objects.create(course=course)
    with CaptureQueriesContext(connection) as inside, certificates_known(course_id=course.pk, enabled=False):
        assert certificates_enabled(course.pk) is False  # what the caller read, not asked
    assert len(inside.captured_queries) == 0
    with CaptureQueriesContext(connection) as other:
        with certificates_known(course_id=course.pk + 1, enabled=False):
            assert certificates_enabled(course.pk) is True  # another course: asked
        with certificates_known(course_id=course.pk, enabled=None):
            assert certificates_enabled(course.pk) is True  # nothing read: asked
    assert len(other.captured_queries) == 2
    assert certificates_enabled(course.pk) is True  # after the block: asked again
