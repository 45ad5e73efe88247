import pytest

from analytics.ingest import redis_client, reset_client


@pytest.fixture
def streams(settings):
    """Empty event streams and counters in the test Redis database, before and after the test."""
    reset_client()
    client = redis_client()

    def wipe():
        keys = [*client.scan_iter("events:*"), *client.scan_iter("analytics:*")]
        if keys:
            client.delete(*keys)

    wipe()
    yield client
    wipe()
    reset_client()
