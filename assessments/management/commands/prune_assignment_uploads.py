"""Delete assignment files that were uploaded but never handed in (ADR 0041)."""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import CommandError

from assessments.services import assignment_uploads_prune
from tenants.management.base import TenantCommand
from tenants.models import Tenant


class Command(TenantCommand):
    help = (
        "Delete, per tenant, files learners uploaded for an assignment but did not hand in, "
        "issued more than --days days ago (default 7). Handed-in files are kept."
    )

    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--days", type=int, default=7, help="Age in days (at least 1).")

    def handle(self, *args, **options) -> None:
        if options["days"] < 1:
            raise CommandError("--days must be at least 1, so an upload in progress is never deleted.")
        super().handle(*args, **options)

    def handle_tenant(self, tenant: Tenant, **options) -> None:
        count = assignment_uploads_prune(older_than=timedelta(days=options["days"]))
        self.stdout.write(f"{tenant.slug}: deleted {count} assignment file(s) never handed in")
