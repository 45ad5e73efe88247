import time

from celery.exceptions import TimeoutError as CeleryTimeout
from django.core.management.base import CommandError
from django.db import connection

from tenants.management.base import TenantCommand
from tenants.tasks import tenant_ping_task


class Command(TenantCommand):
    help = "Send a task to the Celery workers inside a tenant and check it ran in that tenant's schema."

    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--timeout", type=float, default=10.0)

    def handle_tenant(self, tenant, **options) -> None:
        result = tenant_ping_task.apply_async(
            kwargs={"sent_at": time.time()}, headers={"_schema_name": connection.schema_name}
        )
        try:
            answer = result.get(timeout=options["timeout"])
        except CeleryTimeout:
            raise CommandError(
                f"No worker answered within {options['timeout']:.0f} s; start one with "
                "`celery -A lms worker` (make demo runs one)."
            ) from None
        if answer["schema"] != tenant.schema_name:
            raise CommandError(f"The worker ran in schema {answer['schema']!r}, not {tenant.schema_name!r}.")
        self.stdout.write(
            self.style.SUCCESS(
                f"{tenant.slug}: worker answered from schema {answer['schema']} "
                f"({answer['users']} users) in {answer['latency_ms']} ms"
            )
        )
