"""The tenant-role predicates: who passes each, and the listing beside it lists exactly them."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from accounts.models import Role, User
from accounts.permissions import (
    is_instructor,
    is_tenant_admin,
    leaves_no_admin,
    may_join_course_staff,
    may_use_admin,
    people_for_course_staff,
    tenant_admins,
)
from accounts.services import AccountError, user_set_role

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("role", "admin", "instructor", "uses_admin"),
    [
        (Role.ADMIN, True, False, True),
        (Role.INSTRUCTOR, False, True, True),
        (Role.LEARNER, False, False, False),
    ],
)
def test_each_role_passes_its_predicates_and_nobody_inactive_does(
    in_tenant, role, admin, instructor, uses_admin
):
    user = User.objects.get(email=f"{role}@acme.test")
    assert (is_tenant_admin(user), is_instructor(user), may_use_admin(user)) == (
        admin,
        instructor,
        uses_admin,
    )
    user.is_active = False
    assert not (is_tenant_admin(user) or is_instructor(user) or may_use_admin(user))


def test_an_anonymous_visitor_passes_nothing():
    anonymous = AnonymousUser()
    assert not (is_tenant_admin(anonymous) or is_instructor(anonymous) or may_use_admin(anonymous))


def test_the_listings_list_exactly_who_passes(in_tenant):
    User.objects.create_user(email="gone@acme.test", role=Role.INSTRUCTOR, is_active=False)
    people = list(User.objects.all())
    assert set(people_for_course_staff()) == {u for u in people if may_join_course_staff(u)}
    assert set(tenant_admins()) == {u for u in people if is_tenant_admin(u)}


def test_the_last_admin_may_not_stop_being_one(in_tenant):
    admin = User.objects.get(email="admin@acme.test")
    assert tenant_admins().count() == 1
    assert leaves_no_admin(user=admin, role=Role.LEARNER)
    assert leaves_no_admin(user=admin, active=False)
    assert not leaves_no_admin(user=admin, role=Role.ADMIN)
    learner = User.objects.get(email="learner@acme.test")
    assert not leaves_no_admin(user=learner, active=False)
    User.objects.create_user(email="second@acme.test", role=Role.ADMIN)
    assert not leaves_no_admin(user=admin, role=Role.LEARNER)


def test_a_refusal_for_who_the_actor_is_answers_403_and_changes_nothing(in_tenant):
    instructor = User.objects.get(email="instructor@acme.test")
    learner = User.objects.get(email="learner@acme.test")
    with pytest.raises(AccountError) as refused:
        user_set_role(actor=instructor, user=learner, role=Role.ADMIN)
    assert (refused.value.status, refused.value.code) == (403, "not_tenant_admin")
    learner.refresh_from_db()
    assert learner.role == Role.LEARNER
    # What they asked, not who they are, stays a 400: the last admin cannot step down.
    admin = User.objects.get(email="admin@acme.test")
    with pytest.raises(AccountError) as invalid:
        user_set_role(actor=admin, user=admin, role=Role.LEARNER)
    assert invalid.value.status == 400
