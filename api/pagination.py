"""Cursor pagination: an opaque cursor names the last row seen; pages never shift or repeat.

Offsets skip or repeat rows when the list changes between two pages; a cursor keeps the
sort key of the last item, and the next page starts strictly after it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from typing import Any

from core.errors import InvalidRequest

DEFAULT_LIMIT = 20
BAD_CURSOR = "The cursor is not one this API gave out: start again without it."
MAX_LIMIT = 100


def cursor_encode(key: Sequence[Any]) -> str:
    return (
        base64.urlsafe_b64encode(json.dumps(list(key), separators=(",", ":")).encode()).decode().rstrip("=")
    )


def cursor_decode(cursor: str) -> list:
    if len(cursor) > 500:
        raise InvalidRequest(BAD_CURSOR, field="cursor")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        key = None
    if not isinstance(key, list) or not key or len(cursor) > 500:
        raise InvalidRequest(BAD_CURSOR, field="cursor")
    return key


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidRequest(f"limit is between 1 and {MAX_LIMIT}.", field="limit")
    return limit


def page_of(
    items: Sequence, *, key: Callable[[Any], tuple], cursor: str | None, limit: int
) -> tuple[list, str | None]:
    """One page of `items` (already sorted by `key`) after `cursor`; (page, next cursor or None)."""
    limit = check_limit(limit)
    start = 0
    if cursor:
        after = tuple(cursor_decode(cursor))
        try:
            start = next((i for i, item in enumerate(items) if key(item) > after), len(items))
        except TypeError:
            raise InvalidRequest(BAD_CURSOR, field="cursor") from None
    page = list(items[start : start + limit])
    more = start + limit < len(items)
    return page, (cursor_encode(key(page[-1])) if more and page else None)


def page_of_queryset(
    queryset, *, fields: tuple[str, ...], cursor: str | None, limit: int
) -> tuple[list, str | None]:
    """Keyset pagination of a queryset ordered by `fields` ("-name" descending); the last is unique."""
    from django.db.models import Q

    limit = check_limit(limit)
    names = [f.lstrip("-") for f in fields]
    queryset = queryset.order_by(*fields)
    if cursor:
        after = cursor_decode(cursor)
        if len(after) != len(fields):
            raise InvalidRequest(BAD_CURSOR, field="cursor")
        # (a, b) after (x, y): a beyond x, or a equal to x and b beyond y.
        condition = Q()
        for i, field in enumerate(fields):
            beyond = "__lt" if field.startswith("-") else "__gt"
            step = Q(**{names[j]: after[j] for j in range(i)}) & Q(**{f"{names[i]}{beyond}": after[i]})
            condition |= step
        queryset = queryset.filter(condition)
    rows = list(queryset[: limit + 1])
    page = rows[:limit]
    last = page[-1] if page else None
    more = len(rows) > limit
    next_cursor = cursor_encode([_value(last, name) for name in names]) if more and last else None
    return page, next_cursor


def _value(row, field: str):
    value = row
    for part in field.split("__"):
        value = getattr(value, part)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
