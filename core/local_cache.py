"""A bounded, thread-safe, least-recently-used map for the per-process caches (ADR 0115).

Several caches live in each worker process and are keyed per tenant (host routing, the
course lookup, decoded outlines, the pre-rendered sidebar). A worker that serves 2,000
tenants would keep 2,000 tenants' entries unless each cache has a bound, so every such cache
is a `LocalLRU`: at most `settings.PROCESS_CACHE_MAX[name]` entries (the default given here
when the setting names no bound), the least recently used dropped first. The bound is read
on every insert, so a deployment (or a test) can change it without a restart of the module.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from django.conf import settings

_MISSING = object()
_ALL: dict[str, LocalLRU] = {}


class LocalLRU:
    def __init__(self, name: str, default_max: int) -> None:
        if name in _ALL:
            raise ValueError(f"a per-process cache named {name!r} exists already")
        self.name = name
        self.default_max = default_max
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        _ALL[name] = self

    @property
    def max_size(self) -> int:
        bounds = getattr(settings, "PROCESS_CACHE_MAX", None) or {}
        return max(1, int(bounds.get(self.name, self.default_max)))

    def get(self, key: Hashable, default: Any = None) -> Any:
        with self._lock:
            value = self._data.get(key, _MISSING)
            if value is _MISSING:
                return default
            self._data.move_to_end(key)
            return value

    def put(self, key: Hashable, value: Any) -> None:
        limit = self.max_size
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > limit:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


def local_caches() -> dict[str, LocalLRU]:
    """Every per-process cache by name (for tests and measurements)."""
    return dict(_ALL)
