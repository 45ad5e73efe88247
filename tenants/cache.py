"""Cache housekeeping per tenant.

Django's cache keys carry the schema name (django_tenants.cache.make_key). A schema name
can come back: delete tenant `acme`, create a new `acme`. Its keys are purged when a
tenant is deleted and again when one is created, so a new tenant never reads entries
left by an old one of the same name.
"""

import logging

import redis
from django.conf import settings

from .redis_clients import redis_from_url

logger = logging.getLogger(__name__)


def cache_purge_schema(schema_name: str) -> int:
    """Delete every cache key of a schema; returns how many. Never raises (the cache is not the truth).

    On a Redis Cluster, SCAN walks every primary and UNLINK is split per slot by RedisCluster:
    the schema's keys are spread over all nodes by design (no hash tag; ADR 0111)."""
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
    except (redis.RedisError, redis.exceptions.RedisClusterException):
        logger.warning("cache.purge_failed schema=%s", schema_name, exc_info=True)
    return deleted
