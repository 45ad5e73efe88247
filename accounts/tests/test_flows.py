import re

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import Invitation, Role
from accounts.services import AccountError, invitation_create, user_set_active, user_set_role
from tests.fixtures import PASSWORD, client_for

User = get_user_model()
NEW_PASSWORD = "a-brand-new-passphrase-77"


def _admin(tenant):
    return User.objects.get(email=f"admin@{tenant.slug}.test")


def test_sign_in_and_out_on_a_tenant(tenant):
    client = client_for(tenant)
    response = client.post("/accounts/login/", {"username": "Learner@ACME.test", "password": PASSWORD})
    assert response.status_code == 302 and response.url == "/"
    assert client.get("/").context["user"].email == "learner@acme.test"
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/").context["user"].is_anonymous


def test_wrong_password_shows_a_form_error(tenant):
    response = client_for(tenant).post(
        "/accounts/login/", {"username": "learner@acme.test", "password": "nope"}
    )
    assert response.status_code == 200
    assert "do not match an account on this site" in response.content.decode()


def test_admin_and_instructor_reach_the_tenant_admin_and_learner_does_not(tenant):
    assert client_for(tenant, as_role="admin").get("/admin/").status_code == 200
    assert client_for(tenant, as_role="instructor").get("/admin/").status_code == 200
    learner = client_for(tenant, as_role="learner")
    response = learner.get("/admin/", follow=True)
    assert response.status_code == 403
    assert "No access to administration" in response.content.decode()
    assert learner.get("/admin/accounts/user/").status_code == 302


def test_anonymous_admin_visit_goes_to_the_one_sign_in_page(tenant):
    response = client_for(tenant).get("/admin/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/accounts/login/")


def test_invitation_email_link_creates_the_account_with_the_role(
    tenant, mailoutbox, django_capture_on_commit_callbacks
):
    client = client_for(tenant, as_role="admin")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/accounts/invitation/add/", {"email": "New.Person@acme.test", "role": "instructor"}
        )
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["new.person@acme.test"]
    link = re.search(r"http://acme\.localhost:\d+(/accounts/invitations/[^/\s]+/)", message.body).group(1)

    newcomer = client_for(tenant)
    assert "invited as" in newcomer.get(link).content.decode()
    response = newcomer.post(
        link, {"full_name": "New Person", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert response.status_code == 302
    with schema_context(tenant.schema_name):
        user = User.objects.get(email="new.person@acme.test")
        assert user.role == Role.INSTRUCTOR and user.check_password(NEW_PASSWORD)
    assert newcomer.get("/admin/").status_code == 200
    # The link works once.
    assert client_for(tenant).get(link).status_code == 410


def test_invitation_refusals_change_nothing(in_tenant):
    admin = _admin(in_tenant)
    learner = User.objects.get(email="learner@acme.test")
    count = Invitation.objects.count()
    with pytest.raises(AccountError, match="already has an account"):
        invitation_create(actor=admin, email="learner@acme.test")
    with pytest.raises(AccountError, match="Only a tenant admin"):
        invitation_create(actor=learner, email="someone@acme.test")
    with pytest.raises(AccountError, match="Unknown role"):
        invitation_create(actor=admin, email="someone@acme.test", role="owner")
    assert Invitation.objects.count() == count


def test_expired_or_unknown_invitation_is_explained(in_tenant):
    invitation, link = invitation_create(actor=_admin(in_tenant), email="late@acme.test")
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
    path = link.split(":8000", 1)[-1] if ":8000" in link else "/" + link.split("/", 3)[3]
    response = client_for(in_tenant).get(path)
    assert response.status_code == 410 and "expired" in response.content.decode()
    assert client_for(in_tenant).get("/accounts/invitations/forged-token/").status_code == 404


def test_invitation_of_one_tenant_is_unknown_on_another(tenant, other_tenant):
    with schema_context(tenant.schema_name):
        _invitation, link = invitation_create(actor=_admin(tenant), email="roamer@acme.test")
    path = "/" + link.split("/", 3)[3]
    assert client_for(other_tenant).get(path).status_code == 404
    assert client_for(tenant).get(path).status_code == 200


def test_password_reset_email_links_back_to_the_same_tenant(
    tenant, mailoutbox, django_capture_on_commit_callbacks
):
    client = client_for(tenant)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/password-reset/", {"email": "learner@acme.test"})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    body = mailoutbox[0].body
    assert "Acme Corp" in mailoutbox[0].subject
    path = re.search(r"http://acme\.localhost(?::\d+)?(/accounts/reset/\S+/)", body).group(1)
    set_password_page = client.get(path, follow=True)
    assert set_password_page.context["validlink"]
    response = client.post(
        set_password_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    with schema_context(tenant.schema_name):
        assert User.objects.get(email="learner@acme.test").check_password(NEW_PASSWORD)


def test_password_reset_for_another_tenants_user_sends_nothing(
    tenant, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client_for(tenant).post("/accounts/password-reset/", {"email": "learner@globex.test"})
    assert mailoutbox == []


def test_self_registration_follows_the_tenant_setting(tenant):
    client = client_for(tenant)
    form = {
        "full_name": "Self Starter",
        "email": "self@acme.test",
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
    }
    response = client.post("/accounts/signup/", form)
    assert response.status_code == 403 and "Registration is closed" in response.content.decode()
    with schema_context(tenant.schema_name):
        assert not User.objects.filter(email="self@acme.test").exists()

    tenant.allow_self_registration = True
    tenant.save(update_fields=["allow_self_registration"])
    response = client.post("/accounts/signup/", {**form, "password2": "different-one-123"})
    assert response.status_code == 200 and "two passwords differ" in response.content.decode()
    response = client.post("/accounts/signup/", form)
    assert response.status_code == 302
    with schema_context(tenant.schema_name):
        assert User.objects.get(email="self@acme.test").role == Role.LEARNER


def test_admin_changes_a_role_but_never_removes_the_last_admin(in_tenant):
    admin = _admin(in_tenant)
    learner = User.objects.get(email="learner@acme.test")
    user_set_role(actor=admin, user=learner, role=Role.INSTRUCTOR)
    learner.refresh_from_db()
    assert learner.role == Role.INSTRUCTOR and learner.is_staff
    with pytest.raises(AccountError, match="last active admin"):
        user_set_role(actor=admin, user=admin, role=Role.LEARNER)
    with pytest.raises(AccountError, match="own account"):
        user_set_active(actor=admin, user=admin, active=False)
    admin.refresh_from_db()
    assert admin.role == Role.ADMIN and admin.is_active


def test_deactivated_person_cannot_sign_in(in_tenant):
    learner = User.objects.get(email="learner@acme.test")
    user_set_active(actor=_admin(in_tenant), user=learner, active=False)
    client = client_for(in_tenant)
    response = client.post("/accounts/login/", {"username": "learner@acme.test", "password": PASSWORD})
    assert response.status_code == 200  # the form again, not the redirect of a sign-in
    assert not response.wsgi_request.user.is_authenticated
    assert "_auth_user_id" not in client.session
    # Nothing behind sign-in opens: the next page still asks to sign in.
    follow_up = client.get("/certificates/")
    assert follow_up.status_code == 302 and follow_up["Location"].startswith("/accounts/login/")


def test_admin_role_change_through_the_admin_form(tenant):
    client = client_for(tenant, as_role="admin")
    with schema_context(tenant.schema_name):
        learner = User.objects.get(email="learner@acme.test")
    response = client.post(
        f"/admin/accounts/user/{learner.pk}/change/",
        {"full_name": "Renamed", "role": "instructor", "is_active": "on"},
    )
    assert response.status_code == 302
    with schema_context(tenant.schema_name):
        learner.refresh_from_db()
        assert (learner.role, learner.full_name, learner.is_staff) == ("instructor", "Renamed", True)


def test_first_admin_without_a_password_can_still_reset_it(
    tenant, mailoutbox, django_capture_on_commit_callbacks
):
    with schema_context(tenant.schema_name):
        User.objects.create_user(email="fresh-admin@acme.test", role=Role.ADMIN)
    with django_capture_on_commit_callbacks(execute=True):
        client_for(tenant).post("/accounts/password-reset/", {"email": "fresh-admin@acme.test"})
    assert len(mailoutbox) == 1 and "/accounts/reset/" in mailoutbox[0].body
