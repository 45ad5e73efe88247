from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.models import Q
from django_tenants.utils import get_public_schema_name

from tenants.context import host_for
from tenants.models import Tenant

PER_PAGE = 50


def _user_counts(schemas: list[str]) -> dict[str, int]:
    """People per schema for one page of tenants, in one query (no schema is switched to)."""
    if not schemas:
        return {}
    parts, params = [], []
    for schema in schemas:
        parts.append(f"SELECT %s, count(*) FROM {connection.ops.quote_name(schema)}.accounts_user")  # noqa: S608
        params.append(schema)
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        return dict(cursor.fetchall())


class Command(BaseCommand):
    help = "List tenants a page at a time: slug, domain, users, created, state."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--page", type=int, default=1, help="Page to show (1 is the first).")
        parser.add_argument(
            "--per-page", type=int, default=PER_PAGE, help=f"Tenants per page (default {PER_PAGE})."
        )
        parser.add_argument("--search", default="", help="Only tenants whose slug or name contains this.")

    def handle(self, *args, **options) -> None:
        page, per_page, search = options["page"], options["per_page"], options["search"].strip()
        if page < 1 or not 1 <= per_page <= 1000:
            raise CommandError("--page must be 1 or more and --per-page between 1 and 1000.")
        connection.set_schema_to_public()
        tenants = Tenant.objects.exclude(schema_name=get_public_schema_name())
        if search:
            tenants = tenants.filter(Q(slug__icontains=search) | Q(name__icontains=search))
        total = tenants.count()
        if total == 0:
            if search:
                self.stdout.write(f"No tenant's slug or name contains '{search}'.")
            else:
                self.stdout.write(
                    "No tenants yet. Create one with `manage.py create_tenant --slug ... --name ... "
                    "--admin-email ...`."
                )
            return
        pages = (total + per_page - 1) // per_page
        if page > pages:
            raise CommandError(
                f"There are {pages} page(s) of {per_page} tenants; ask for --page {pages} or less."
            )
        first = (page - 1) * per_page
        shown = list(tenants.prefetch_related("domains").order_by("slug")[first : first + per_page])
        users = _user_counts([tenant.schema_name for tenant in shown])
        rows = [("SLUG", "DOMAIN", "USERS", "CREATED", "STATE")]
        for tenant in shown:
            state = "active" if tenant.is_active else f"suspended {tenant.suspended_at:%Y-%m-%d}"
            rows.append(
                (
                    tenant.slug,
                    host_for(tenant),
                    str(users.get(tenant.schema_name, 0)),
                    f"{tenant.created_at:%Y-%m-%d %H:%M}",
                    state,
                )
            )
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        for row in rows:
            self.stdout.write(
                "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            )
        footer = f"Page {page} of {pages} ({total} tenant{'s' if total != 1 else ''})."
        if page < pages:
            footer += f" Next: --page {page + 1}"
        self.stdout.write(footer)
