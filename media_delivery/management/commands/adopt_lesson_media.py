from __future__ import annotations

from media_delivery.services import lesson_files_adopt
from tenants.management.base import TenantCommand
from tenants.models import Tenant


class Command(TenantCommand):
    help = (
        "Register a media asset for every lesson file stored before media assets existed, so it is "
        "served through /media/<id>/ (and videos are transcoded). Safe to run again."
    )

    def handle_tenant(self, tenant: Tenant, **options) -> None:
        outcome = lesson_files_adopt()
        ready, refused = len(outcome["ready"]), len(outcome["rejected"])
        for asset in outcome["rejected"]:
            self.stdout.write(f"  {tenant.slug}: lesson {asset.lesson_id} {asset.key}: {asset.reason}")
        self.stdout.write(
            self.style.SUCCESS(
                f"{tenant.slug}: {ready} files registered, {refused} refused, "
                f"{outcome['existing']} already registered"
            )
        )
