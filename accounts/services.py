"""Every write to people: create, change role, (de)activate, invite, accept, register."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from core.celery import enqueue_on_commit
from core.errors import DomainError
from tenants.context import require_tenant, tenant_url

from .audit import audit_record
from .models import Invitation, Role, User, hash_token, normalize_email
from .permissions import is_tenant_admin, leaves_no_admin
from .tasks import email_send_task


class AccountError(DomainError):
    """A refused change to people, with a sentence the actor can act on."""


def _email_in_use(email: str) -> bool:
    return User.objects.filter(email=normalize_email(email)).exists()


@transaction.atomic
def user_create(
    *, email: str, role: str = Role.LEARNER, password: str | None = None, full_name: str = ""
) -> User:
    if role not in Role.values:
        raise AccountError(f"Unknown role '{role}'; choose admin, instructor or learner.")
    if _email_in_use(email):
        raise AccountError(f"{normalize_email(email)} already has an account here.")
    return User.objects.create_user(email=email, password=password, role=role, full_name=full_name.strip())


@transaction.atomic
def user_set_role(*, actor: User, user: User, role: str) -> User:
    if role not in Role.values:
        raise AccountError(f"Unknown role '{role}'; choose admin, instructor or learner.")
    if not is_tenant_admin(actor):
        raise AccountError("Only a tenant admin can change roles.", status=403, code="not_tenant_admin")
    if leaves_no_admin(user=user, role=role):
        raise AccountError("This is the last active admin; make someone else admin first.")
    before = user.role
    user.role = role
    user.sync_staff_flag()
    user.save(update_fields=["role", "is_staff", "updated_at"])
    audit_record(
        actor=actor, action="user.role_changed", target=user, before={"role": before}, after={"role": role}
    )
    return user


@transaction.atomic
def user_update_profile(*, actor: User, user: User, full_name: str) -> User:
    """A person's name, changed by themselves or an admin; audited."""
    if actor.pk != user.pk and not is_tenant_admin(actor):
        raise AccountError(
            "Only the person or an admin can change their name.", status=403, code="not_tenant_admin"
        )
    full_name = (full_name or "").strip()
    if len(full_name) > User._meta.get_field("full_name").max_length:
        raise AccountError("A name has at most 150 characters.", field="full_name")
    before = user.full_name
    if before == full_name:
        return user
    user.full_name = full_name
    user.save(update_fields=["full_name", "updated_at"])
    audit_record(
        actor=actor,
        action="user.renamed",
        target=user,
        before={"full_name": before},
        after={"full_name": full_name},
    )
    return user


@transaction.atomic
def user_set_active(*, actor: User, user: User, active: bool) -> User:
    if not is_tenant_admin(actor):
        raise AccountError("Only a tenant admin can deactivate people.", status=403, code="not_tenant_admin")
    if not active and user.pk == actor.pk:
        raise AccountError("You cannot deactivate your own account.")
    if leaves_no_admin(user=user, active=active):
        raise AccountError("This is the last active admin; make someone else admin first.")
    before = user.is_active
    user.is_active = active
    user.save(update_fields=["is_active", "updated_at"])
    audit_record(
        actor=actor,
        action="user.activated" if active else "user.deactivated",
        target=user,
        before={"is_active": before},
        after={"is_active": active},
    )
    return user


def _send_templated(*, to: str, template: str, context: dict) -> None:
    subject = render_to_string(f"{template}_subject.txt", context).strip()
    body = render_to_string(f"{template}_body.txt", context)
    enqueue_on_commit(email_send_task, to=to, subject=subject, body=body)


@transaction.atomic
def invitation_create(*, actor: User, email: str, role: str = Role.LEARNER) -> tuple[Invitation, str]:
    """Invite someone by e-mail. Returns the invitation and the link (the token is stored hashed)."""
    if not is_tenant_admin(actor):
        raise AccountError("Only a tenant admin can send invitations.", status=403, code="not_tenant_admin")
    email = normalize_email(email)
    if role not in Role.values:
        raise AccountError(f"Unknown role '{role}'; choose admin, instructor or learner.")
    if _email_in_use(email):
        raise AccountError(f"{email} already has an account here.")
    # A new invitation replaces any pending one for the same address.
    Invitation.objects.pending().filter(email=email).update(revoked_at=timezone.now())
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        email=email,
        role=role,
        token_hash=hash_token(token),
        invited_by=actor,
        expires_at=timezone.now() + timedelta(days=settings.INVITATION_TTL_DAYS),
    )
    audit_record(
        actor=actor, action="invitation.sent", target=invitation, after={"email": email, "role": role}
    )
    tenant = require_tenant()
    link = tenant_url(tenant, f"/accounts/invitations/{token}/")
    _send_templated(
        to=email,
        template="accounts/email/invitation",
        context={"tenant": tenant, "link": link, "invitation": invitation, "inviter": actor},
    )
    return invitation, link


# What a person who opens an invitation that can no longer be used is told, by state.
INVITATION_UNUSABLE = {
    "accepted": "This invitation was already used. Sign in with your e-mail and password.",
    "revoked": "This invitation was withdrawn. Ask your administrator for a new one.",
    "expired": "This invitation has expired. Ask your administrator for a new one.",
}


def invitation_get_by_token(*, token: str) -> Invitation:
    try:
        return Invitation.objects.get(token_hash=hash_token(token))
    except Invitation.DoesNotExist:
        raise AccountError(
            "This invitation link is not valid. Ask your administrator for a new one."
        ) from None


@transaction.atomic
def invitation_accept(*, token: str, full_name: str, password: str) -> User:
    invitation = invitation_get_by_token(token=token)
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.state in INVITATION_UNUSABLE:
        raise AccountError(INVITATION_UNUSABLE[invitation.state])
    probe = User(email=invitation.email, full_name=full_name)
    try:
        validate_password(password, user=probe)
    except ValidationError as exc:
        raise AccountError(" ".join(exc.messages)) from None
    user = user_create(email=invitation.email, role=invitation.role, password=password, full_name=full_name)
    invitation.accepted_at = timezone.now()
    invitation.accepted_user = user
    invitation.save(update_fields=["accepted_at", "accepted_user"])
    audit_record(actor=user, action="invitation.accepted", target=invitation, after={"role": user.role})
    return user


@transaction.atomic
def invitation_revoke(*, actor: User, invitation: Invitation) -> Invitation:
    if not is_tenant_admin(actor):
        raise AccountError(
            "Only a tenant admin can withdraw invitations.", status=403, code="not_tenant_admin"
        )
    if invitation.state != "pending":
        raise AccountError(f"This invitation is {invitation.state}; only pending ones can be withdrawn.")
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit_record(actor=actor, action="invitation.revoked", target=invitation)
    return invitation


@transaction.atomic
def user_register(*, email: str, full_name: str, password: str) -> User:
    """Self-registration as a learner, where the tenant allows it."""
    tenant = require_tenant()
    if not tenant.allow_self_registration:
        raise AccountError("Registration is closed on this site. Ask your administrator for an invitation.")
    user = user_create(email=email, role=Role.LEARNER, password=password, full_name=full_name)
    audit_record(actor=user, action="user.registered", target=user)
    return user


#: What a tenant admin sets about how the site looks (the branding page and, later, the API).
BRANDING_FIELDS = ("display_name", "primary_colour", "logo")


@transaction.atomic
def branding_update(*, actor: User, tenant, **fields):
    """Change the organization's name shown to learners, its colour or its logo; audited.

    `fields` are already validated (the branding form checks the colour and the logo's bytes);
    `tenant` may carry them set already, as a model form leaves it.
    """
    from tenants.models import Tenant

    if not is_tenant_admin(actor):
        raise AccountError(
            "Only the organization's admins can change its branding.", status=403, code="not_tenant_admin"
        )
    unknown = sorted(set(fields) - set(BRANDING_FIELDS))
    if unknown:
        raise AccountError(f"Branding has no field {unknown[0]!r}.", field=unknown[0])
    stored = Tenant.objects.select_for_update().get(pk=tenant.pk)
    before = {f: str(getattr(stored, f)) for f in BRANDING_FIELDS}
    for name, value in fields.items():
        setattr(tenant, name, value)
    tenant.save()
    after = {f: str(getattr(tenant, f)) for f in BRANDING_FIELDS}
    changed = [f for f in BRANDING_FIELDS if before[f] != after[f]]
    if changed:
        audit_record(
            actor=actor,
            action="tenant.branding_changed",
            target=tenant,
            before={f: before[f] for f in changed},
            after={f: after[f] for f in changed},
        )
    return tenant
