from django.core.management.base import BaseCommand, CommandError

from tenants.services import TenantError, tenant_delete, tenant_get


class Command(BaseCommand):
    help = "Delete a tenant and DROP its schema with all its data. Needs --confirm <slug>."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--slug", required=True)
        parser.add_argument("--confirm", default="", help="Repeat the slug to confirm the deletion.")

    def handle(self, *args, **options) -> None:
        try:
            tenant = tenant_get(slug=options["slug"])
            tenant_delete(tenant=tenant, confirm=options["confirm"])
        except TenantError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"Deleted tenant '{options['slug']}' and dropped its schema."))
