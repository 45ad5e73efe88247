from django.core.management.base import BaseCommand, CommandError

from tenants.services import TenantError, domain_add, tenant_get


class Command(BaseCommand):
    help = "Add a custom domain (e.g. learn.acme.com) that reaches a tenant."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--slug", required=True)
        parser.add_argument("--domain", required=True)
        parser.add_argument("--primary", action="store_true", help="Use it in links and e-mails.")

    def handle(self, *args, **options) -> None:
        try:
            domain = domain_add(
                tenant=tenant_get(slug=options["slug"]), domain=options["domain"], primary=options["primary"]
            )
        except TenantError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"{domain.domain} now reaches '{options['slug']}'."))
