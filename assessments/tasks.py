from core.celery import tenant_task
from enrollments.models import Enrollment


@tenant_task(
    name="assessments.certificate_issue", autoretry_for=(OSError,), retry_backoff=True, max_retries=5
)
def certificate_issue_task(*, enrollment_id: int) -> int | None:
    """Issue the certificate of a completed enrollment (idempotent: a second run issues nothing)."""
    from .certificates import certificate_issue

    enrollment = Enrollment.objects.filter(pk=enrollment_id).first()
    if enrollment is None:
        return None
    certificate = certificate_issue(enrollment=enrollment)
    return certificate.pk if certificate else None
