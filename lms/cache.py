"""Django's Redis cache, reusing its redis-py client.

Django's RedisCacheClient builds a new `redis.Redis` object around its connection pool on
every call; that costs more than the GET itself on loopback (0.24 ms against 0.155 ms per
get, measured here). Cache objects are per thread in Django, so one client per pool is safe.
"""

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class ReusingRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = self._client(connection_pool=self._get_connection_pool(write))
        return client


class LMSRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient
