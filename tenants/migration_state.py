"""Which schemas are at the code's migration state, known from one query.

A no-op `migrate_schemas` must not ask 2,000 schemas whether they are up to date. Each
schema's last migration outcome is recorded in the public table `tenants_schemastate`,
written in the same transaction as the migrations it describes, so it can never claim a
state the schema does not have. The target is a digest of the leaf migration of every
tenant app in the code: a schema whose recorded digest equals it has nothing to apply.

`schema_state_verify` reads the schemas' own `django_migrations` tables (in batches of
one UNION query each) for an operator who wants to check the record against the truth.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from django.apps import apps
from django.conf import settings
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

from .models import SchemaState

VERIFY_BATCH = 200


@dataclass(frozen=True)
class TargetState:
    leaves: tuple[tuple[str, str], ...]
    digest: str


def _tenant_app_labels() -> set[str]:
    return {apps.get_app_config(name.rsplit(".", 1)[-1]).label for name in settings.TENANT_APPS}


@cache
def tenant_target_state() -> TargetState:
    """The leaf migration of every tenant app in the code, and their digest."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    labels = _tenant_app_labels()
    leaves = tuple(sorted(node for node in loader.graph.leaf_nodes() if node[0] in labels))
    digest = hashlib.sha256(repr(leaves).encode()).hexdigest()
    return TargetState(leaves=leaves, digest=digest)


def _behind_rows(*, schema_names: Iterable[str] | None, failed_only: bool) -> list[tuple[str, bool]]:
    """(schema, has a record) of the template and tenant schemas not recorded at the target."""
    target = tenant_target_state().digest
    params: list = [settings.TENANT_BASE_SCHEMA, target]
    where = ""
    if failed_only:
        # Failed, or unknown since (e.g. an operator migrated it by hand to mend it).
        where += " AND (s.failed_at IS NOT NULL OR s.schema_name IS NULL)"
    if schema_names is not None:
        where += " AND c.schema_name = ANY(%s)"
        params.append(list(schema_names))
    sql = f"""
        SELECT c.schema_name, s.schema_name IS NOT NULL FROM (
            SELECT %s AS schema_name, 0 AS rank
            UNION ALL
            SELECT schema_name, 1 FROM tenants_tenant WHERE schema_name <> 'public'
        ) c
        LEFT JOIN tenants_schemastate s ON s.schema_name = c.schema_name
        WHERE s.state IS DISTINCT FROM %s{where}
        ORDER BY c.rank, c.schema_name
    """  # noqa: S608 - only placeholders are interpolated
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(name, recorded) for name, recorded in cursor.fetchall()]


def schemas_behind(*, schema_names: Iterable[str] | None = None, failed_only: bool = False) -> list[str]:
    """Template and tenant schemas whose recorded state is not the code's (one query)."""
    return [name for name, _ in _behind_rows(schema_names=schema_names, failed_only=failed_only)]


def schemas_to_migrate(*, failed_only: bool = False) -> list[str]:
    """The schemas a migrate run must visit, template first.

    Those recorded at another state or as failed, plus those with no record yet (made
    before this record existed, or by hand) whose own django_migrations lack a target
    leaf. Unrecorded schemas found at the target are recorded, so the next run is one query.
    """
    rows = _behind_rows(schema_names=None, failed_only=failed_only)
    unknown = [name for name, recorded in rows if not recorded]
    still_behind = set(schema_state_verify(schema_names=unknown)) if unknown else set()
    adopt = [name for name in unknown if name not in still_behind]
    if adopt:
        now = timezone.now()
        digest = tenant_target_state().digest
        SchemaState.objects.bulk_create(
            [SchemaState(schema_name=name, state=digest, migrated_at=now) for name in adopt],
            ignore_conflicts=True,
        )
    return [name for name, recorded in rows if recorded or name in still_behind]


def schema_state_record_success(*, schema_name: str) -> None:
    """Record that `schema_name` is at the target state. Call inside its migration transaction."""
    SchemaState.objects.update_or_create(
        schema_name=schema_name,
        defaults={
            "state": tenant_target_state().digest,
            "migrated_at": timezone.now(),
            "failed_at": None,
            "error": "",
        },
    )


def schema_state_record_failure(*, schema_name: str, error: str) -> None:
    """Record a failed attempt; the schema keeps the state it had (its transaction rolled back)."""
    SchemaState.objects.update_or_create(
        schema_name=schema_name,
        defaults={"failed_at": timezone.now(), "error": error[:4000]},
    )


def schema_state_forget(*, schema_names: Iterable[str]) -> None:
    """The state of these schemas is no longer known (migrated to a chosen target, or dropped)."""
    SchemaState.objects.filter(schema_name__in=list(schema_names)).delete()


def schema_state_copy(*, source: str, target: str) -> None:
    """A schema cloned from `source` has its state; call in the transaction that clones it."""
    state = SchemaState.objects.filter(schema_name=source, failed_at=None).first()
    if state is None or not state.state:
        return
    SchemaState.objects.update_or_create(
        schema_name=target,
        defaults={"state": state.state, "migrated_at": timezone.now(), "failed_at": None, "error": ""},
    )


def schema_state_failures() -> list[SchemaState]:
    return list(SchemaState.objects.exclude(failed_at=None).order_by("schema_name"))


def schema_state_verify(*, schema_names: list[str]) -> list[str]:
    """Schemas whose own django_migrations lack a target leaf (asks them, VERIFY_BATCH per query)."""
    leaves = tenant_target_state().leaves
    behind: list[str] = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_schema FROM information_schema.tables"
            " WHERE table_name = 'django_migrations' AND table_schema = ANY(%s)",
            [schema_names],
        )
        with_table = {row[0] for row in cursor.fetchall()}
        behind.extend(name for name in schema_names if name not in with_table)
        present = [name for name in schema_names if name in with_table]
        for start in range(0, len(present), VERIFY_BATCH):
            batch = present[start : start + VERIFY_BATCH]
            parts = []
            params: list = []
            for name in batch:
                quoted = connection.ops.quote_name(name)
                parts.append(
                    f"SELECT %s, count(*) FROM {quoted}.django_migrations"  # noqa: S608 - quoted identifier
                    " WHERE (app, name) IN (SELECT * FROM unnest(%s::text[], %s::text[]))"
                )
                params += [name, [app for app, _ in leaves], [leaf for _, leaf in leaves]]
            cursor.execute(" UNION ALL ".join(parts), params)
            behind.extend(name for name, found in cursor.fetchall() if found < len(leaves))
    return sorted(behind)
