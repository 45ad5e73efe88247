"""`manage.py rebuild_reports --schema acme | --all-tenants`: recompute reports from source tables."""

from analytics.services import report_rebuild
from tenants.management.base import TenantCommand


class Command(TenantCommand):
    help = (
        "Recompute the analytics reporting tables of one or all tenants from enrollments and lesson "
        "progress (one transaction per tenant). Quiz figures are kept as the event stream built them."
    )

    def handle_tenant(self, tenant, **options) -> None:
        counts = report_rebuild()
        summary = ", ".join(f"{n} {table} rows" for table, n in counts.items())
        self.stdout.write(self.style.SUCCESS(f"{tenant.slug}: reports rebuilt ({summary})"))
