"""A tenant schema built from the stored script is the template, and nothing else (ADR 0100)."""

from __future__ import annotations

import re
import subprocess

import pytest
from django.conf import settings
from django.db import connection
from django_tenants.utils import schema_exists

from tenants import schema_ddl
from tenants.models import Domain, SchemaState, TemplateSchemaDDL, Tenant
from tenants.services import TenantError, tenant_create

TEMPLATE = settings.TENANT_BASE_SCHEMA


def _dump(schema: str, *extra: str) -> list[str]:
    db = connection.settings_dict
    cmd = ["pg_dump", "--no-owner", "--no-privileges", f"--schema={schema}", *extra]
    cmd += ["-h", db["HOST"] or "127.0.0.1", "-p", str(db["PORT"] or 5432), "-U", db["USER"], db["NAME"]]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=120).stdout
    # \restrict lines carry a random key; everything else must match once the name is swapped.
    return [
        re.sub(rf"\b{schema}\b", "SCHEMA", line)
        for line in out.splitlines()
        if not line.startswith(("\\restrict", "\\unrestrict"))
    ]


def test_a_new_tenant_schema_is_the_template_as_pg_dump_sees_it(tenant):
    """pg_dump (not our deparser) finds the same tables, columns, keys, indexes and sequences."""
    # acme was created by tenant_create at the start of the session and committed.
    assert _dump(tenant.schema_name, "--schema-only") == _dump(TEMPLATE, "--schema-only")


def test_a_new_tenant_gets_the_templates_rows_and_sequence_positions(tenant):
    data = _dump(tenant.schema_name, "--data-only", "--exclude-table=*.accounts_user")
    template = _dump(TEMPLATE, "--data-only", "--exclude-table=*.accounts_user")
    # A sequence the template never used starts where the tenant's own work (and the rolled-back
    # writes of earlier tests, which sequences outlive) has taken it; the used ones must match.
    unused = {
        line for line in template if line.startswith("SELECT pg_catalog.setval(") and ", 1, false)" in line
    }
    unused_prefixes = {line.split(",", 1)[0] for line in unused}
    data = [line for line in data if line.split(",", 1)[0] not in unused_prefixes]
    template = [line for line in template if line not in unused]
    assert data == template
    assert any("django_migrations" in line for line in data)
    assert any("auth_permission" in line for line in data)


def test_the_structure_statements_name_no_schema(db):
    """Only the row copies name the template (as their source); nothing is renamed by text."""
    script = schema_ddl.template_script()
    quoted = f'"{TEMPLATE}".'
    for statement in script.ddl.split(";\n"):
        if quoted in statement:
            assert statement.startswith(("INSERT INTO ", "SELECT pg_catalog.setval(")), statement
            assert statement.count(quoted) == statement.count(f" {quoted}"), statement
    structure = script.ddl.split("INSERT INTO ", 1)[0]
    assert TEMPLATE not in structure


def test_the_script_is_generated_once_per_migration_state(db, monkeypatch):
    generated = []
    real = schema_ddl.template_script_generate

    def counting(**kwargs):
        generated.append(kwargs["fingerprint"])
        return real(**kwargs)

    monkeypatch.setattr(schema_ddl, "template_script_generate", counting)
    first = schema_ddl.template_script()
    schema_ddl.template_script_forget()  # another process: reads the stored row
    assert schema_ddl.template_script() == first
    tenant_create(slug="once", name="Once", admin_email="admin@once.test")
    assert generated == []
    assert list(TemplateSchemaDDL.objects.values_list("fingerprint", flat=True)) == [first.fingerprint]

    # A migration applied to the template changes the fingerprint: the next creation regenerates.
    with connection.cursor() as cursor:
        cursor.execute(
            # An explicit id: a sequence's nextval would outlive the rollback and leave the template
            # ahead of the tenants cloned from it.
            f'INSERT INTO "{TEMPLATE}".django_migrations (id, app, name, applied)'  # noqa: S608
            f' SELECT max(id) + 1000, %s, %s, now() FROM "{TEMPLATE}".django_migrations',
            ["tenants_test", "0001_pretend"],
        )
    tenant_create(slug="twice", name="Twice", admin_email="admin@twice.test")
    assert len(generated) == 1 and generated[0] != first.fingerprint
    assert list(TemplateSchemaDDL.objects.values_list("fingerprint", flat=True)) == generated
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM twice.django_migrations WHERE app = 'tenants_test'")
        assert cursor.fetchone()[0] == 1
    schema_ddl.template_script_forget()  # the rolled-back state must not outlive this test


def _footprint() -> tuple:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_catalog.pg_namespace")
        schemas = cursor.fetchone()[0]
    return schemas, Tenant.objects.count(), Domain.objects.count()


def test_an_error_in_the_middle_of_the_script_leaves_no_schema_and_no_rows(db, monkeypatch):
    script = schema_ddl.template_script()
    statements = script.ddl.split(";\n")
    half = len(statements) // 2
    broken = ";\n".join([*statements[:half], "SELECT 1 / 0", *statements[half:]])
    monkeypatch.setattr(
        schema_ddl, "template_script", lambda: schema_ddl.TemplateScript(script.fingerprint, broken, 0)
    )
    before = _footprint()
    with pytest.raises(Exception, match="division by zero"):
        tenant_create(slug="broken", name="Broken", admin_email="admin@broken.test")
    assert _footprint() == before
    assert not schema_exists("broken")
    assert connection.schema_name == "public"


def test_a_duplicate_slug_is_refused_before_any_ddl(tenant):
    before = _footprint()
    with pytest.raises(TenantError, match="already exists"):
        tenant_create(slug=tenant.slug, name="Again", admin_email="admin@again.test")
    assert _footprint() == before


def test_an_object_the_script_cannot_rebuild_is_refused_by_name(db):
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE VIEW "{TEMPLATE}".lonely_view AS SELECT 1 AS one')
    with pytest.raises(schema_ddl.TemplateSchemaUnsupported, match="lonely_view"):
        schema_ddl.template_script_generate(fingerprint="test")
    assert connection.schema_name == "public"


def test_a_stray_schema_of_the_same_name_is_refused_with_a_sentence(db):
    with connection.cursor() as cursor:
        cursor.execute('CREATE SCHEMA "stray"')
    before = _footprint()
    with pytest.raises(TenantError, match="already exists in the database without a tenant"):
        tenant_create(slug="stray", name="Stray", admin_email="admin@stray.test")
    assert _footprint() == before


def test_a_new_tenant_inherits_the_templates_recorded_migration_state(db):
    """migrate_schemas then knows the new schema is current without asking it (ADR 0105)."""
    template_state = SchemaState.objects.get(schema_name=TEMPLATE)
    assert template_state.state
    tenant_create(slug="stated", name="Stated", admin_email="admin@stated.test")
    assert SchemaState.objects.get(schema_name="stated").state == template_state.state


def test_deleting_a_tenant_forgets_its_recorded_migration_state(db):
    from tenants.migration_state import schema_state_record_failure
    from tenants.services import tenant_delete

    created = tenant_create(slug="forgot", name="Forgot", admin_email="admin@forgot.test")
    schema_state_record_failure(schema_name="forgot", error="ProgrammingError: something")
    tenant_delete(tenant=created.tenant, confirm="forgot")
    assert not SchemaState.objects.filter(schema_name="forgot").exists()
