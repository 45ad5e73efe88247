"""Media assets in the tenant admin."""

from __future__ import annotations

from media_delivery.models import MediaAsset
from tenants.context import storage_prefix
from tests.fixtures import client_for


def test_tenant_admins_see_uploads_and_their_reasons_in_the_admin_instructors_do_not(in_tenant):
    asset = MediaAsset.objects.create(
        kind="document",
        key=f"{storage_prefix()}media/x/source.pdf",
        status="rejected",
        reason="The file is empty.",
    )
    admin = client_for(in_tenant, as_role="admin")
    assert (
        "The file is empty."
        in admin.get(f"/admin/media_delivery/mediaasset/{asset.pk}/change/").content.decode()
    )
    assert admin.get("/admin/media_delivery/mediaasset/").status_code == 200
    instructor = client_for(in_tenant, as_role="instructor")
    assert instructor.get("/admin/media_delivery/mediaasset/").status_code == 403
