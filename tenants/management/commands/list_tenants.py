from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django_tenants.utils import get_public_schema_name, schema_context

from tenants.context import host_for
from tenants.models import Tenant


class Command(BaseCommand):
    help = "List tenants: slug, domain, users, created, state."

    def handle(self, *args, **options) -> None:
        tenants = (
            Tenant.objects.exclude(schema_name=get_public_schema_name())
            .prefetch_related("domains")
            .order_by("slug")
        )
        rows = [("SLUG", "DOMAIN", "USERS", "CREATED", "STATE")]
        for tenant in tenants:
            with schema_context(tenant.schema_name):
                users = get_user_model().objects.count()
            state = "active" if tenant.is_active else f"suspended {tenant.suspended_at:%Y-%m-%d}"
            rows.append(
                (tenant.slug, host_for(tenant), str(users), f"{tenant.created_at:%Y-%m-%d %H:%M}", state)
            )
        if len(rows) == 1:
            self.stdout.write(
                "No tenants yet. Create one with `manage.py create_tenant --slug ... --name ... "
                "--admin-email ...`."
            )
            return
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        for row in rows:
            self.stdout.write(
                "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            )
