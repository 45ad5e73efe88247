"""Input at the edge: one JSON body parser, one refusal, one problem body (RFC 9457).

Every view that reads a JSON body calls `json_body(request)` (or `json_text(...)` for JSON
carried in a form field). Whatever is wrong with the input (too large, nested too deep, not
UTF-8, a lone surrogate or NUL in a string, a bare number instead of an object) raises
`InvalidInput`, which `core.middleware.EdgeMiddleware` answers with a 400 problem body. A
view never sees a half-parsed body and never turns a parser crash into a 500.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from django.http import HttpRequest, JsonResponse

# Most bodies are a few hundred bytes; views with larger needs pass max_bytes.
DEFAULT_MAX_BYTES = 64 * 1024
# Deeper than any document we define (quiz answers nest 3 levels), far below the
# interpreter's recursion limit (1,000 levels of nesting crash json.loads and friends).
DEFAULT_MAX_DEPTH = 32

# NUL and UTF-16 surrogate code points: PostgreSQL refuses NUL in text and jsonb, and a lone
# surrogate cannot be encoded as UTF-8, so either fails later, deep inside a write.
FORBIDDEN_CHARACTERS = re.compile("[\x00\ud800-\udfff]")
# Outside of strings, only these characters open or close a level of nesting.
_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)

PROBLEM_CONTENT_TYPE = "application/problem+json"


class InvalidInput(Exception):
    """Input the product refuses as a whole: answered 400 (or `status`) before anything changes."""

    status = 400
    title = "Invalid input"

    def __init__(self, detail: str, *, status: int | None = None, title: str | None = None):
        super().__init__(detail)
        self.detail = detail
        if status is not None:
            self.status = status
        if title is not None:
            self.title = title


class InvalidJSON(InvalidInput):
    title = "Invalid JSON body"


# The machine code of a refusal made before any domain rule ran, by status (see core.errors).
STATUS_CODES = {
    400: "invalid",
    403: "forbidden",
    404: "not_found",
    413: "too_large",
    415: "unsupported_media",
}


def problem_response(*, status: int, title: str, detail: str, type_: str = "about:blank") -> JsonResponse:
    """An RFC 9457 problem body. `error` repeats `detail` for the product's scripts, which read it;
    `code` is the machine code every problem body of the product carries."""
    code = STATUS_CODES.get(status, "invalid")
    body = {"type": type_, "title": title, "status": status, "detail": detail, "code": code, "error": detail}
    response = JsonResponse(body, status=status, content_type=PROBLEM_CONTENT_TYPE)
    response["Cache-Control"] = "private, no-store"
    return response


def has_forbidden_characters(text: str) -> bool:
    return FORBIDDEN_CHARACTERS.search(text) is not None


def _depth(text: str) -> int:
    deepest = level = 0
    for match in _STRING_OR_BRACKET.finditer(text):
        found = match.group()
        if found in "[{":
            level += 1
            deepest = max(deepest, level)
        elif found in "]}":
            level -= 1
    return deepest


def _refuse_constant(name: str):
    raise InvalidJSON(f"{name} is not a JSON number.")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise InvalidJSON(f"The number {text[:20]} is too large.")
    return value


def _check_strings(value: Any, what: str) -> None:
    """Walk the parsed document without recursion: no NUL or lone surrogate in any key or string."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if has_forbidden_characters(item):
                raise InvalidJSON(f"{what} contains a NUL character or an unpaired surrogate.")
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def json_text(
    raw: bytes | str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
    what: str = "The body",
) -> dict | list:
    """Parse a JSON document that must be an object or an array; InvalidJSON otherwise.

    Strict: UTF-8 only, at most `max_bytes` and `max_depth` levels, no NaN/Infinity,
    no number that overflows, no NUL or lone surrogate in any string (escaped or not).
    """
    size = len(raw) if isinstance(raw, bytes) else len(raw.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise InvalidJSON(f"{what} is larger than {max_bytes} bytes.", status=413, title="Body too large")
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidJSON(f"{what} must be JSON in UTF-8.") from None
    else:
        text = raw
    if not text.strip():
        raise InvalidJSON(f"{what} must be JSON: it is empty.")
    if _depth(text) > max_depth:
        raise InvalidJSON(f"{what} is nested more than {max_depth} levels deep.")
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except InvalidJSON:
        raise
    except (ValueError, RecursionError) as exc:
        # ValueError covers JSONDecodeError and integers longer than Python converts.
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "a value is out of range"
        raise InvalidJSON(f"{what} must be JSON: {reason}.") from None
    if not isinstance(value, dict | list):
        raise InvalidJSON(f"{what} must be a JSON object or array.")
    _check_strings(value, what)
    return value


def json_body(
    request: HttpRequest,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
    empty: dict | list | None = None,
) -> dict | list:
    """The request's JSON body (an object or array); `empty` stands for an empty body if given."""
    raw = request.body
    if not raw.strip() and empty is not None:
        return empty
    return json_text(raw, max_bytes=max_bytes, max_depth=max_depth)
