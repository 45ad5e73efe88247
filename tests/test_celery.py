"""A real Celery worker (thread, Redis broker) runs tenant tasks in the sender's schema."""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connection
from django_tenants.utils import schema_context

from core.celery import TenantRequired, app, enqueue_on_commit
from tenants.tasks import tenant_ping_task


@pytest.fixture(scope="module")
def worker(django_db_setup, django_db_blocker):
    app.conf.task_always_eager = False
    try:
        with (
            django_db_blocker.unblock(),
            start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10),
        ):
            yield
    finally:
        app.conf.task_always_eager = True


def test_task_sent_inside_acme_runs_in_acmes_schema(worker, tenant, other_tenant):
    for current in (tenant, other_tenant):
        with schema_context(current.schema_name):
            result = tenant_ping_task.delay(sent_at=time.time())
        answer = result.get(timeout=20)
        assert answer["schema"] == current.schema_name
        assert answer["tenant"] == current.slug
    assert answer["users"] == 8  # globex: admin, instructor, learner and five extras


def test_enqueue_on_commit_carries_the_tenant_of_the_caller(
    worker, tenant, django_capture_on_commit_callbacks
):
    from celery.signals import task_success

    answers = []

    def record(sender=None, result=None, **kwargs):
        answers.append(result)

    with schema_context(tenant.schema_name), django_capture_on_commit_callbacks() as callbacks:
        enqueue_on_commit(tenant_ping_task, sent_at=time.time())
    assert len(callbacks) == 1
    task_success.connect(record, weak=False)
    try:
        connection.set_schema_to_public()
        callbacks[0]()  # sent while the connection is on public: the schema was captured at enqueue time
        deadline = time.monotonic() + 20
        while not answers and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        task_success.disconnect(record)
    assert answers and answers[0]["schema"] == tenant.schema_name


def test_task_without_a_tenant_refuses_to_run(worker, db):
    connection.set_schema_to_public()
    result = tenant_ping_task.apply_async(kwargs={"sent_at": time.time()}, headers={"_schema_name": "public"})
    with pytest.raises(TenantRequired, match="needs a tenant"):
        result.get(timeout=20)


def test_ping_worker_command_reports_the_schema(worker, tenant):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("ping_worker", "--schema", "acme", stdout=out)
    assert "worker answered from schema acme" in out.getvalue()
