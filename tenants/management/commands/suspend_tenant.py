from django.core.management.base import BaseCommand, CommandError

from tenants.services import TenantError, tenant_get, tenant_suspend


class Command(BaseCommand):
    help = "Suspend a tenant: its site answers 403 'suspended'; nothing is deleted."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--slug", required=True)
        parser.add_argument("--reason", default="", help="Kept with the tenant for operators.")

    def handle(self, *args, **options) -> None:
        try:
            tenant = tenant_suspend(tenant=tenant_get(slug=options["slug"]), reason=options["reason"])
        except TenantError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            self.style.SUCCESS(f"Suspended '{tenant.slug}'. `resume_tenant --slug {tenant.slug}` undoes it.")
        )
