"""How much the PostgreSQL catalog grows with each tenant: relations and bytes."""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection
from django_tenants.utils import get_public_schema_name

CATALOG_TABLES = ("pg_class", "pg_attribute", "pg_index", "pg_constraint", "pg_depend", "pg_type")


class Command(BaseCommand):
    help = (
        "Report the catalog's size and its growth per tenant schema (relations, bytes), "
        "so an operator sees how far the database is from its limits."
    )

    def handle(self, *args, **options) -> None:
        template = settings.TENANT_BASE_SCHEMA
        connection.set_schema_to_public()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM tenants_tenant WHERE schema_name <> %s", [get_public_schema_name()]
            )
            tenants = cursor.fetchone()[0]
            cursor.execute(
                """
                SELECT count(*),
                       coalesce(sum(pg_total_relation_size(c.oid)) FILTER (WHERE c.relkind IN ('r', 'm')), 0)
                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s
                """,
                [template],
            )
            per_tenant_relations, template_bytes = cursor.fetchone()
            cursor.execute(
                "SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
                " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s",
                [template],
            )
            per_tenant_attributes = cursor.fetchone()[0]
            cursor.execute(
                "SELECT relname, pg_total_relation_size(oid) FROM pg_class"
                " WHERE relnamespace = 'pg_catalog'::regnamespace AND relname = ANY(%s) ORDER BY relname",
                [list(CATALOG_TABLES)],
            )
            catalog = cursor.fetchall()
            cursor.execute("SELECT count(*) FROM pg_class")
            relations = cursor.fetchone()[0]
            cursor.execute("SELECT pg_database_size(current_database())")
            database_bytes = cursor.fetchone()[0]
        catalog_bytes = sum(size for _, size in catalog)
        mib = 1024 * 1024
        self.stdout.write(f"Tenants: {tenants}")
        self.stdout.write(
            f"Per tenant schema (from {template}): {per_tenant_relations} relations, "
            f"{per_tenant_attributes} columns, {template_bytes / mib:.2f} MiB empty"
        )
        self.stdout.write(f"Relations in the database: {relations}")
        self.stdout.write(
            f"Catalog tables: {catalog_bytes / mib:.1f} MiB"
            + (f" (about {catalog_bytes / tenants / 1024:.0f} KiB per tenant)" if tenants else "")
        )
        for name, size in catalog:
            self.stdout.write(f"  {name:<14} {size / mib:8.1f} MiB")
        self.stdout.write(f"Database: {database_bytes / mib:.1f} MiB")
