"""The per-process LRU keeps at most its bound, read from settings on every insert (ADR 0115)."""

import pytest
from django.test import override_settings

from core.local_cache import LocalLRU, local_caches


@pytest.fixture
def lru():
    cache = LocalLRU("test-lru", 3)
    yield cache
    local_caches()  # the registry is read-only for callers; drop the test's entry by hand
    from core import local_cache

    local_cache._ALL.pop("test-lru", None)


def test_the_least_recently_used_entry_goes_first(lru):
    for key in "abc":
        lru.put(key, key.upper())
    assert lru.get("a") == "A"  # a is now the most recently used
    lru.put("d", "D")
    assert len(lru) == 3
    assert lru.get("b") is None
    assert [lru.get(key) for key in "acd"] == ["A", "C", "D"]


def test_the_setting_overrides_the_default_bound(lru):
    with override_settings(PROCESS_CACHE_MAX={"test-lru": 5}):
        for i in range(10):
            lru.put(i, i)
        assert len(lru) == 5
    lru.put("x", 1)
    assert len(lru) == 3


def test_two_caches_cannot_share_a_name(lru):
    with pytest.raises(ValueError, match="exists already"):
        LocalLRU("test-lru", 1)
