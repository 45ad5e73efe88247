"""Signed URLs for objects the access policy already allowed: CloudFront when configured, else S3.

Callers ask the policy first (see access.access_asset); this module only signs.
Within one expiry bucket the same object gets the same URL (a per-process cache), so a
browser may cache it and the server does not sign it again.
"""

from __future__ import annotations

import math
import re
import time
from collections import OrderedDict
from threading import Lock
from urllib.parse import quote, urlencode

from django.conf import settings

from . import storage
from .signing import cloudfront_configured, cloudfront_signer, expiry_for

_S3_CACHE: OrderedDict = OrderedDict()
_S3_LOCK = Lock()
_S3_CACHE_SIZE = 8192


def signed_object_url(key: str, *, filename: str | None = None, now: float | None = None) -> str:
    """A URL for one object of the active tenant, valid until the current expiry bucket ends."""
    now = time.time() if now is None else now
    expires = expiry_for(now)
    if cloudfront_configured():
        # CloudFront serves the object's stored metadata (set by the server when it stored or
        # verified the object); the same response-* pins travel along for an origin request
        # policy that forwards them to S3 (ADR 0060).
        headers = storage.response_headers(
            key, filename=filename or key.rsplit("/", 1)[-1], download=bool(filename)
        )
        url = f"https://{settings.CLOUDFRONT_DOMAIN}/{quote(key)}?" + urlencode(
            {
                "response-content-type": headers["ResponseContentType"],
                "response-content-disposition": headers["ResponseContentDisposition"],
            },
            quote_via=quote,
        )
        return cloudfront_signer().signed_url(url, expires=expires)
    cache_key = (key, filename, expires)
    with _S3_LOCK:
        hit = _S3_CACHE.get(cache_key)
        if hit is not None:
            return hit
    # storage.presigned_get checks the key against the active tenant's prefix.
    url = storage.presigned_get(key, expires_in=math.ceil(expires - now), filename=filename)
    with _S3_LOCK:
        _S3_CACHE[cache_key] = url
        if len(_S3_CACHE) > _S3_CACHE_SIZE:
            _S3_CACHE.popitem(last=False)
    return url


def hls_cookies(hls_prefix: str, *, now: float | None = None) -> tuple[dict[str, str], str, int]:
    """CloudFront signed cookies for an HLS folder: (cookies, cookie path, expires epoch).

    The policy's resource is the folder with a wildcard; the cookie path is the folder too,
    so two videos (or two tenants) never overwrite each other's cookies.
    """
    expires = expiry_for(now)
    folder = "/" + quote(hls_prefix.rstrip("/")) + "/"
    resource = f"https://{settings.CLOUDFRONT_DOMAIN}{folder}*"
    return cloudfront_signer().signed_cookies(resource, expires=expires), folder, expires


_URI_LINE = re.compile(r"^(?!#)(\S+)$")


def rewrite_playlist(text: str, *, sign, rename=None) -> str:
    """A media playlist with each segment line replaced by `sign(segment name)`.

    Master playlists name variant playlists; `rename(name)` maps those to app URLs.
    Lines that are tags or comments stay as they are. Names with a path are refused.
    """
    out = []
    for line in text.splitlines():
        match = _URI_LINE.match(line.strip())
        if match and line.strip():
            name = match.group(1)
            if "/" in name or ".." in name or ":" in name:
                raise ValueError(f"Unexpected playlist entry {name!r}.")
            out.append(rename(name) if (rename and name.endswith(".m3u8")) else sign(name))
        else:
            out.append(line)
    return "\n".join(out) + "\n"
