"""Tenant isolation of what media delivery keeps outside the tenant's tables: tasks, cache, keys."""

from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from core.celery import TenantRequired
from media_delivery.models import AssetStatus, MediaAsset, TranscodeStatus
from media_delivery.selectors import asset_ref
from media_delivery.tasks import asset_transcode_task


@pytest.fixture
def globex_asset(other_tenant):
    with schema_context(other_tenant.schema_name):
        return MediaAsset.objects.create(
            kind="video",
            key=f"t/{other_tenant.uuid}/media/iso/source.mp4",
            status=AssetStatus.READY,
            transcode_status=TranscodeStatus.QUEUED,
        )


def test_the_transcode_task_run_for_acme_cannot_touch_a_globex_asset(in_tenant, other_tenant, globex_asset):
    assert asset_transcode_task(str(globex_asset.pk)) == "gone"
    with schema_context(other_tenant.schema_name):
        assert MediaAsset.objects.get(pk=globex_asset.pk).transcode_status == TranscodeStatus.QUEUED


def test_the_transcode_task_refuses_to_run_without_a_tenant(db, globex_asset):
    connection.set_schema_to_public()
    with pytest.raises(TenantRequired):
        asset_transcode_task(str(globex_asset.pk))


def test_the_cached_asset_reference_lives_in_its_tenants_namespace(in_tenant, other_tenant, globex_asset):
    with schema_context(other_tenant.schema_name):
        assert asset_ref(globex_asset.pk).key == globex_asset.key  # cached in globex now
    connection.set_tenant(in_tenant)
    assert asset_ref(globex_asset.pk) is None
