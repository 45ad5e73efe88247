import time

from django.contrib.auth import get_user_model
from django.db import connection

from core.celery import app, tenant_task

from .cache import retired_schemas_purge


@tenant_task(name="tenants.ping")
def tenant_ping_task(*, sent_at: float) -> dict:
    """Answer from inside the tenant the task was sent for (used by `manage.py ping_worker`)."""
    return {
        "schema": connection.schema_name,
        "tenant": connection.tenant.slug,
        "users": get_user_model().objects.count(),
        "latency_ms": round((time.time() - sent_at) * 1000, 1),
    }


@app.task(name="tenants.retired_cache_purge", tenant_required=False, ignore_result=True)
def retired_cache_purge_task() -> int:
    """Purge the cache keys of deleted tenants' schemas (after tenant_delete, and on the beat)."""
    return retired_schemas_purge()
