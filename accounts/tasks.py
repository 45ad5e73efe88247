from django.core.mail import send_mail

from core.celery import tenant_task


@tenant_task(name="accounts.email_send", autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def email_send_task(*, to: str, subject: str, body: str) -> None:
    """Send one plain-text e-mail (invitations, password resets) outside the request."""
    send_mail(subject, body, None, [to])
