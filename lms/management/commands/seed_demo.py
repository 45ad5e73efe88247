"""Create the demo tenants and their people. Safe to run again: it only fills in what is missing."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django_tenants.utils import schema_context

from accounts.models import Role
from accounts.services import user_create
from tenants.context import absolute_url, tenant_url
from tenants.models import Plan, Tenant
from tenants.services import TenantError, tenant_create

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 - printed by `make demo`; demo data only
OPERATOR_EMAIL = "operator@lms.test"

DEMO_TENANTS = [
    {
        "slug": "acme",
        "name": "Acme Corp",
        "display_name": "Acme Academy",
        "colour": "#c2410c",
        "plan": Plan.TEAM,
    },
    {
        "slug": "globex",
        "name": "Globex Learning",
        "display_name": "Globex Learning",
        "colour": "#047857",
        "plan": Plan.BUSINESS,
    },
]
PEOPLE = [
    (Role.ADMIN, "admin", "{name} Admin"),
    (Role.INSTRUCTOR, "instructor", "Ada Instructor"),
    (Role.LEARNER, "learner", "Lee Learner"),
]


class Command(BaseCommand):
    help = "Create the demo tenants acme and globex with an admin, an instructor and a learner each."

    def handle(self, *args, **options) -> None:
        connection.set_schema_to_public()
        self._operator()
        for spec in DEMO_TENANTS:
            try:
                tenant = self._tenant(spec)
            except TenantError as exc:
                raise CommandError(f"Could not create demo tenant {spec['slug']}: {exc}") from None
            with schema_context(tenant.schema_name):
                self._people(tenant, spec)
            connection.set_schema_to_public()
            self.stdout.write(self.style.SUCCESS(f"{tenant.slug}: ready at {tenant_url(tenant)}"))
        self.stdout.write(f"Operator site: {absolute_url(_base_host(), '/admin/')} ({OPERATOR_EMAIL})")
        self.stdout.write(f"Demo password for everyone: {DEMO_PASSWORD}")

    def _operator(self) -> None:
        User = get_user_model()
        if not User.objects.filter(email=OPERATOR_EMAIL).exists():
            User.objects.create_superuser(OPERATOR_EMAIL, DEMO_PASSWORD, full_name="Demo Operator")

    def _tenant(self, spec: dict) -> Tenant:
        tenant = Tenant.objects.filter(slug=spec["slug"]).first()
        if tenant is None:
            tenant = tenant_create(
                slug=spec["slug"],
                name=spec["name"],
                admin_email=f"admin@{spec['slug']}.test",
                plan=spec["plan"],
                admin_password=DEMO_PASSWORD,
            ).tenant
        tenant.display_name = spec["display_name"]
        tenant.primary_colour = spec["colour"]
        tenant.save(update_fields=["display_name", "primary_colour", "updated_at"])
        return tenant

    @transaction.atomic
    def _people(self, tenant: Tenant, spec: dict) -> None:
        User = get_user_model()
        for role, local, name in PEOPLE:
            email = f"{local}@{tenant.slug}.test"
            user = User.objects.filter(email=email).first()
            if user is None:
                user = user_create(
                    email=email, role=role, password=DEMO_PASSWORD, full_name=name.format(**spec)
                )
            elif not user.has_usable_password():
                # e.g. an admin made by create_tenant who never used the one-time link.
                user.set_password(DEMO_PASSWORD)
                user.full_name = user.full_name or name.format(**spec)
                user.save(update_fields=["password", "full_name", "updated_at"])


def _base_host() -> str:
    from django.conf import settings

    return settings.LMS_BASE_DOMAIN
