"""`reverse()` remembered per process (issue #12: the lesson page reversed eight URLs per request).

A reversed URL is a pure function of the URL configuration, the script prefix, the view name
and its arguments: it holds nothing of a tenant or a person, so the same answer serves every
request that asks the same question. At most PROCESS_CACHE_MAX["url_reverse"] answers (ADR 0115).
"""

from __future__ import annotations

from django.urls import get_script_prefix, get_urlconf, reverse

from .local_cache import LocalLRU

_reversed = LocalLRU("url_reverse", 4096)


def reverse_memo(viewname: str, *args) -> str:
    """reverse(viewname, args=args), computed once per process for each distinct question."""
    key = (get_urlconf(), get_script_prefix(), viewname, args)
    url = _reversed.get(key)
    if url is None:
        url = reverse(viewname, args=args)
        _reversed.put(key, url)
    return url


def nav_urls(request) -> dict:
    """Context processor: the site navigation's links (every page's header) without a reverse each."""
    return {"nav_urls": _NAV}


class _Lazy:
    """Reversed on first use, so pages and URL configurations without the name never ask."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __str__(self) -> str:
        return reverse_memo(self.name)


_NAV = {
    "home": _Lazy("home"),
    "my_learning": _Lazy("enrollments:my_learning"),
    "logout": _Lazy("accounts:logout"),
    "login": _Lazy("accounts:login"),
}
