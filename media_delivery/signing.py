"""CloudFront signed URLs (canned policy) and signed cookies (custom policy), with cryptography.

Keys: ECDSA P-256 (preferred: fast to sign) or RSA-2048, in PEM. Signatures use SHA-256
(`Hash-Algorithm=SHA256`); `hash_algorithm="SHA1"` gives the legacy RSA-SHA1 form that
botocore's CloudFrontSigner makes, which the tests compare byte for byte.

Expiry times are rounded up to a bucket (settings.MEDIA_URL_BUCKET), so within a bucket the
same resource gets the same URL: the browser can cache it, and we reuse the signature
instead of signing again (ADR 0032).
"""

from __future__ import annotations

import base64
import json
import math
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from threading import Lock

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from django.conf import settings


class SigningNotConfigured(RuntimeError):
    pass


def expiry_for(now: float | None = None, *, ttl: int | None = None, bucket: int | None = None) -> int:
    """The epoch second a URL issued now expires: now + TTL, rounded up to the bucket."""
    now = time.time() if now is None else now
    ttl = settings.MEDIA_URL_TTL if ttl is None else ttl
    bucket = max(1, settings.MEDIA_URL_BUCKET if bucket is None else bucket)
    return int(math.ceil((now + ttl) / bucket) * bucket)


def _cf_b64(data: bytes) -> str:
    """CloudFront's URL-safe base64: + -> -, = -> _, / -> ~."""
    return base64.b64encode(data).decode().replace("+", "-").replace("=", "_").replace("/", "~")


def canned_policy(resource: str, expires: int) -> str:
    return json.dumps(
        {"Statement": [{"Resource": resource, "Condition": {"DateLessThan": {"AWS:EpochTime": expires}}}]},
        separators=(",", ":"),
    )


def custom_policy(resource: str, expires: int) -> str:
    # Same shape as the canned one; "custom" because the resource may hold a wildcard and
    # the policy itself travels with the request (CloudFront-Policy cookie).
    return canned_policy(resource, expires)


@dataclass
class CloudFrontSigner:
    key_id: str
    private_key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    hash_algorithm: str = "SHA256"
    cache_size: int = 8192
    _cache: OrderedDict = field(default_factory=OrderedDict, repr=False)
    _lock: Lock = field(default_factory=Lock, repr=False)

    def __post_init__(self) -> None:
        if isinstance(self.private_key, ec.EllipticCurvePrivateKey):
            if not isinstance(self.private_key.curve, ec.SECP256R1):
                raise ValueError("CloudFront accepts ECDSA keys on P-256 only.")
            if self.hash_algorithm != "SHA256":
                raise ValueError("ECDSA keys sign with SHA-256.")
        elif isinstance(self.private_key, rsa.RSAPrivateKey):
            if self.private_key.key_size != 2048:
                raise ValueError("CloudFront accepts RSA keys of 2048 bits only.")
        else:
            raise ValueError("The CloudFront key must be ECDSA P-256 or RSA-2048.")
        if self.hash_algorithm not in ("SHA1", "SHA256"):
            raise ValueError("hash_algorithm is SHA1 or SHA256.")

    def sign(self, message: bytes) -> bytes:
        digest = hashes.SHA256() if self.hash_algorithm == "SHA256" else hashes.SHA1()  # noqa: S303 - CloudFront's legacy form
        if isinstance(self.private_key, ec.EllipticCurvePrivateKey):
            return self.private_key.sign(message, ec.ECDSA(digest))
        return self.private_key.sign(message, padding.PKCS1v15(), digest)

    def _hash_param(self) -> str:
        return "&Hash-Algorithm=SHA256" if self.hash_algorithm == "SHA256" else ""

    def signed_url(self, url: str, *, expires: int) -> str:
        """A canned-policy signed URL; the same (url, expires) returns the cached answer."""
        cache_key = (url, expires)
        with self._lock:
            hit = self._cache.get(cache_key)
            if hit is not None:
                self._cache.move_to_end(cache_key)
                return hit
        signature = _cf_b64(self.sign(canned_policy(url, expires).encode()))
        separator = "&" if "?" in url else "?"
        signed = (
            f"{url}{separator}Expires={expires}&Signature={signature}&Key-Pair-Id={self.key_id}"
            f"{self._hash_param()}"
        )
        with self._lock:
            self._cache[cache_key] = signed
            if len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return signed

    def signed_cookies(self, resource: str, *, expires: int) -> dict[str, str]:
        """Custom-policy cookies for `resource` (may end in `*`): name -> value."""
        policy = custom_policy(resource, expires).encode()
        cookies = {
            "CloudFront-Policy": _cf_b64(policy),
            "CloudFront-Signature": _cf_b64(self.sign(policy)),
            "CloudFront-Key-Pair-Id": self.key_id,
        }
        if self.hash_algorithm == "SHA256":
            cookies["CloudFront-Hash-Algorithm"] = "SHA256"
        return cookies


def load_private_key(pem: bytes):
    return serialization.load_pem_private_key(pem, password=None)


def cloudfront_configured() -> bool:
    return bool(
        settings.CLOUDFRONT_DOMAIN and settings.CLOUDFRONT_KEY_ID and settings.CLOUDFRONT_PRIVATE_KEY_FILE
    )


@lru_cache(maxsize=4)
def _signer_for(key_id: str, key_file: str) -> CloudFrontSigner:
    try:
        pem = Path(key_file).read_bytes()
    except OSError as exc:
        raise SigningNotConfigured(f"CLOUDFRONT_PRIVATE_KEY_FILE {key_file}: {exc.strerror}") from None
    return CloudFrontSigner(key_id=key_id, private_key=load_private_key(pem))


def cloudfront_signer() -> CloudFrontSigner:
    """The signer for the configured key (loaded once per process and key)."""
    if not cloudfront_configured():
        raise SigningNotConfigured(
            "Set CLOUDFRONT_DOMAIN, CLOUDFRONT_KEY_ID and CLOUDFRONT_PRIVATE_KEY_FILE."
        )
    return _signer_for(settings.CLOUDFRONT_KEY_ID, settings.CLOUDFRONT_PRIVATE_KEY_FILE)
