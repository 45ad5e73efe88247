"""migrate_schemas at scale: a no-op asks no schema; each schema migrates in one transaction."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tenants import migration_state
from tenants.models import SchemaState, Tenant

ROOT = Path(__file__).resolve().parents[2]
SPARE = ("migr0", "migr1", "migr2")


def _manage(*args: str) -> subprocess.CompletedProcess:
    """Run manage.py against the test database, as an operator would."""
    database = connection.settings_dict
    url = f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
    return subprocess.run(
        [sys.executable, "manage.py", *args, "--noinput"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=300,
    )


def _applied(schema: str, app: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT name FROM "{schema}".django_migrations WHERE app = %s', [app])  # noqa: S608
        return {row[0] for row in cursor.fetchall()}


def _column_exists(schema: str, table: str, column: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM information_schema.columns"
            " WHERE table_schema = %s AND table_name = %s AND column_name = %s",
            [schema, table, column],
        )
        return cursor.fetchone() is not None


@pytest.fixture(scope="module")
def spare_schemas(django_db_setup, django_db_blocker):
    """Three committed tenants this module may break and mend (subprocesses must see them)."""
    from tenants.services import tenant_create, tenant_delete

    with django_db_blocker.unblock():
        created = [
            Tenant.objects.filter(slug=slug).first()
            or tenant_create(slug=slug, name=slug, admin_email=f"admin@{slug}.test").tenant
            for slug in SPARE
        ]
        result = _manage("migrate_schemas", "--tenant")
        assert result.returncode == 0, result.stderr
        yield [tenant.schema_name for tenant in created]
        for tenant in created:
            tenant_delete(tenant=tenant, confirm=tenant.slug)
        SchemaState.objects.filter(schema_name__in=SPARE).delete()


def test_noop_migrate_asks_no_tenant_schema(spare_schemas, db):
    """Up-to-date schemas are known from one query on public: no schema is visited."""
    assert migration_state.schemas_to_migrate() == []
    with CaptureQueriesContext(connection) as queries:
        call_command("migrate_schemas", "--tenant", "--noinput", verbosity=0)
    sql = " ".join(query["sql"] for query in queries.captured_queries)
    assert "django_migrations" not in sql
    assert sql.count("search_path") == sql.count('SET search_path = "public"')
    for schema in [*spare_schemas, "acme", "globex"]:
        assert f'"{schema}"' not in sql and f"'{schema}'" not in sql
    assert len(queries.captured_queries) <= 4


def test_behind_schemas_are_migrated_in_parallel_and_recorded(spare_schemas, db):
    first, _, third = spare_schemas
    for schema in (first, third):
        result = _manage("migrate_schemas", "--schema", schema, "enrollments", "0001")
        assert result.returncode == 0, result.stderr
        assert not _column_exists(schema, "enrollments_enrollment", "access_ends_at")
    check = _manage("migrate_schemas", "--check")
    assert check.returncode == 1
    assert first in check.stderr and third in check.stderr

    result = _manage("migrate_schemas", "--tenant", "--processes", "2")

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{first}: " in result.stdout and f"{third}: " in result.stdout
    assert "acme:" not in result.stdout, "a schema at the target state was visited"
    for schema in (first, third):
        assert _column_exists(schema, "enrollments_enrollment", "access_ends_at")
    assert migration_state.schemas_behind() == []
    assert _manage("migrate_schemas", "--check").returncode == 0


def test_a_failing_schema_is_left_as_it_was_listed_and_retried_alone(spare_schemas, db):
    """One schema fails: its earlier migrations of the run roll back; the others go on."""
    _, second, third = spare_schemas
    # `second` really loses courses 0003 and pretends to lack enrollments 0002, whose column
    # is still there: courses 0003 applies, then enrollments 0002 fails.
    assert _manage("migrate_schemas", "--schema", second, "courses", "0002").returncode == 0
    assert _manage("migrate_schemas", "--schema", second, "--fake", "enrollments", "0001").returncode == 0
    assert _manage("migrate_schemas", "--schema", third, "enrollments", "0001").returncode == 0

    result = _manage("migrate_schemas", "--tenant")

    assert result.returncode == 1
    assert f"{second}: ProgrammingError" in result.stderr
    assert "--retry-failed" in result.stderr
    assert "courses" not in "".join(_applied(second, "courses") - {"0001_initial", "0002_lesson_gates"})
    assert "0002_access_window" not in _applied(second, "enrollments")
    assert _column_exists(third, "enrollments_enrollment", "access_ends_at"), "the others went on"
    failures = _manage("migrate_schemas", "--failures")
    assert second in failures.stdout and "already exists" in failures.stdout

    # The operator mends the schema; a retry visits only the failed one.
    assert _manage("migrate_schemas", "--schema", second, "--fake", "enrollments").returncode == 0
    retry = _manage("migrate_schemas", "--tenant", "--retry-failed")
    assert retry.returncode == 0, retry.stdout + retry.stderr
    assert "0003_course_staff_roles_module_prerequisites" in _applied(second, "courses")
    assert _manage("migrate_schemas", "--failures").stdout.startswith("No schema")
    assert _manage("migrate_schemas", "--check").returncode == 0


def test_unrecorded_schemas_are_verified_in_batches_and_adopted(spare_schemas, db):
    """Schemas without a record (made before it existed) are checked in one query per batch."""
    SchemaState.objects.filter(schema_name__in=spare_schemas).delete()
    with CaptureQueriesContext(connection) as queries:
        assert migration_state.schemas_to_migrate() == []
    assert len(queries.captured_queries) <= 4
    assert SchemaState.objects.filter(schema_name__in=spare_schemas).count() == len(spare_schemas)


def test_bad_arguments_are_refused_with_a_sentence(db):
    result = _manage("migrate_schemas", "--schema", "no_such_schema")
    assert result.returncode == 1
    assert "does not exist" in result.stderr
    result = _manage("migrate_schemas", "--processes", "0")
    assert result.returncode == 1 and "--processes" in result.stderr


SLOW_MIGRATION = """\
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("api", "{previous}")]
    operations = [
        migrations.RunSQL("ALTER TABLE api_apikey ADD COLUMN slow_note text", migrations.RunSQL.noop),
        migrations.RunSQL("SELECT pg_sleep(1.5)", migrations.RunSQL.noop),
    ]
"""


def _slow_migration_env(tmp_path: Path) -> dict:
    """Settings for a child process in which `api` has one more migration, slow, adding a column."""
    package = tmp_path / "slow_api_migrations"
    package.mkdir()
    sources = sorted((ROOT / "api" / "migrations").glob("[0-9]*.py"))
    for path in sources:
        (package / path.name).write_text(path.read_text())
    (package / "__init__.py").write_text("")
    (package / "9001_slow.py").write_text(SLOW_MIGRATION.format(previous=sources[-1].stem))
    (tmp_path / "slow_settings.py").write_text(
        "from lms.settings import *  # noqa: F403\nMIGRATION_MODULES = {'api': 'slow_api_migrations'}\n"
    )
    database = connection.settings_dict
    return {
        **os.environ,
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "DJANGO_SETTINGS_MODULE": "slow_settings",
        "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}",
    }


@pytest.mark.parametrize(
    "stop",
    [
        pytest.param(lambda pid: os.killpg(pid, signal.SIGINT), id="ctrl-c"),  # a terminal's Ctrl-C
        pytest.param(lambda pid: os.killpg(pid, signal.SIGTERM), id="sigterm-group"),  # systemd
        pytest.param(lambda pid: os.kill(pid, signal.SIGTERM), id="sigterm-parent"),  # Kubernetes
    ],
)
def test_an_interrupted_run_stops_at_once_and_resumes(spare_schemas, db, tmp_path, stop):
    """Ctrl-C or SIGTERM stops the run (no hang, no schema migrated after it); the schemas in
    flight roll back whole; running the command again migrates exactly the rest."""

    env = _slow_migration_env(tmp_path)
    every = [
        *Tenant.objects.exclude(schema_name="public").values_list("schema_name", flat=True),
        "tenant_template",
    ]
    command = [sys.executable, "manage.py", "migrate_schemas", "--tenant", "--noinput", "--processes", "2"]
    try:
        proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        for line in proc.stdout:
            if "] " in line and "tenant_template" not in line:
                break  # one tenant schema done, the other worker in the middle of one
        stop(proc.pid)
        try:
            _, stderr = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            pytest.fail("migrate_schemas did not stop within 20 s of the signal")
        assert proc.returncode == 1, stderr
        assert "nterrupted" in stderr and "again" in stderr
        done = {s for s in every if "9001_slow" in _applied(s, "api")}
        with_column = {s for s in every if _column_exists(s, "api_apikey", "slow_note")}
        assert done == with_column, "a schema was left half-migrated"
        assert 0 < len(done) < len(every) - 1, "the run went on after Ctrl-C"

        resumed = subprocess.run(
            [*command[:-2]], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        visited = {
            line.split("] ", 1)[1].split(":", 1)[0] for line in resumed.stdout.splitlines() if "] " in line
        }
        assert visited == set(every) - done
        assert all(_column_exists(s, "api_apikey", "slow_note") for s in every)
    finally:
        # Committed, like the subprocesses' work (this test's own transaction is rolled back).
        database = connection.settings_dict
        with psycopg.connect(
            dbname=database["NAME"],
            host=database["HOST"],
            port=database["PORT"],
            user=database["USER"],
            autocommit=True,
        ) as mend:
            for schema in every:
                mend.execute(f'ALTER TABLE "{schema}".api_apikey DROP COLUMN IF EXISTS slow_note')
                where = "app = 'api' AND name = '9001_slow'"
                mend.execute(f'DELETE FROM "{schema}".django_migrations WHERE {where}')  # noqa: S608
            mend.execute("DELETE FROM tenants_schemastate WHERE schema_name = ANY(%s)", [every])
        assert migration_state.schemas_to_migrate() == []  # adopted again: the real code's state


def test_a_schema_migration_lists_only_that_schemas_tables(spare_schemas, db):
    """Django's table list runs pg_table_is_visible() on every tenant's relations (~1 s per call
    at 2,000 tenants, several calls per schema); migrate_schemas reads it through an index."""
    with CaptureQueriesContext(connection) as queries:
        call_command("migrate_schemas", "--schema", spare_schemas[0], "--noinput", verbosity=0)
    sql = [query["sql"] for query in queries.captured_queries]
    assert not [q for q in sql if "pg_table_is_visible(c.oid)" in q], "a catalog-wide table list ran"
    assert [q for q in sql if "pg_catalog.pg_depend d" in q], "the schema's tables were not listed at all"


def test_the_scoped_table_list_is_django_tenants_own(spare_schemas, db):
    from django_tenants.postgresql_backend.introspection import DatabaseSchemaIntrospection

    from tenants.introspection import SchemaScopedIntrospection

    for schema in (spare_schemas[1], "public"):
        connection.set_schema(schema)
        with connection.cursor() as cursor:
            theirs = sorted(DatabaseSchemaIntrospection(connection).get_table_list(cursor))
            ours = sorted(SchemaScopedIntrospection(connection).get_table_list(cursor))
        assert ours == theirs and len(ours) > 10
    connection.set_schema_to_public()
