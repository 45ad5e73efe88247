"""tenant_create_seconds: median time to create a tenant from the template schema (ADR 0100).

Baseline, same run: creating a tenant by running every migration in its new schema
(what django-tenants does without TENANT_BASE_SCHEMA).
"""

import statistics
import time
import uuid

from django.conf import settings
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from bench.common import write_result
from tenants.services import tenant_create, tenant_delete

RUNS = 7
BASELINE_RUNS = 3


def time_creations(runs: int, *, prefix: str = "bench-") -> list[float]:
    """Seconds each of `runs` tenant creations took; every tenant is deleted again."""
    seconds = []
    for _ in range(runs):
        slug = f"{prefix}{uuid.uuid4().hex[:10]}"
        started = time.perf_counter()
        created = tenant_create(slug=slug, name="Bench", admin_email=f"admin@{slug}.test")
        seconds.append(time.perf_counter() - started)
        connection.set_schema_to_public()
        tenant_delete(tenant=created.tenant, confirm=slug)
    return seconds


def run() -> dict:
    connection.set_schema_to_public()
    migrations = len(MigrationLoader(connection, ignore_no_migrations=True).disk_migrations)
    time_creations(1)  # warm-up: reads the stored schema DDL into this process (ADR 0100)
    cloned = time_creations(RUNS)
    settings.TENANT_CREATION_FAKES_MIGRATIONS = False
    try:
        migrated = time_creations(BASELINE_RUNS)
    finally:
        settings.TENANT_CREATION_FAKES_MIGRATIONS = True
    return write_result(
        "tenant_create_seconds",
        statistics.median(cloned),
        "s",
        "tenant_create_by_running_migrations_seconds",
        statistics.median(migrated),
        {
            "runs": RUNS,
            "baseline_runs": BASELINE_RUNS,
            "clone_seconds_all": [round(s, 3) for s in cloned],
            "migrate_seconds_all": [round(s, 3) for s in migrated],
            "migrations_in_project": migrations,
            "what": "tenants.services.tenant_create in-process (schema clone + domain + first admin), "
            "excluding the ~1 s of Python start-up a `manage.py create_tenant` process adds",
            "goal": "< 1.5 s",
        },
    )
