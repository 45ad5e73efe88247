"""What Citus 12 schema-based sharding would refuse in a tenant schema, checked on plain PostgreSQL.

`citus_schema_distribute('<tenant schema>')` turns each table of the schema into a
single-shard table colocated with the others of that schema, and then refuses
(src/backend/distributed/commands/schema_based_sharding.c, Citus 12/13):

- foreign keys from the schema to a table in another schema, unless that table is a Citus
  reference table; and foreign keys from another schema into it;
- tables that inherit or are inherited, partitions whose parent is in another schema,
  foreign tables;
- tables owned by an extension.

Beyond what it refuses outright, views and functions of a tenant schema that read other
schemas would break once the schema moves to a worker node, and `CREATE TABLE ... AS` /
`SELECT ... INTO` in a migration would create tables outside Citus's propagation. Each of
these is reported here so the test suite fails before a deployment would.
"""

from __future__ import annotations

import re

from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations.special import RunSQL

# Public tables a tenant table may reference: they would be made Citus reference tables.
# Empty today: no tenant table points into public.
REFERENCE_TABLES: frozenset[str] = frozenset()

_TABLE_AS = re.compile(
    r"\bCREATE\s+(?:TEMP\w*\s+|UNLOGGED\s+)?TABLE\b[^;]*?\bAS\b\s*(?:SELECT|WITH|VALUES|TABLE)\b"
    r"|\bSELECT\b[^;]*?\bINTO\b\s+(?!STRICT)\w",
    re.I | re.S,
)


def _rows(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def citus_schema_problems(schema: str) -> list[str]:
    """Every object of `schema` that citus_schema_distribute would refuse or break on."""
    problems: list[str] = []
    for name, table, target, target_schema in _rows(
        """
        SELECT c.conname, r.relname, f.relname, fn.nspname
        FROM pg_constraint c
        JOIN pg_class r ON r.oid = c.conrelid JOIN pg_namespace rn ON rn.oid = r.relnamespace
        JOIN pg_class f ON f.oid = c.confrelid JOIN pg_namespace fn ON fn.oid = f.relnamespace
        WHERE c.contype = 'f' AND rn.nspname = %s AND fn.nspname <> %s
        """,
        [schema, schema],
    ):
        if target_schema != "public" or target not in REFERENCE_TABLES:
            problems.append(f"foreign key {name} from {table} to {target_schema}.{target}")
    for name, source_schema, table in _rows(
        """
        SELECT c.conname, rn.nspname, r.relname
        FROM pg_constraint c
        JOIN pg_class r ON r.oid = c.conrelid JOIN pg_namespace rn ON rn.oid = r.relnamespace
        JOIN pg_class f ON f.oid = c.confrelid JOIN pg_namespace fn ON fn.oid = f.relnamespace
        WHERE c.contype = 'f' AND fn.nspname = %s AND rn.nspname <> %s
        """,
        [schema, schema],
    ):
        problems.append(f"foreign key {name} into the schema from {source_schema}.{table}")
    for child, parent, parent_schema in _rows(
        """
        SELECT c.relname, p.relname, pn.nspname
        FROM pg_inherits i
        JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_namespace cn ON cn.oid = c.relnamespace
        JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = p.relnamespace
        WHERE (cn.nspname = %s OR pn.nspname = %s)
          AND NOT (c.relispartition AND cn.nspname = pn.nspname)
        """,
        [schema, schema],
    ):
        problems.append(f"{child} inherits {parent_schema}.{parent} (tables may not inherit)")
    for (table,) in _rows(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = %s AND c.relkind = 'f'",
        [schema],
    ):
        problems.append(f"{table} is a foreign table")
    for (table,) in _rows(
        """
        SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
        WHERE n.nspname = %s
        """,
        [schema],
    ):
        problems.append(f"{table} is owned by an extension")
    for view, other_schema, other in _rows(
        """
        SELECT DISTINCT v.relname, tn.nspname, t.relname
        FROM pg_class v JOIN pg_namespace vn ON vn.oid = v.relnamespace
        JOIN pg_rewrite w ON w.ev_class = v.oid
        JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = w.oid
        JOIN pg_class t ON d.refclassid = 'pg_class'::regclass AND t.oid = d.refobjid
        JOIN pg_namespace tn ON tn.oid = t.relnamespace
        WHERE vn.nspname = %s AND v.relkind IN ('v', 'm') AND tn.nspname NOT IN (%s, 'pg_catalog')
        """,
        [schema, schema],
    ):
        problems.append(f"view {view} reads {other_schema}.{other} in another schema")
    return problems


def migration_sql_problems() -> list[str]:
    """RunSQL in any migration that creates a table from a query (CREATE TABLE AS, SELECT INTO)."""
    problems = []
    loader = MigrationLoader(None, ignore_no_migrations=True)
    for (app, name), migration in sorted(loader.disk_migrations.items()):
        for operation in migration.operations:
            if not isinstance(operation, RunSQL):
                continue
            for sql in (operation.sql, operation.reverse_sql):
                statements = sql if isinstance(sql, list | tuple) else [sql]
                for statement in statements:
                    text = statement[0] if isinstance(statement, list | tuple) else statement
                    if isinstance(text, str) and _TABLE_AS.search(text):
                        problems.append(f"{app}.{name}: creates a table from a query: {text[:80]!r}")
    return problems
