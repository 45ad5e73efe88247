"""Certificates: issued once when a learner completes a course that has them turned on.

The PDF (learner, course, the tenant's name and colour, date, verification code) is
drawn with reportlab and stored in the tenant's S3 prefix; learners download it through
a short-lived presigned URL. Anyone can check a code on the tenant's verification page.
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.audit import audit_record
from accounts.events import person_data
from accounts.permissions import is_tenant_admin
from core.celery import enqueue_on_commit
from core.errors import DomainError
from core.events import emit
from courses.events import course_data
from courses.selectors import outline_for
from enrollments.models import Enrollment, EnrollmentStatus
from tenants.context import require_tenant, tenant_url

from .models import Assessment, Attempt, AttemptStatus, Certificate, CertificateSettings
from .signals import certificate_issued, send_on_commit

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed by hand


class CertificateError(DomainError):
    """A refused certificate action, with a sentence to show."""


def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def normalize_code(text: str) -> str:
    cleaned = "".join(ch for ch in (text or "").upper() if ch.isalnum())[:12]
    return f"{cleaned[:4]}-{cleaned[4:8]}-{cleaned[8:]}" if len(cleaned) == 12 else ""


# (schema, course id, enabled) that a statement of the running transaction already read: the
# hand-in's lock statement reads it beside the attempt (ADR 0202), so the completed
# enrollment's post_save need not ask again. Set only around that one call.
_known: ContextVar[tuple[str, int, bool] | None] = ContextVar("certificates_known", default=None)


@contextmanager
def certificates_known(*, course_id: int, enabled: bool | None) -> Iterator[None]:
    """Within the block, `certificates_enabled(course_id)` answers `enabled` (read by the caller
    in this transaction) without a query; `enabled=None` (not read) changes nothing."""
    if enabled is None:
        yield
        return
    token = _known.set((connection.schema_name, course_id, enabled))
    try:
        yield
    finally:
        _known.reset(token)


def certificates_enabled(course_id: int) -> bool:
    known = _known.get()
    if known is not None and known[0] == connection.schema_name and known[1] == course_id:
        return known[2]
    return CertificateSettings.objects.filter(course_id=course_id, enabled=True).exists()


def earned(enrollment: Enrollment) -> bool:
    """Every required lesson completed (the enrollment says so) and every required assessment passed."""
    if enrollment.status != EnrollmentStatus.COMPLETED:
        return False
    required = outline_for(enrollment.course).required_ids
    assessment_ids = set(Assessment.objects.filter(lesson_id__in=required).values_list("pk", flat=True))
    passed = set(
        Attempt.objects.filter(
            user_id=enrollment.user_id,
            assessment_id__in=assessment_ids,
            status=AttemptStatus.GRADED,
            passed=True,
        ).values_list("assessment_id", flat=True)
    )
    return assessment_ids <= passed


def enrollment_saved(sender, instance: Enrollment, **_) -> None:
    """post_save of Enrollment: a completed enrollment in a course with certificates gets one."""
    if instance.status != EnrollmentStatus.COMPLETED or not certificates_enabled(instance.course_id):
        return
    if Certificate.objects.filter(user_id=instance.user_id, course_id=instance.course_id).exists():
        return  # issued already (or revoked by an admin: re-issuing is their decision)
    from .tasks import certificate_issue_task

    enqueue_on_commit(certificate_issue_task, enrollment_id=instance.pk)


@transaction.atomic
def certificate_issue(*, enrollment: Enrollment) -> Certificate | None:
    """Issue the learner's certificate if they earned it and have none yet; safe to call twice."""
    enrollment = Enrollment.objects.select_for_update().select_related("user", "course").get(pk=enrollment.pk)
    if not certificates_enabled(enrollment.course_id) or not earned(enrollment):
        return None
    if Certificate.objects.filter(user_id=enrollment.user_id, course_id=enrollment.course_id).exists():
        return None
    certificate = _issue(enrollment=enrollment)
    # Issued by the system (the completion task), so the audit row has no actor.
    audit_record(
        actor=None,
        action="certificate.issued",
        target=certificate,
        after={"code": certificate.code, "user": certificate.user_id, "course": certificate.course_id},
    )
    return certificate


def _issue(*, enrollment: Enrollment) -> Certificate:
    user, course = enrollment.user, enrollment.course
    title = (
        course.published_revision.card.get("title") if course.published_revision_id else None
    ) or course.title
    certificate = Certificate(
        user=user,
        course=course,
        code=new_code(),
        learner_name=(user.full_name or user.email)[:200],
        course_title=title[:200],
        issued_at=timezone.now(),
    )
    certificate.file.save(f"{certificate.code}.pdf", ContentFile(certificate_pdf(certificate)), save=False)
    try:
        with transaction.atomic():
            certificate.save()
    except IntegrityError:  # issued by a concurrent task in the meantime
        certificate.file.delete(save=False)
        return Certificate.objects.get(user=user, course=course, revoked_at__isnull=True)
    send_on_commit(
        certificate_issued,
        sender=Certificate,
        course_id=course.pk,
        certificate_id=certificate.pk,
        user_id=user.pk,
    )
    emit("certificate.issued", data=lambda: _certificate_data(certificate))
    return certificate


def certificate_verify_url(certificate: Certificate, *, tenant=None) -> str:
    """The public page that confirms the certificate (printed on it, sent in events)."""
    return tenant_url(tenant or require_tenant(), f"/certificates/verify/{certificate.code}/")


def _certificate_data(certificate: Certificate) -> dict:
    return {
        "certificate_id": certificate.pk,
        "code": certificate.code,
        "verify_url": certificate_verify_url(certificate),
        "learner_name": certificate.learner_name,
        "course_title": certificate.course_title,
        "issued_at": certificate.issued_at.isoformat(),
        "revoked_at": certificate.revoked_at.isoformat() if certificate.revoked_at else None,
        "revoked_reason": certificate.revoked_reason,
        "course": course_data(certificate.course),
        "user": person_data(certificate.user),
    }


@transaction.atomic
def certificate_revoke(*, actor, certificate: Certificate, reason: str = "") -> Certificate:
    if not is_tenant_admin(actor):
        raise CertificateError(
            "Only the organization's admins can revoke certificates.", status=403, code="not_tenant_admin"
        )
    certificate = Certificate.objects.select_for_update().get(pk=certificate.pk)
    if certificate.revoked_at is not None:
        raise CertificateError("This certificate is already revoked.", code="conflict", status=409)
    certificate.revoked_at = timezone.now()
    certificate.revoked_reason = (reason or "").strip()[:300]
    certificate.save(update_fields=["revoked_at", "revoked_reason"])
    audit_record(
        actor=actor,
        action="certificate.revoked",
        target=certificate,
        before={"revoked_at": None, "reason": ""},
        after={"revoked_at": certificate.revoked_at.isoformat(), "reason": certificate.revoked_reason},
    )
    emit("certificate.revoked", data=lambda: _certificate_data(certificate))
    return certificate


@transaction.atomic
def certificate_reissue(*, actor, certificate: Certificate) -> Certificate:
    """Revoke the certificate (if still valid) and issue a new one with a new code and today's date."""
    if not is_tenant_admin(actor):
        raise CertificateError(
            "Only the organization's admins can re-issue certificates.", status=403, code="not_tenant_admin"
        )
    certificate = Certificate.objects.select_for_update().get(pk=certificate.pk)
    enrollment = Enrollment.objects.filter(
        user_id=certificate.user_id, course_id=certificate.course_id
    ).first()
    if enrollment is None:
        raise CertificateError("The learner is no longer enrolled in this course.")
    if certificate.revoked_at is None:
        certificate.revoked_at = timezone.now()
        certificate.revoked_reason = "Re-issued"
        certificate.save(update_fields=["revoked_at", "revoked_reason"])
        emit("certificate.revoked", data=lambda: _certificate_data(certificate))
    elif Certificate.objects.filter(
        user_id=certificate.user_id, course_id=certificate.course_id, revoked_at__isnull=True
    ).exists():
        raise CertificateError("The learner already has a valid certificate for this course.")
    fresh = _issue(enrollment=Enrollment.objects.select_related("user", "course").get(pk=enrollment.pk))
    audit_record(
        actor=actor,
        action="certificate.reissued",
        target=fresh,
        before={"code": certificate.code},
        after={"code": fresh.code},
    )
    return fresh


def certificate_verify(code: str) -> Certificate | None:
    normalized = normalize_code(code)
    if not normalized:
        return None
    return Certificate.objects.filter(code=normalized).first()


# --- The PDF --------------------------------------------------------------------------------


def _hex_colour(value: str):
    from reportlab.lib import colors

    try:
        return colors.HexColor(value if (value or "").startswith("#") else "#1f4e79")
    except (ValueError, TypeError):
        return colors.HexColor("#1f4e79")


def certificate_pdf(certificate: Certificate) -> bytes:
    """A one-page landscape A4 certificate."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.pdfgen import canvas

    tenant = require_tenant()
    brand = getattr(tenant, "brand_name", "") or tenant.name
    colour = _hex_colour(getattr(tenant, "primary_colour", ""))
    buffer = io.BytesIO()
    width, height = landscape(A4)
    pdf = canvas.Canvas(buffer, pagesize=(width, height))
    pdf.setTitle(f"Certificate: {certificate.course_title}")
    pdf.setAuthor(brand)
    pdf.setStrokeColor(colour)
    pdf.setLineWidth(6)
    pdf.rect(24, 24, width - 48, height - 48)
    pdf.setLineWidth(1.5)
    pdf.rect(36, 36, width - 72, height - 72)
    pdf.setFillColor(colour)
    pdf.rect(36, height - 110, width - 72, 74, stroke=0, fill=1)
    pdf.setFillColor(colors.white)
    pdf.setFont("Helvetica-Bold", 26)
    pdf.drawCentredString(width / 2, height - 82, brand[:60])
    pdf.setFillColor(colors.HexColor("#222222"))
    pdf.setFont("Helvetica", 16)
    pdf.drawCentredString(width / 2, height - 160, "CERTIFICATE OF COMPLETION")
    pdf.setFont("Helvetica", 13)
    pdf.drawCentredString(width / 2, height - 200, "This certifies that")
    pdf.setFont("Helvetica-Bold", 30)
    pdf.drawCentredString(width / 2, height - 245, certificate.learner_name[:60])
    pdf.setFont("Helvetica", 13)
    pdf.drawCentredString(width / 2, height - 285, "has successfully completed the course")
    pdf.setFont("Helvetica-Bold", 22)
    pdf.setFillColor(colour)
    pdf.drawCentredString(width / 2, height - 322, certificate.course_title[:70])
    pdf.setFillColor(colors.HexColor("#222222"))
    pdf.setFont("Helvetica", 12)
    issued = timezone.localtime(certificate.issued_at)
    pdf.drawCentredString(width / 2, height - 362, f"Issued on {issued.day} {issued:%B %Y}")
    pdf.setFont("Helvetica", 10)
    verify_url = certificate_verify_url(certificate, tenant=tenant)
    pdf.drawString(60, 60, f"Verification code: {certificate.code}")
    pdf.drawString(60, 46, f"Check it at {verify_url}")
    signer = (
        CertificateSettings.objects.filter(course_id=certificate.course_id)
        .values_list("signature_name", flat=True)
        .first()
        or brand
    )
    pdf.line(width - 260, 80, width - 60, 80)
    pdf.drawCentredString(width - 160, 64, signer[:40])
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
