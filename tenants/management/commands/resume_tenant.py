from django.core.management.base import BaseCommand, CommandError

from tenants.services import TenantError, tenant_get, tenant_resume


class Command(BaseCommand):
    help = "Reopen a suspended tenant's site."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--slug", required=True)

    def handle(self, *args, **options) -> None:
        try:
            tenant = tenant_resume(tenant=tenant_get(slug=options["slug"]))
        except TenantError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"Resumed '{tenant.slug}'."))
