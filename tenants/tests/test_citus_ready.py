"""Tenant schemas stay distributable by Citus 12 schema-based sharding (ADR 0106)."""

import pytest
from django.conf import settings
from django.db import connection

from tenants.citus import _TABLE_AS, citus_schema_problems, migration_sql_problems


@pytest.mark.parametrize("schema", [settings.TENANT_BASE_SCHEMA, "acme"])
def test_tenant_schemas_have_nothing_citus_refuses(db, schema):
    assert citus_schema_problems(schema) == []


def test_no_migration_creates_a_table_from_a_query():
    assert migration_sql_problems() == []


def test_the_checker_finds_what_citus_refuses(db):
    """Every rule fires on a schema made to break it, so the tests above can fail."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE SCHEMA citus_probe;
            CREATE TABLE citus_probe.parent (id int PRIMARY KEY);
            CREATE TABLE citus_probe.child (extra int) INHERITS (citus_probe.parent);
            CREATE TABLE citus_probe.points_out (
                id int PRIMARY KEY, tenant_id bigint REFERENCES public.tenants_tenant (id));
            CREATE TABLE public.points_in (id int REFERENCES citus_probe.parent (id));
            CREATE VIEW citus_probe.peek AS SELECT id FROM public.tenants_tenant;
            """
        )
    problems = " | ".join(citus_schema_problems("citus_probe"))
    assert "from points_out to public.tenants_tenant" in problems
    assert "into the schema from public.points_in" in problems
    assert "child inherits citus_probe.parent" in problems
    assert "view peek reads public.tenants_tenant" in problems


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE TABLE x AS SELECT * FROM y",
        "create unlogged table x as with a as (select 1) select * from a",
        "SELECT a, b INTO new_table FROM old",
    ],
)
def test_table_from_query_is_recognised(sql):
    assert _TABLE_AS.search(sql)


@pytest.mark.parametrize(
    "sql",
    ["CREATE TABLE x (id int)", "INSERT INTO x SELECT 1", "CREATE INDEX i ON x (a) WHERE a AS b"],
)
def test_ordinary_sql_is_not_flagged(sql):
    assert not _TABLE_AS.search(sql)
