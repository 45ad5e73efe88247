"""Redis clients for one server or a Redis Cluster (REDIS_CLUSTER / ANALYTICS_REDIS_CLUSTER, ADR 0111).

With a cluster, the URL names any one node; redis-py's RedisCluster discovers the others
and sends each command to the node owning its key's slot. A command naming several keys
must keep them in one slot: callers that need that use hash tags (`events:{3}`), and
the ones that do not (cache purges, bulk deletes) go through RedisCluster's per-slot
splitting (delete/unlink/mget_nonatomic).
"""

from __future__ import annotations

from typing import Any


def redis_from_url(url: str, *, cluster: bool, **options: Any):
    """A redis-py client for `url`: RedisCluster when `cluster`, else Redis."""
    import redis
    from redis.cluster import RedisCluster

    if cluster:
        return RedisCluster.from_url(url, **options)
    return redis.Redis.from_url(url, **options)


def is_cluster(client) -> bool:
    from redis.cluster import RedisCluster

    return isinstance(client, RedisCluster)
