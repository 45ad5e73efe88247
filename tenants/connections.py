"""Recycle a persistent database connection once it has served many schemas (ADR 0115).

PostgreSQL keeps, in each backend, relation and catalog cache entries for every table it
has opened; with a schema per tenant, a connection that has served N tenants holds N
copies (measured about 0.1-0.2 MiB per schema, 215 MiB after 2,000 schemas). Persistent
connections (CONN_MAX_AGE) would let a web worker's backend grow like that for as long as
the connection lives, so after each request the schemas the connection has served are
counted, and once there are more than settings.DB_CONN_MAX_SCHEMAS the connection is
closed; the next request opens a fresh one (a few milliseconds, once per that many tenants).
Celery tasks are counted the same way, after each task (task_postrun), so a worker that
runs tasks for many tenants is bounded like a web worker.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection


def connection_schema_note(**_) -> None:
    """request_finished / task_postrun receiver: count the schema; close the connection past the bound."""
    raw = connection.connection
    if raw is None:
        return
    seen = getattr(connection, "_lms_schemas_seen", None)
    if seen is None or seen[0] is not raw:
        seen = (raw, set())
        connection._lms_schemas_seen = seen
    seen[1].add(connection.schema_name)
    if len(seen[1]) > settings.DB_CONN_MAX_SCHEMAS and not connection.in_atomic_block:
        connection.close()
        connection._lms_schemas_seen = None


def connection_schemas_seen() -> int:
    """How many schemas the open connection has served (0 when none is open)."""
    seen = getattr(connection, "_lms_schemas_seen", None)
    if seen is None or connection.connection is None or seen[0] is not connection.connection:
        return 0
    return len(seen[1])
