"""Due work per tenant, found without visiting every schema (the `TenantDue` table in public).

A tenant-side writer calls `mark_due(queue, at)` in the transaction that creates the work
(an outbox row, a retry); a beat task asks `due_schemas(queue)` once for every tenant that
has something due, and the tenant's own sweep calls `settle(queue, next_at)` when it is
done: the row moves to the next due moment, or goes when nothing is left.

The table is always named with its schema: inside a tenant the search path starts with
the tenant's schema, and this table lives only in public.
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection
from django.utils import timezone


def mark_due(queue: str, at: datetime, *more: tuple[str, datetime]) -> None:
    """The current tenant has work on `queue` due at `at` (an earlier mark wins).

    `more` marks further (queue, at) pairs in the same statement: one round trip for a writer
    that announces work to several queues. An existing earlier mark is not rewritten (its row
    is still locked, as the settle protocol needs), so a busy tenant does not churn the row.
    """
    sql, params = mark_due_statement([(queue, at), *more])
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def mark_due_statement(marks: list[tuple[str, datetime]]) -> tuple[str, list]:
    """The INSERT of `mark_due` and its parameters, for a writer that runs it inside its own
    statement (a data-modifying WITH clause), so the mark costs no round trip of its own."""
    values = ", ".join(["(%s, %s, %s)"] * len(marks))
    params = [value for q, when in marks for value in (connection.schema_name, q, when)]
    sql = (
        f"INSERT INTO public.tenants_tenantdue (schema_name, queue, due_at) VALUES {values} "  # noqa: S608
        "ON CONFLICT (schema_name, queue) DO UPDATE SET due_at = EXCLUDED.due_at "
        "WHERE EXCLUDED.due_at < public.tenants_tenantdue.due_at"
    )
    return sql, params


def settle(queue: str, next_at: datetime | None) -> None:
    """After a sweep of the current tenant: due again at `next_at`, or nothing left (None).

    Call it in the transaction that read what is left, after locking with `lock()`: a writer
    marking the tenant concurrently waits for it, then marks again.
    """
    with connection.cursor() as cursor:
        if next_at is None:
            cursor.execute(
                "DELETE FROM public.tenants_tenantdue WHERE schema_name = %s AND queue = %s",
                [connection.schema_name, queue],
            )
        else:
            cursor.execute(
                "UPDATE public.tenants_tenantdue SET due_at = %s WHERE schema_name = %s AND queue = %s",
                [next_at, connection.schema_name, queue],
            )


def lock(queue: str) -> None:
    """Lock the current tenant's row for `queue` until this transaction ends (if it exists)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM public.tenants_tenantdue WHERE schema_name = %s AND queue = %s FOR UPDATE",
            [connection.schema_name, queue],
        )


def due_schemas(queue: str, *, now: datetime | None = None, limit: int = 500) -> list[str]:
    """Schemas with work on `queue` due by `now`, earliest first (one indexed query)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT schema_name FROM public.tenants_tenantdue WHERE queue = %s AND due_at <= %s "
            "ORDER BY due_at LIMIT %s",
            [queue, now or timezone.now(), limit],
        )
        return [row[0] for row in cursor.fetchall()]


def forget_schema(schema_name: str) -> None:
    """A tenant is gone: drop its rows (tenant_delete)."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM public.tenants_tenantdue WHERE schema_name = %s", [schema_name])
