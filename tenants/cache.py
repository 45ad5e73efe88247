"""Cache housekeeping per tenant: the keys that outlive a deleted tenant's schema (ADR 0186).

Django's cache keys carry the schema name (django_tenants.cache.make_key), not the tenant's
uuid. A schema name can come back: delete tenant `acme`, create a new `acme`, and the new
one would read the old one's sessions, outlines and counters. Everything else in Redis is
keyed by the tenant's uuid (tenants.context.tenant_key, the event streams' payloads), which
a new tenant never shares, and cache keys built from it still start with the schema name.

Finding a schema's keys means a SCAN of the whole keyspace: O(every tenant's keys). So it
happens only where it must:

- `tenant_delete` records the name (`RetiredSchema`, in its transaction) and, after
  commit, a Celery task purges it: the delete does not wait on the scan, and the beat
  retries a purge that failed;
- `tenant_create` asks, with one indexed query, whether the name was ever a tenant's; only
  then does it purge, synchronously and before the tenant exists, and it refuses when
  Redis cannot be purged. A name never used costs no scan.
"""

from __future__ import annotations

import logging

import redis
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .redis_clients import redis_from_url

logger = logging.getLogger(__name__)


class CachePurgeFailed(Exception):
    """Redis did not answer while a schema's keys were being purged."""


def _purge(schema_name: str) -> int:
    """Delete every cache key of a schema; returns how many. Raises CachePurgeFailed."""
    prefix = f"{schema_name}:"
    deleted = 0
    try:
        client = redis_from_url(
            settings.CACHES["default"]["LOCATION"],
            cluster=getattr(settings, "REDIS_CLUSTER", False),
            socket_timeout=5,
        )
        batch = []
        for key in client.scan_iter(match=f"{prefix}*", count=1000):
            batch.append(key)
            if len(batch) >= 500:
                deleted += client.unlink(*batch)
                batch.clear()
        if batch:
            deleted += client.unlink(*batch)
    except (redis.RedisError, redis.exceptions.RedisClusterException) as exc:
        raise CachePurgeFailed(f"the cache keys of {schema_name} could not be purged: {exc}") from exc
    return deleted


def cache_purge_schema(schema_name: str) -> int:
    """Delete every cache key of a schema; returns how many. Never raises (the cache is not the truth).

    O(keyspace): a SCAN of every key. On a Redis Cluster, SCAN walks every primary and UNLINK
    is split per slot by RedisCluster: the schema's keys are spread over all nodes by design
    (no hash tag; ADR 0111)."""
    try:
        return _purge(schema_name)
    except CachePurgeFailed:
        logger.warning("cache.purge_failed schema=%s", schema_name, exc_info=True)
        return 0


def schema_retire(*, schema_name: str) -> None:
    """A tenant of this schema is being deleted: remember the name, purge its keys after commit.

    Call inside the delete's transaction. The purge runs in a worker; if it never does, a new
    tenant of the same name still purges before it exists (`schema_purge_if_retired`)."""
    from .models import RetiredSchema

    RetiredSchema.objects.update_or_create(
        schema_name=schema_name, defaults={"retired_at": timezone.now(), "purged_at": None}
    )

    def enqueue() -> None:
        from .tasks import retired_cache_purge_task

        retired_cache_purge_task.delay()

    # robust: the tenant is gone whatever happens here; a broker that does not answer leaves
    # the purge to the beat (tenants-retired-cache-purge).
    transaction.on_commit(enqueue, robust=True)


def schema_purge_if_retired(*, schema_name: str) -> bool:
    """Before a tenant of this name exists: purge an earlier tenant's keys, if there ever was one.

    One indexed query when the name is new (no scan). True when it purged; raises
    CachePurgeFailed when the name was used and Redis could not be purged."""
    from .models import RetiredSchema

    if not RetiredSchema.objects.filter(schema_name=schema_name).exists():
        return False
    deleted = _purge(schema_name)
    RetiredSchema.objects.filter(schema_name=schema_name).update(purged_at=timezone.now())
    logger.info("cache.purged_for_reuse schema=%s keys=%d", schema_name, deleted)
    return True


def retired_schemas_purge(*, limit: int = 50) -> int:
    """Purge the keys of retired schemas not purged yet; returns how many names were done.

    A name that has a tenant again was purged when that tenant was created: it is only
    marked, never scanned (a scan now would delete the new tenant's keys)."""
    from .models import RetiredSchema, Tenant

    done = 0
    pending = list(
        RetiredSchema.objects.filter(purged_at__isnull=True)
        .order_by("retired_at")
        .values_list("schema_name", flat=True)[:limit]
    )
    for schema_name in pending:
        if not Tenant.objects.filter(schema_name=schema_name).exists():
            try:
                deleted = _purge(schema_name)
            except CachePurgeFailed:
                logger.warning("cache.purge_failed schema=%s", schema_name, exc_info=True)
                continue
            logger.info("cache.purged_retired schema=%s keys=%d", schema_name, deleted)
        RetiredSchema.objects.filter(schema_name=schema_name, purged_at__isnull=True).update(
            purged_at=timezone.now()
        )
        done += 1
    return done
