from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context

from tenants.models import Tenant
from tests.fixtures import client_for

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_tenant_admin_changes_name_colour_and_logo_and_learners_see_them(tenant, other_tenant):
    client = client_for(tenant, as_role="admin")
    assert "Branding" in client.get("/admin/").content.decode()
    logo = SimpleUploadedFile("logo.png", PNG, content_type="image/png")
    response = client.post(
        "/admin/branding/", {"display_name": "Acme Learning", "primary_colour": "#aa3300", "logo": logo}
    )
    assert response.status_code == 302
    tenant.refresh_from_db()
    assert (tenant.display_name, tenant.primary_colour) == ("Acme Learning", "#aa3300")
    with schema_context(tenant.schema_name):
        assert default_storage.exists(tenant.logo.name)
        key = default_storage._normalize_name(tenant.logo.name)
        assert key.startswith(f"t/{tenant.uuid}/branding/")
        default_storage.delete(tenant.logo.name)
    page = client_for(tenant, as_role="learner").get("/").content.decode()
    assert "Acme Learning" in page and "--brand: #aa3300" in page
    other = Tenant.objects.get(pk=other_tenant.pk)
    assert other.display_name != "Acme Learning" and other.primary_colour != "#aa3300"


def test_bad_colour_or_a_fake_logo_is_refused_and_changes_nothing(tenant):
    before = Tenant.objects.get(pk=tenant.pk)
    client = client_for(tenant, as_role="admin")
    response = client.post(
        "/admin/branding/", {"display_name": "X", "primary_colour": "red;}body{display:none"}
    )
    assert response.status_code == 200 and "at most 7 characters" in response.content.decode()
    response = client.post("/admin/branding/", {"display_name": "X", "primary_colour": "#zz00zz"})
    assert response.status_code == 200 and "#RRGGBB" in response.content.decode()
    fake = SimpleUploadedFile("logo.png", b"<svg onload=alert(1)>", content_type="image/png")
    response = client.post(
        "/admin/branding/", {"display_name": "X", "primary_colour": "#112233", "logo": fake}
    )
    assert response.status_code == 200 and "not a JPEG, PNG, WEBP file" in response.content.decode()
    after = Tenant.objects.get(pk=tenant.pk)
    assert (after.display_name, after.primary_colour, after.logo.name) == (
        before.display_name,
        before.primary_colour,
        before.logo.name,
    )


def test_instructors_and_learners_cannot_change_branding(tenant):
    refused = client_for(tenant, as_role="instructor").get("/admin/branding/")
    assert refused.status_code == 403
    assert "Only the organization&#x27;s admins can change its branding." in refused.content.decode()
    assert client_for(tenant, as_role="learner").get("/admin/branding/").status_code == 302
    response = client_for(tenant, as_role="instructor").post(
        "/admin/branding/", {"display_name": "Hijacked", "primary_colour": "#000000"}
    )
    assert response.status_code == 403
    tenant.refresh_from_db()
    assert tenant.display_name != "Hijacked"


def test_branding_goes_through_its_service_audited_and_refuses_non_admins(tenant):
    import pytest
    from django.contrib.auth import get_user_model

    from accounts.models import AuditEntry
    from accounts.services import AccountError, branding_update

    with schema_context(tenant.schema_name):
        admin = get_user_model().objects.get(email="admin@acme.test")
        learner = get_user_model().objects.get(email="learner@acme.test")
        row = Tenant.objects.get(pk=tenant.pk)
        with pytest.raises(AccountError) as refused:
            branding_update(actor=learner, tenant=row, display_name="Hijacked")
        assert refused.value.status == 403
        assert Tenant.objects.get(pk=tenant.pk).display_name != "Hijacked"
        branding_update(actor=admin, tenant=row, display_name="Acme Audited")
        entry = AuditEntry.objects.filter(action="tenant.branding_changed").latest("id")
        assert entry.after == {"display_name": "Acme Audited"} and entry.actor_email == "admin@acme.test"
