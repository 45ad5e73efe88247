from django.core.management.base import BaseCommand, CommandError

from tenants.context import tenant_url
from tenants.models import Plan
from tenants.services import TenantError, tenant_create


class Command(BaseCommand):
    help = "Create a tenant: its schema (cloned from the template), its subdomain and its first admin."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--slug", required=True, help="Subdomain and id, e.g. acme -> acme.<base-domain>."
        )
        parser.add_argument("--name", required=True, help="Organization name, e.g. 'Acme Corp'.")
        parser.add_argument("--admin-email", required=True, help="E-mail of the tenant's first admin.")
        parser.add_argument("--plan", default=Plan.FREE, choices=Plan.values)

    def handle(self, *args, **options) -> None:
        from django.contrib.auth import get_user_model
        from django.contrib.auth.tokens import default_token_generator
        from django.utils.encoding import force_bytes
        from django.utils.http import urlsafe_base64_encode
        from django_tenants.utils import schema_context

        try:
            created = tenant_create(
                slug=options["slug"],
                name=options["name"],
                admin_email=options["admin_email"],
                plan=options["plan"],
            )
        except TenantError as exc:
            raise CommandError(str(exc)) from None
        tenant = created.tenant
        with schema_context(tenant.schema_name):
            admin = get_user_model().objects.get(pk=created.admin_id)
            uid = urlsafe_base64_encode(force_bytes(admin.pk))
            token = default_token_generator.make_token(admin)
        link = tenant_url(tenant, f"/accounts/reset/{uid}/{token}/")
        self.stdout.write(self.style.SUCCESS(f"Created tenant '{tenant.slug}' in {created.seconds:.2f} s"))
        self.stdout.write(f"  site:   {tenant_url(tenant)}")
        self.stdout.write(f"  admin:  {created.admin_email}")
        self.stdout.write(f"  one-time link to set the admin's password (valid until used):\n  {link}")
