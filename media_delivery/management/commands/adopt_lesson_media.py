from __future__ import annotations

from courses.models import Lesson
from media_delivery.models import AssetStatus, MediaAsset
from media_delivery.services import asset_adopt
from tenants.context import storage_prefix
from tenants.management.base import TenantCommand
from tenants.models import Tenant


class Command(TenantCommand):
    help = (
        "Register a media asset for every lesson file stored before media assets existed, so it is "
        "served through /media/<id>/ (and videos are transcoded). Safe to run again."
    )

    def handle_tenant(self, tenant: Tenant, **options) -> None:
        prefix, counts = storage_prefix(tenant), {"ready": 0, "rejected": 0, "existing": 0}
        for lesson in Lesson.objects.alive().exclude(video="", document=""):
            for kind, name in (("video", lesson.video.name), ("document", lesson.document.name)):
                if not name:
                    continue
                if MediaAsset.objects.filter(key=prefix + name).exists():
                    counts["existing"] += 1
                    continue
                asset = asset_adopt(actor=None, key=prefix + name, kind=kind, lesson=lesson)
                counts["ready" if asset.status == AssetStatus.READY else "rejected"] += 1
                if asset.status != AssetStatus.READY:
                    self.stdout.write(f"  {tenant.slug}: lesson {lesson.pk} {name}: {asset.reason}")
        self.stdout.write(
            self.style.SUCCESS(
                f"{tenant.slug}: {counts['ready']} files registered, {counts['rejected']} refused, "
                f"{counts['existing']} already registered"
            )
        )
