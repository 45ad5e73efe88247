from __future__ import annotations

from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.db import models
from django.utils import timezone

from media_delivery import storage
from media_delivery.models import AssetStatus, MediaAsset
from tenants.context import storage_prefix
from tenants.management.base import TenantCommand
from tenants.models import Tenant

STALE_PENDING = timedelta(days=1)


def _tenant_file_fields() -> list[models.FileField]:
    tenant_apps = set(settings.TENANT_APPS) - set(settings.SHARED_APPS)
    return [
        field
        for model in apps.get_models()
        if model._meta.app_label in tenant_apps
        for field in model._meta.concrete_fields
        if isinstance(field, models.FileField)
    ]


def audit(tenant: Tenant) -> dict[str, list[str]]:
    """Objects under the tenant's prefix that nothing points at, and rows whose object is gone."""
    prefix = storage_prefix(tenant)
    keys = set(storage.object_keys(prefix))
    assets = list(MediaAsset.objects.values_list("pk", "key", "status", "created_at"))
    asset_folders = {f"{prefix}media/{pk}/" for pk, *_ in assets}
    owned = {key for _, key, status, _ in assets if status != AssetStatus.REJECTED}
    # Files that a model's file field names directly (covers, lesson files, older assignment
    # files, certificate PDFs, the logo) are not orphans. Every tenant model's file fields are
    # read from the app registry, so an app added later (above this one) is covered too.
    named = set()
    for field in _tenant_file_fields():
        names = field.model._base_manager.exclude(**{field.name: ""}).values_list(field.name, flat=True)
        named |= {prefix + name for name in names if name}
    if getattr(tenant, "logo", None):
        named.add(prefix + tenant.logo.name)
    orphans = sorted(
        key
        for key in keys
        if key not in owned and key not in named and not any(key.startswith(f) for f in asset_folders)
    )
    missing = sorted(
        f"{pk} {key}" for pk, key, status, _ in assets if status == AssetStatus.READY and key not in keys
    )
    stale = sorted(
        f"{pk} {key}"
        for pk, key, status, created in assets
        if status == AssetStatus.PENDING and created < timezone.now() - STALE_PENDING
    )
    return {"orphans": orphans, "missing": missing, "stale": stale}


class Command(TenantCommand):
    help = (
        "List, per tenant, objects in the bucket that no media asset or lesson/course field points at, "
        "ready assets whose object is missing, and uploads pending for more than a day. Changes nothing."
    )

    def handle_tenant(self, tenant: Tenant, **options) -> None:
        result = audit(tenant)
        self.stdout.write(
            f"{tenant.slug}: {len(result['orphans'])} objects without an asset, "
            f"{len(result['missing'])} assets without an object, {len(result['stale'])} stale uploads"
        )
        for label, rows in (
            ("orphan", result["orphans"]),
            ("missing", result["missing"]),
            ("stale", result["stale"]),
        ):
            for row in rows:
                self.stdout.write(f"  {label}: {row}")
