"""The SQL that builds a new tenant's schema, generated once per migration state of the template.

django-tenants' `clone_schema` introspects the catalog for every clone, and its queries
grow with the catalog (~210 relations per tenant), so the 50th tenant took ten times as
long as the 1st (ADR 0100). Here the template schema (`TENANT_BASE_SCHEMA`) is read once
per migration state and turned into a script with *no schema name in it*: it is generated
with `search_path` set to the template alone, so PostgreSQL's own deparsers
(`pg_get_constraintdef`, `pg_get_indexdef(..., pretty)`, `pg_get_expr`, `format_type`)
leave the template's objects unqualified and qualify everything else (`public.`). A new
tenant runs the script after `CREATE SCHEMA "<new>"; SET LOCAL search_path TO "<new>"`,
so nothing is rewritten by text substitution.

The script is kept in `tenants_templateschemaddl`, keyed by a fingerprint of the
template's applied migrations; a migration changes the fingerprint and the next creation
regenerates it. Rows (migration history, content types, permissions, ...) are not part of
the stored script: every creation copies them from the template with INSERT ... SELECT,
so they are always the template's current rows.

What the template may contain is what Django migrations make: tables, identity or owned
sequences, columns with defaults, collations, generated columns and comments; primary key,
unique, check, exclusion and foreign key constraints; indexes. Anything else (views,
functions, triggers, policies, enum types, partitioned or inherited tables, grants) makes
generation fail with a message naming the object, rather than create tenants that
silently lack it.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass

from django.conf import settings
from django.db import connection

# Bump when the generator's output changes, so stored scripts of the old form are replaced.
GENERATOR_VERSION = 1

_local_cache: dict[str, TemplateScript] = {}
_local_lock = threading.Lock()


class TemplateSchemaUnsupported(Exception):
    """The template holds an object the generator does not reproduce."""


@dataclass(frozen=True)
class TemplateScript:
    fingerprint: str
    ddl: str  # run with search_path = the new schema; names no schema but the template (as a source)
    relations: int


def template_schema() -> str:
    return settings.TENANT_BASE_SCHEMA


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def template_fingerprint() -> str:
    """A hash of the template's applied migrations (and of this generator's version).

    One small query per creation: the template's django_migrations rows change with every
    migration applied, unapplied or re-applied there, and so does the structure they make.
    """
    with connection.cursor() as cursor:
        rows = "id::text || ' ' || app || ' ' || name || ' ' || applied::text"
        source = f"{_q(template_schema())}.django_migrations"
        cursor.execute(
            f"SELECT pg_catalog.md5(coalesce(pg_catalog.string_agg({rows}, E'\\n' ORDER BY id), '')) FROM {source}"  # noqa: S608, E501
        )
        migrations_hash = cursor.fetchone()[0]
    return hashlib.sha256(f"v{GENERATOR_VERSION}:{template_schema()}:{migrations_hash}".encode()).hexdigest()


def template_script() -> TemplateScript:
    """The script for the template's current migration state: from memory, the table, or generated."""
    from .models import TemplateSchemaDDL

    fingerprint = template_fingerprint()
    cached = _local_cache.get(fingerprint)
    if cached is not None:
        return cached
    stored = TemplateSchemaDDL.objects.filter(fingerprint=fingerprint).first()
    if stored is None:
        script = template_script_generate(fingerprint=fingerprint)
        # Only the current state is worth keeping; a concurrent generator of the same state
        # wrote the same text, so losing the race is harmless.
        TemplateSchemaDDL.objects.exclude(fingerprint=fingerprint).delete()
        TemplateSchemaDDL.objects.bulk_create(
            [TemplateSchemaDDL(fingerprint=fingerprint, ddl=script.ddl, relations=script.relations)],
            ignore_conflicts=True,
        )
    else:
        script = TemplateScript(fingerprint=fingerprint, ddl=stored.ddl, relations=stored.relations)
    with _local_lock:
        if len(_local_cache) >= 4:  # old states (or other databases, in the benchmark) are not coming back
            _local_cache.clear()
        _local_cache[fingerprint] = script
    return script


def template_script_forget() -> None:
    """Drop this process's copy (tests; the stored row is replaced by fingerprint anyway)."""
    with _local_lock:
        _local_cache.clear()


def schema_create_from_template(*, schema_name: str) -> None:
    """Create `schema_name` as a copy of the template: structure from the script, rows copied.

    Runs on the caller's connection and transaction; the caller owns atomicity.
    """
    script = template_script()
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA {_q(schema_name)}")
        cursor.execute("SELECT pg_catalog.set_config('search_path', %s, true)", [_q(schema_name)])
        try:
            cursor.execute(script.ddl)
        finally:
            # django-tenants caches the search_path it last set; make it set its own again.
            connection.search_path_set_schemas = None


# --- Generation (once per migration state) ----------------------------------------------------


def template_script_generate(*, fingerprint: str) -> TemplateScript:
    """Read the template's catalog in a few queries and write the script that rebuilds it."""
    template = template_schema()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_catalog.current_setting('search_path')")
        previous_path = cursor.fetchone()[0]
        # Deparsed names are qualified unless visible: with only the template on the path,
        # its objects come out bare and everything else (public, extensions) qualified.
        cursor.execute("SELECT pg_catalog.set_config('search_path', %s, true)", [_q(template)])
        # Every lookup below has an index; with ~200 catalog rows per tenant per table the
        # planner's row estimates sometimes prefer a scan of the whole catalog instead.
        cursor.execute("SELECT pg_catalog.current_setting('enable_seqscan')")
        previous_seqscan = cursor.fetchone()[0]
        cursor.execute("SELECT pg_catalog.set_config('enable_seqscan', 'off', true)")
        try:
            cursor.execute("SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = %s", [template])
            row = cursor.fetchone()
            if row is None:
                raise TemplateSchemaUnsupported(
                    f"The template schema {template!r} does not exist; run `manage.py migrate_schemas`."
                )
            ns = row[0]
            rels = _template_relations(cursor, ns)
            _refuse_unsupported(cursor, ns, rels, template)
            ddl, relations = _generate(cursor, rels, template)
        finally:
            cursor.execute("SELECT pg_catalog.set_config('search_path', %s, true)", [previous_path])
            cursor.execute("SELECT pg_catalog.set_config('enable_seqscan', %s, true)", [previous_seqscan])
            connection.search_path_set_schemas = None
    return TemplateScript(fingerprint=fingerprint, ddl=ddl, relations=relations)


# Every query below reaches the template's objects through an index (pg_depend's reference
# index, then oids), never by scanning pg_class for a namespace: at 2,000 tenants the catalog
# holds ~420,000 relations and such scans made generation take over a second.
_IN_SCHEMA = (
    "FROM pg_catalog.pg_depend WHERE refclassid = 'pg_catalog.pg_namespace'::pg_catalog.regclass"
    " AND refobjid = %(ns)s AND classid"
)

_UNSUPPORTED_CHECKS = [
    (
        "relation of a kind other than table or sequence (view, partitioned table, ...)",
        "SELECT relname FROM pg_catalog.pg_class WHERE oid = ANY(%(rels)s) AND relkind NOT IN ('r', 'S')",
    ),
    (
        "unlogged or temporary table",
        "SELECT relname FROM pg_catalog.pg_class WHERE oid = ANY(%(rels)s) AND relpersistence <> 'p'",
    ),
    (
        "table with grants, row security, storage options or a non-default replica identity",
        "SELECT relname FROM pg_catalog.pg_class WHERE oid = ANY(%(rels)s) AND (relacl IS NOT NULL"
        " OR relrowsecurity OR (relkind = 'r' AND (relreplident <> 'd' OR reloptions IS NOT NULL)))",
    ),
    (
        "inherited table or partition",
        "SELECT inhrelid::pg_catalog.regclass::text FROM pg_catalog.pg_inherits"
        " WHERE inhrelid = ANY(%(rels)s) OR inhparent = ANY(%(rels)s)",
    ),
    (
        "trigger",
        "SELECT tgname FROM pg_catalog.pg_trigger WHERE tgrelid = ANY(%(rels)s) AND NOT tgisinternal",
    ),
    ("rule", "SELECT rulename FROM pg_catalog.pg_rewrite WHERE ev_class = ANY(%(rels)s)"),
    ("policy", "SELECT polname FROM pg_catalog.pg_policy WHERE polrelid = ANY(%(rels)s)"),
    (
        "constraint trigger",
        "SELECT conname FROM pg_catalog.pg_constraint WHERE conrelid = ANY(%(rels)s) AND contype = 't'",
    ),
    ("extended statistics", "SELECT stxname FROM pg_catalog.pg_statistic_ext WHERE stxrelid = ANY(%(rels)s)"),
    (
        "function, type, domain, enum, collation or other object",
        f"SELECT pg_catalog.pg_describe_object(classid, objid, 0) {_IN_SCHEMA}"
        " <> 'pg_catalog.pg_class'::pg_catalog.regclass",
    ),
]


def _template_relations(cursor, ns: int) -> list[int]:
    """Oids of the template's tables and sequences (and of anything else in pg_class there)."""
    cursor.execute(
        f"SELECT objid {_IN_SCHEMA} = 'pg_catalog.pg_class'::pg_catalog.regclass",
        {"ns": ns},
    )
    return [row[0] for row in cursor.fetchall()]


def _refuse_unsupported(cursor, ns: int, rels: list[int], template: str) -> None:
    for what, sql in _UNSUPPORTED_CHECKS:
        cursor.execute(sql, {"ns": ns, "rels": rels})
        names = sorted(row[0] for row in cursor.fetchall())
        if names:
            raise TemplateSchemaUnsupported(
                f"The template schema {template!r} holds a {what} ({', '.join(names[:5])}) that "
                "tenants.schema_ddl does not reproduce; teach it that object, or drop it from the template."
            )


def _generate(cursor, rels: list[int], template: str) -> tuple[str, int]:
    cursor.execute(
        "SELECT c.oid, c.relname FROM pg_catalog.pg_class c WHERE c.oid = ANY(%s) AND c.relkind = 'r'"
        " ORDER BY c.relname",
        [rels],
    )
    tables = cursor.fetchall()
    table_names = dict(tables)

    cursor.execute(
        """
        SELECT a.attrelid, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull,
               pg_catalog.pg_get_expr(d.adbin, d.adrelid, true), a.attidentity, a.attgenerated,
               CASE WHEN a.attcollation <> t.typcollation THEN co.collname END,
               CASE WHEN a.attcollation <> t.typcollation THEN cn.nspname END
          FROM pg_catalog.pg_attribute a
          JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
          JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
          LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
          LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation
          LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
         WHERE c.oid = ANY(%s) AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
         ORDER BY a.attrelid, a.attnum
        """,
        [rels],
    )
    columns: dict[int, list[tuple]] = {}
    for row in cursor.fetchall():
        columns.setdefault(row[0], []).append(row[1:])

    # Sequences, with the column that owns them: 'i' = identity, 'a' = serial / OWNED BY.
    cursor.execute(
        """
        SELECT s.relname, pg_catalog.format_type(q.seqtypid, NULL), q.seqstart, q.seqincrement,
               q.seqmin, q.seqmax, q.seqcache, q.seqcycle, d.deptype, d.refobjid, a.attname
          FROM pg_catalog.pg_class s
          JOIN pg_catalog.pg_sequence q ON q.seqrelid = s.oid
          LEFT JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
               AND d.objid = s.oid AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
               AND d.deptype IN ('i', 'a')
          LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
         WHERE s.oid = ANY(%s) AND s.relkind = 'S'
         ORDER BY s.relname
        """,
        [rels],
    )
    sequences = cursor.fetchall()
    identity_options = {}
    for name, typ, start, inc, smin, smax, cache, cycle, deptype, table_oid, column in sequences:
        if deptype == "i":
            identity_options[(table_oid, column)] = _sequence_options(
                name, typ, start, inc, smin, smax, cache, cycle
            )

    cursor.execute(
        "SELECT conrelid, conname, contype, pg_catalog.pg_get_constraintdef(oid, true)"
        " FROM pg_catalog.pg_constraint WHERE conrelid = ANY(%s) AND contype IN ('p', 'u', 'x', 'c', 'f')"
        " ORDER BY conrelid, conname",
        [rels],
    )
    constraints = cursor.fetchall()

    cursor.execute(
        """
        SELECT pg_catalog.pg_get_indexdef(i.indexrelid, 0, true)
          FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
         WHERE i.indrelid = ANY(%s)
           AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k
                            WHERE k.conrelid = i.indrelid AND k.conindid = i.indexrelid
                              AND k.contype IN ('p', 'u', 'x'))
         ORDER BY c.relname
        """,
        [rels],
    )
    indexes = [row[0] for row in cursor.fetchall()]

    cursor.execute(
        """
        SELECT c.relname, c.relkind, a.attname, d.description
          FROM pg_catalog.pg_description d
          JOIN pg_catalog.pg_class c ON c.oid = d.objoid
          LEFT JOIN pg_catalog.pg_attribute a
                 ON a.attrelid = c.oid AND a.attnum = d.objsubid AND d.objsubid > 0
         WHERE d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objoid = ANY(%s)
         ORDER BY 1, 3
        """,
        [rels],
    )
    comments = cursor.fetchall()

    cursor.execute("SELECT count(*) FROM pg_catalog.pg_index WHERE indrelid = ANY(%s)", [rels])
    relations = len(rels) + cursor.fetchone()[0]

    out: list[str] = []
    # 1. Sequences not made by an identity column.
    for name, typ, start, inc, smin, smax, cache, cycle, deptype, _table, _column in sequences:
        if deptype != "i":
            options = _sequence_options(None, typ, start, inc, smin, smax, cache, cycle)
            out.append(f"CREATE SEQUENCE {_q(name)} {options}")
    # 2. Tables: columns, defaults, NOT NULL, identity, generated columns.
    for oid, name in tables:
        lines = []
        for attname, typ, notnull, default, identity, generated, collname, collnsp in columns.get(oid, []):
            col = f"{_q(attname)} {typ}"
            if collname is not None:
                col += f" COLLATE {_q(collnsp)}.{_q(collname)}"
            if generated == "s":
                col += f" GENERATED ALWAYS AS ({default}) STORED"
            elif identity:
                kind = "ALWAYS" if identity == "a" else "BY DEFAULT"
                col += f" GENERATED {kind} AS IDENTITY ({identity_options[(oid, attname)]})"
            elif default is not None:
                col += f" DEFAULT {default}"
            if notnull:
                col += " NOT NULL"
            lines.append(col)
        out.append(f"CREATE TABLE {_q(name)} (\n    " + ",\n    ".join(lines) + "\n)")
    for name, _typ, *_rest, deptype, table_oid, column in sequences:
        if deptype == "a":
            out.append(f"ALTER SEQUENCE {_q(name)} OWNED BY {_q(table_names[table_oid])}.{_q(column)}")
    # 3. Rows, read from the template when the tenant is created.
    for oid, name in tables:
        names = [_q(c[0]) for c in columns.get(oid, []) if c[5] != "s"]
        if not names:
            continue
        cols = ", ".join(names)
        source = f"{_q(template)}.{_q(name)}"
        out.append(f"INSERT INTO {_q(name)} ({cols}) OVERRIDING SYSTEM VALUE SELECT {cols} FROM {source}")  # noqa: S608
    if sequences:
        calls = ", ".join(
            f"pg_catalog.setval({_literal(_q(name))}, s{n}.last_value, s{n}.is_called)"
            for n, (name, *_rest) in enumerate(sequences)
        )
        sources = ", ".join(f"{_q(template)}.{_q(name)} s{n}" for n, (name, *_rest) in enumerate(sequences))
        out.append(f"SELECT {calls} FROM {sources}")  # noqa: S608 - quoted names
    # 4. Constraints (keys before the foreign keys that need them), then indexes, then comments.
    order = {"p": 0, "u": 1, "x": 2, "c": 3, "f": 4}
    for conrelid, conname, _contype, definition in sorted(
        constraints, key=lambda c: (order[c[2]], c[0], c[1])
    ):
        out.append(f"ALTER TABLE {_q(table_names[conrelid])} ADD CONSTRAINT {_q(conname)} {definition}")
    out.extend(indexes)
    for relname, relkind, attname, description in comments:
        target = {"r": "TABLE", "S": "SEQUENCE", "i": "INDEX"}[relkind]
        obj = _q(relname) if attname is None else f"{_q(relname)}.{_q(attname)}"
        out.append(f"COMMENT ON {'COLUMN' if attname else target} {obj} IS {_literal(description)}")
    return ";\n".join(out) + ";\n", relations


def _sequence_options(name, typ, start, inc, smin, smax, cache, cycle) -> str:
    # An identity sequence (named) takes its type from the column; AS would conflict.
    opts = [f"SEQUENCE NAME {_q(name)}"] if name else [f"AS {typ}"]
    opts += [
        f"START WITH {start}",
        f"INCREMENT BY {inc}",
        f"MINVALUE {smin}",
        f"MAXVALUE {smax}",
        f"CACHE {cache}",
        "CYCLE" if cycle else "NO CYCLE",
    ]
    return " ".join(opts)


def _literal(text: str) -> str:
    """A standard-conforming SQL string literal (standard_conforming_strings is on since PG 9.1)."""
    if "\x00" in text:
        raise TemplateSchemaUnsupported("A NUL character cannot appear in the template's definitions.")
    return "'" + text.replace("'", "''") + "'"
