"""A persistent connection is closed after a request once it has served too many schemas (ADR 0115)."""

import pytest
from django.core.signals import request_finished
from django.db import connection, connections
from django.test import override_settings

from tenants import connections as recycle
from tests.fixtures import client_for


@pytest.fixture
def fresh_connection(db, monkeypatch):
    """A second connection to the test database, outside the test's transaction, as in a worker."""
    conn = connections.create_connection("default")
    monkeypatch.setattr(recycle, "connection", conn)
    yield conn
    conn.close()


def _serve(conn, schema: str) -> None:
    conn.set_schema(schema)
    with conn.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM accounts_user")
    # What request_finished calls (sending the signal itself would also run Django's
    # close_old_connections, which closes the test's connection: it is inside a transaction).
    recycle.connection_schema_note()


@override_settings(DB_CONN_MAX_SCHEMAS=1)
def test_the_connection_closes_after_its_schema_bound(fresh_connection, tenant, other_tenant):
    _serve(fresh_connection, tenant.schema_name)
    _serve(fresh_connection, tenant.schema_name)  # the same schema again: still one
    assert fresh_connection.connection is not None
    assert recycle.connection_schemas_seen() == 1
    _serve(fresh_connection, other_tenant.schema_name)
    assert fresh_connection.connection is None  # closed: the next query opens a new backend
    _serve(fresh_connection, other_tenant.schema_name)
    assert fresh_connection.connection is not None
    assert recycle.connection_schemas_seen() == 1


@override_settings(DB_CONN_MAX_SCHEMAS=1)
def test_a_connection_inside_a_transaction_is_never_closed(tenant, other_tenant):
    """The test's own connection is inside an atomic block: closing it would lose the transaction."""
    receivers = [ref() for _, ref, *_ in request_finished.receivers]
    assert recycle.connection_schema_note in receivers
    for host_tenant in (tenant, other_tenant, tenant):
        assert client_for(host_tenant).get("/").status_code == 200
    assert connection.in_atomic_block
    assert connection.connection is not None


@override_settings(DB_CONN_MAX_SCHEMAS=1)
def test_celery_tasks_are_counted_like_requests(fresh_connection, tenant, other_tenant):
    """A worker's connection serves a schema per task: the same bound applies after each task."""
    from celery.signals import task_postrun

    for schema in (tenant.schema_name, other_tenant.schema_name):
        fresh_connection.set_schema(schema)
        with fresh_connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM accounts_user")
        task_postrun.send(sender=None, task_id="t", task=None, args=(), kwargs={}, retval=None)
    assert fresh_connection.connection is None  # two schemas past a bound of one: closed
