import time

from django.contrib.auth import get_user_model
from django.db import connection

from core.celery import tenant_task


@tenant_task(name="tenants.ping")
def tenant_ping_task(*, sent_at: float) -> dict:
    """Answer from inside the tenant the task was sent for (used by `manage.py ping_worker`)."""
    return {
        "schema": connection.schema_name,
        "tenant": connection.tenant.slug,
        "users": get_user_model().objects.count(),
        "latency_ms": round((time.time() - sent_at) * 1000, 1),
    }
