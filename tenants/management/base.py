"""TenantCommand: a management command that runs for one tenant or all of them."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django_tenants.utils import get_public_schema_name

from tenants.models import Tenant


class TenantCommand(BaseCommand):
    """Subclasses implement handle_tenant(tenant, **options); the connection is set to it."""

    def add_arguments(self, parser) -> None:
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--schema", help="Run for the tenant with this slug or schema name.")
        target.add_argument("--all-tenants", action="store_true", help="Run for every tenant.")

    def tenants(self, options) -> list[Tenant]:
        qs = Tenant.objects.exclude(schema_name=get_public_schema_name())
        if options["all_tenants"]:
            return list(qs.order_by("slug"))
        name = options["schema"]
        tenant = qs.filter(slug=name).first() or qs.filter(schema_name=name).first()
        if tenant is None:
            raise CommandError(f"No tenant '{name}'; `manage.py list_tenants` shows the slugs.")
        return [tenant]

    def handle(self, *args, **options) -> None:
        for tenant in self.tenants(options):
            connection.set_tenant(tenant)
            try:
                self.handle_tenant(tenant, **options)
            finally:
                connection.set_schema_to_public()

    def handle_tenant(self, tenant: Tenant, **options) -> None:
        raise NotImplementedError
