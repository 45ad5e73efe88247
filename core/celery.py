"""The tenant-aware Celery app, the one task decorator, and enqueue-after-commit.

tenant-schemas-celery puts the active schema in each message's headers and switches
the worker's connection to it before the task runs. A task sent with no tenant
would run on `public`; tenant tasks refuse that instead of touching the wrong tables.
"""

import os
from functools import partial

from celery.signals import worker_process_init
from tenant_schemas_celery.app import CeleryApp
from tenant_schemas_celery.task import TenantTask

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lms.settings")


class TenantRequired(RuntimeError):
    """A tenant task was delivered without a tenant."""


class LMSTask(TenantTask):
    abstract = True
    tenant_required = True

    def __call__(self, *args, **kwargs):
        if self.tenant_required:
            from django.db import connection
            from django_tenants.utils import get_public_schema_name

            if connection.schema_name == get_public_schema_name():
                raise TenantRequired(
                    f"Task {self.name} needs a tenant but was sent without one; "
                    "enqueue it while a tenant is active (enqueue_on_commit does this)."
                )
        return super().__call__(*args, **kwargs)


app = CeleryApp("lms", task_cls=LMSTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_tenant_cache_seconds = 30
app.autodiscover_tasks()


def tenant_task(*, name: str, **options):
    """The decorator for every task that works inside a tenant. Tasks take ids, not objects."""
    return app.task(name=name, bind=False, tenant_required=True, **options)


def enqueue_on_commit(task, *args, **kwargs) -> None:
    """Send `task` once the current transaction commits, for the tenant active now."""
    from django.db import connection, transaction

    schema = connection.schema_name
    transaction.on_commit(
        partial(task.apply_async, args=args, kwargs=kwargs, headers={"_schema_name": schema})
    )


@worker_process_init.connect
def _fresh_connections(**_):
    # A forked worker must not share the parent's database sockets.
    from django.db import connections

    for conn in connections.all(initialized_only=True):
        conn.close()
