"""Creating the Nth tenant costs what creating the 1st did (ADR 0100).

Not timings (those are in bench/tenant_create_at_scale.py) but what makes them grow: the
statements sent, the catalog rows PostgreSQL reads to run them, and the memory of the
database connection a process keeps after creating tenants one after another.
"""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tenants.models import Tenant
from tenants.schema_ddl import template_script, template_script_generate
from tenants.services import tenant_create, tenant_delete

TENANTS = 25


def _catalog_tables() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT oid FROM pg_catalog.pg_class"
            " WHERE relnamespace = 'pg_catalog'::regnamespace AND relkind = 'r'"
        )
        return [row[0] for row in cursor.fetchall()]


def _catalog_rows_read(tables: list[int]) -> dict[int, int]:
    """Rows of each catalog table read so far by this transaction (scans and index fetches).

    By oid, not through pg_stat_xact_sys_tables: that view scans pg_class, which grows with
    every tenant, and would count its own reads.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t, pg_catalog.pg_stat_get_xact_tuples_returned(t)"
            " + pg_catalog.pg_stat_get_xact_tuples_fetched(t) FROM unnest(%s::oid[]) t",
            [tables],
        )
        return dict(cursor.fetchall())


def _backend() -> tuple[int, int]:
    """(pid, bytes of memory) of the server process behind this connection."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid(), sum(total_bytes) FROM pg_catalog.pg_backend_memory_contexts")
        pid, total = cursor.fetchone()
        return pid, int(total)


def test_the_nth_creation_sends_the_same_statements_and_reads_no_more_catalog_than_the_1st(db):
    tables = _catalog_tables()
    template_script()  # this process's copy of the stored script, as every creation after the 1st has
    generation_before = _catalog_rows_read(tables)
    template_script_generate(fingerprint="test")
    generation = [sum(_catalog_rows_read(tables).values()) - sum(generation_before.values())]
    statements, catalog_rows, per_table = [], [], []
    for n in range(1, TENANTS + 1):
        before = _catalog_rows_read(tables)
        with CaptureQueriesContext(connection) as queries:
            tenant_create(slug=f"scale-{n}", name=f"Scale {n}", admin_email=f"admin@scale-{n}.test")
        after = _catalog_rows_read(tables)
        per_table.append({t: after[t] - before[t] for t in tables if after[t] != before[t]})
        catalog_rows.append(sum(per_table[-1].values()))
        statements.append(len(queries))
    assert statements[-1] == statements[0], statements
    # clone_schema read 178,000 catalog rows for the 1st tenant and 40,000 more for each
    # tenant already there (1.2 million for the 25th); the script reads a handful.
    assert catalog_rows[-1] <= catalog_rows[0] + 2 * TENANTS, (catalog_rows, per_table[-1])

    # Generating the script (once per migration state) goes through indexes too: a version that
    # scanned pg_class for the namespace read ~210 more rows for every tenant in the database.
    generation_before = _catalog_rows_read(tables)
    template_script_generate(fingerprint="test")
    generation.append(sum(_catalog_rows_read(tables).values()) - sum(generation_before.values()))
    assert generation[-1] <= generation[0] + 2 * TENANTS, generation


def test_a_process_creating_tenant_after_tenant_keeps_a_connection_of_bounded_memory(django_db_blocker):
    """Outside a transaction, the backend that built a schema is let go: its relation cache goes with it."""
    slugs = [f"bound-{n}" for n in range(1, TENANTS + 1)]
    seen = []
    with django_db_blocker.unblock():
        try:
            for slug in slugs:
                tenant_create(slug=slug, name="Bounded", admin_email=f"admin@{slug}.test")
                seen.append(_backend())
        finally:
            for tenant in Tenant.objects.filter(slug__in=slugs):
                tenant_delete(tenant=tenant, confirm=tenant.slug)
            connection.close()
    pids = [pid for pid, _ in seen]
    memory = [total for _, total in seen]
    assert len(set(pids)) == len(pids), "each creation should leave a fresh connection behind"
    # With clone_schema the one connection grew by ~12 MB per tenant (390 MB to 680 MB over 25).
    assert memory[-1] <= memory[0] + 1024 * 1024, memory


def test_the_creating_connection_is_kept_inside_the_callers_transaction(db):
    pid_before, _ = _backend()
    tenant_create(slug="kept", name="Kept", admin_email="admin@kept.test")
    pid_after, _ = _backend()
    assert pid_after == pid_before
    assert Tenant.objects.filter(slug="kept").exists()
