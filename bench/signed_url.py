"""signed_url_per_s: CloudFront signed URLs per second on one core, as the media redirect makes them.

Workload: 50,000 URLs for 500 distinct objects (a busy tenant's lesson files), with the
expiry computed per call (now + MEDIA_URL_TTL rounded up to MEDIA_URL_BUCKET). The signer
starts with an empty cache, so each object's first URL in the bucket is really signed
(ECDSA P-256, SHA-256) and the rest reuse that signature (ADR 0032).

Baseline, same run: the same count of plain `str.format` URL builds.
The raw signing rates (every URL signed, no reuse) are recorded alongside for ECDSA and RSA.
"""

from __future__ import annotations

import time

from cryptography.hazmat.primitives.asymmetric import ec, rsa

from bench.common import write_result
from media_delivery.signing import CloudFrontSigner, expiry_for

URLS = 50_000
OBJECTS = 500
RAW_SIGNATURES = 2_000
DOMAIN = "d111111abcdef8.cloudfront.net"
TENANT = "3f0c8d52-8f2b-4d3e-9d7e-6a1c2b3d4e5f"
GOAL = 10_000


def _resources() -> list[str]:
    return [f"https://{DOMAIN}/t/{TENANT}/media/{n:08d}-asset/source.mp4" for n in range(OBJECTS)]


def _signed_rate(signer: CloudFrontSigner, resources: list[str]) -> float:
    started = time.perf_counter()
    for n in range(URLS):
        signer.signed_url(resources[n % OBJECTS], expires=expiry_for())
    return URLS / (time.perf_counter() - started)


def _format_rate(resources: list[str]) -> float:
    template = "{url}?Expires={expires}&Signature={signature}&Key-Pair-Id={key}"
    started = time.perf_counter()
    for n in range(URLS):
        template.format(
            url=resources[n % OBJECTS], expires=expiry_for(), signature="x" * 96, key="K2JCJMDEHXQW5F"
        )
    return URLS / (time.perf_counter() - started)


def _raw_rate(key) -> float:
    signer = CloudFrontSigner(key_id="K", private_key=key, cache_size=1)
    started = time.perf_counter()
    for n in range(RAW_SIGNATURES):
        signer.signed_url(f"https://{DOMAIN}/raw/{n}", expires=2_000_000_000 + n)
    return RAW_SIGNATURES / (time.perf_counter() - started)


def run() -> dict:
    resources = _resources()
    ec_key = ec.generate_private_key(ec.SECP256R1())
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    _format_rate(resources)  # warm-up
    runs = [
        _signed_rate(CloudFrontSigner(key_id="K2JCJMDEHXQW5F", private_key=ec_key), resources)
        for _ in range(3)
    ]
    baselines = [_format_rate(resources) for _ in range(3)]
    value, baseline = sorted(runs)[1], sorted(baselines)[1]  # medians of three
    return write_result(
        "signed_url_per_s",
        value,
        "URLs/s",
        "str_format_url_per_s",
        baseline,
        {
            "workload": f"{URLS} canned-policy URLs for {OBJECTS} objects, one core, fresh signer per run "
            "(each object signed once per expiry bucket, then reused)",
            "key": "ECDSA P-256, SHA-256",
            "runs_urls_per_s": [round(r) for r in runs],
            "raw_signing_per_s": {
                "ecdsa_p256": round(_raw_rate(ec_key)),
                "rsa_2048": round(_raw_rate(rsa_key)),
            },
            "goal": f">= {GOAL} URLs/s",
            "goal_met": value >= GOAL,
        },
    )
