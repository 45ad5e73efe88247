"""People, roles and invitations, for the organization's admins (the same services as the admin)."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth import get_user_model
from django.http import HttpRequest
from ninja import Query, Router, Schema, Status

from accounts.models import Invitation
from accounts.permissions import holds_role, people_with_role
from accounts.services import invitation_create, invitation_revoke, user_set_active, user_set_role
from core.errors import NotFound

from ..gate import need_tenant_admin
from ..pagination import DEFAULT_LIMIT, page_of_queryset
from .base import PROBLEMS

router = Router(tags=["people"])


class PersonOut(Schema):
    id: int
    email: str
    full_name: str
    role: str
    is_active: bool
    date_joined: datetime
    last_login: datetime | None


class PersonPage(Schema):
    items: list[PersonOut]
    next_cursor: str | None


class PersonPatch(Schema):
    role: str | None = None
    is_active: bool | None = None


class InvitationIn(Schema):
    email: str
    role: str = "learner"


class InvitationOut(Schema):
    id: int
    email: str
    role: str
    state: str
    created_at: datetime
    expires_at: datetime


class InvitationPage(Schema):
    items: list[InvitationOut]
    next_cursor: str | None


def _admin(request: HttpRequest, scope: str):
    return need_tenant_admin(request, scope, doing="manage people")


def _person(user) -> dict:
    return {
        "id": user.pk,
        "email": user.email,
        "full_name": user.full_name,
        "role": user.role,
        "is_active": user.is_active,
        "date_joined": user.date_joined,
        "last_login": user.last_login,
    }


def _invitation(invitation: Invitation) -> dict:
    return {
        "id": invitation.pk,
        "email": invitation.email,
        "role": invitation.role,
        "state": invitation.state,
        "created_at": invitation.created_at,
        "expires_at": invitation.expires_at,
    }


@router.get("/people", response={200: PersonPage, **PROBLEMS}, summary="People of the organization")
def people_list(
    request: HttpRequest,
    role: str | None = None,
    q: str = "",
    cursor: str | None = None,
    limit: int = Query(DEFAULT_LIMIT),
):
    """Everyone with an account here, by e-mail; `role` filters, `q` searches names and e-mails."""
    _admin(request, "people:read")
    people = people_with_role(role) if role else get_user_model().objects.all()
    q = q.strip()[:100]
    if q:
        people = people.filter(email__icontains=q) | people.filter(full_name__icontains=q)
    items, next_cursor = page_of_queryset(people, fields=("email", "id"), cursor=cursor, limit=limit)
    return {"items": [_person(p) for p in items], "next_cursor": next_cursor}


@router.patch("/people/{person_id}", response={200: PersonOut, **PROBLEMS}, summary="Change a role")
def person_update(request: HttpRequest, person_id: int, body: PersonPatch):
    """Set `role` (admin, instructor, learner) or `is_active`; the last admin stays an admin."""
    principal = _admin(request, "people:write")
    person = get_user_model().objects.filter(pk=person_id).first()
    if person is None:
        raise NotFound("No such person.")
    if body.role is not None and not holds_role(person, body.role):
        person = user_set_role(actor=principal.user, user=person, role=body.role)
    if body.is_active is not None and body.is_active != person.is_active:
        person = user_set_active(actor=principal.user, user=person, active=body.is_active)
    return _person(person)


@router.get("/invitations", response={200: InvitationPage, **PROBLEMS}, summary="Invitations")
def invitation_list(request: HttpRequest, cursor: str | None = None, limit: int = Query(DEFAULT_LIMIT)):
    _admin(request, "people:read")
    items, next_cursor = page_of_queryset(
        Invitation.objects.all(), fields=("-id",), cursor=cursor, limit=limit
    )
    return {"items": [_invitation(i) for i in items], "next_cursor": next_cursor}


@router.post("/invitations", response={201: InvitationOut, **PROBLEMS}, summary="Invite someone")
def invitation_send(request: HttpRequest, body: InvitationIn):
    """E-mail an invitation link; a pending invitation for the same address is replaced."""
    principal = _admin(request, "people:write")
    invitation, _link = invitation_create(actor=principal.user, email=body.email, role=body.role)
    return Status(201, _invitation(invitation))


@router.delete("/invitations/{invitation_id}", response={200: InvitationOut, **PROBLEMS})
def invitation_withdraw(request: HttpRequest, invitation_id: int):
    principal = _admin(request, "people:write")
    invitation = Invitation.objects.filter(pk=invitation_id).first()
    if invitation is None:
        raise NotFound("No such invitation.")
    return _invitation(invitation_revoke(actor=principal.user, invitation=invitation))
