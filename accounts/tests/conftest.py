import pytest
from django.core.cache import cache

from accounts import throttle


class FakeClock:
    """The throttle's clock, moved by hand: waits pass without sleeping."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(throttle, "clock", fake)
    return fake


def _delete_throttle_counters() -> None:
    client = cache._cache.get_client(None, write=True)
    keys = list(client.scan_iter(match="*:throttle:*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture(autouse=True)
def _forget_throttle_counters():
    """Counters live in Redis, outside the test's transaction: each test starts and leaves none."""
    _delete_throttle_counters()
    yield
    _delete_throttle_counters()
