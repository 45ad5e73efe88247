"""migrate_schemas, extended: public, then the template schema, then every tenant in parallel.

New tenants are cloned from the template schema (TENANT_BASE_SCHEMA), so it must be
migrated whenever the tenants are; doing both in one command keeps them in step.
"""

from django.conf import settings
from django.db import connection
from django_tenants.management.commands.migrate_schemas import MigrateSchemasCommand
from django_tenants.migration_executors import get_executor
from django_tenants.utils import get_public_schema_name, schema_exists


class Command(MigrateSchemasCommand):
    help = (
        "Migrate the public schema, the tenant template schema and every tenant schema "
        "(tenants in parallel). --schema X migrates one schema only."
    )

    def handle(self, *args, **options):
        single_schema = options.get("schema_name")
        if not options.get("executor"):
            # One schema (e.g. inside tenant creation's transaction) runs in-process; many in parallel.
            options["executor"] = "standard" if single_schema else settings.TENANT_MIGRATION_EXECUTOR
        super().handle(*args, **options)
        self._sync_template(single_schema, options)
        if not single_schema and self.sync_public:
            from tenants.services import public_tenant_ensure

            connection.set_schema_to_public()
            public_tenant_ensure()

    def _sync_template(self, single_schema, options):
        template = settings.TENANT_BASE_SCHEMA
        if single_schema or not self.sync_tenant or options.get("fake"):
            return
        connection.set_schema_to_public()
        if not schema_exists(template):
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE SCHEMA "{template}"')
        executor = get_executor(codename="standard")(self.args, self.options)
        executor.run_migrations(tenants=[template])
        connection.set_schema_to_public()


assert get_public_schema_name() != settings.TENANT_BASE_SCHEMA
