"""CloudFront signed URLs and cookies, checked with the public key and against botocore's signer.

CloudFront itself is not reachable here: what we send it is verified instead (signature,
policy JSON, expiry, resource), as CONVENTIONS.md asks for mocks of outside services.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from botocore.signers import CloudFrontSigner as BotocoreSigner
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from media_delivery.signing import CloudFrontSigner, expiry_for

RESOURCE = "https://d111111abcdef8.cloudfront.net/t/3f0c/media/abc/source.mp4"


@pytest.fixture(scope="module")
def ec_key():
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _cf_decode(value: str) -> bytes:
    return base64.b64decode(value.replace("-", "+").replace("_", "=").replace("~", "/"))


def _verify(public_key, signature: bytes, message: bytes, digest) -> None:
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        public_key.verify(signature, message, ec.ECDSA(digest))
    else:
        public_key.verify(signature, message, padding.PKCS1v15(), digest)


@pytest.mark.parametrize("kind", ["ecdsa", "rsa"])
def test_a_signed_url_verifies_with_the_public_key_and_names_the_resource_and_expiry(kind, ec_key, rsa_key):
    key = ec_key if kind == "ecdsa" else rsa_key
    signer = CloudFrontSigner(key_id="K2JCJMDEHXQW5F", private_key=key)
    url = signer.signed_url(RESOURCE, expires=1_900_000_020)
    query = parse_qs(urlsplit(url).query)
    assert url.startswith(RESOURCE + "?Expires=1900000020&Signature=")
    assert query["Key-Pair-Id"] == ["K2JCJMDEHXQW5F"] and query["Hash-Algorithm"] == ["SHA256"]
    policy = json.dumps(
        {
            "Statement": [
                {"Resource": RESOURCE, "Condition": {"DateLessThan": {"AWS:EpochTime": 1_900_000_020}}}
            ]
        },
        separators=(",", ":"),
    ).encode()
    _verify(key.public_key(), _cf_decode(query["Signature"][0]), policy, hashes.SHA256())
    # Another resource or expiry does not verify with this signature.
    with pytest.raises(InvalidSignature):
        _verify(
            key.public_key(),
            _cf_decode(query["Signature"][0]),
            policy.replace(b"abc", b"abd"),
            hashes.SHA256(),
        )
    with pytest.raises(InvalidSignature):
        _verify(
            key.public_key(),
            _cf_decode(query["Signature"][0]),
            policy.replace(b"020", b"999"),
            hashes.SHA256(),
        )


def test_the_rsa_sha1_url_is_byte_for_byte_what_botocore_makes(rsa_key):
    ours = CloudFrontSigner(key_id="APKAEXAMPLE", private_key=rsa_key, hash_algorithm="SHA1")
    theirs = BotocoreSigner(
        "APKAEXAMPLE",
        lambda message: rsa_key.sign(message, padding.PKCS1v15(), hashes.SHA1()),  # noqa: S303
    )
    expires = 1_900_000_000
    expected = theirs.generate_presigned_url(RESOURCE, date_less_than=datetime.fromtimestamp(expires, UTC))
    assert ours.signed_url(RESOURCE, expires=expires) == expected


def test_the_rsa_sha256_url_is_botocores_with_the_hash_algorithm_named(rsa_key):
    ours = CloudFrontSigner(key_id="APKAEXAMPLE", private_key=rsa_key)
    theirs = BotocoreSigner("APKAEXAMPLE", lambda m: rsa_key.sign(m, padding.PKCS1v15(), hashes.SHA256()))
    expected = theirs.generate_presigned_url(
        RESOURCE, date_less_than=datetime.fromtimestamp(1_900_000_000, UTC)
    )
    assert ours.signed_url(RESOURCE, expires=1_900_000_000) == expected + "&Hash-Algorithm=SHA256"


@pytest.mark.parametrize("kind", ["ecdsa", "rsa"])
def test_hls_cookies_carry_a_custom_policy_for_the_folder_that_verifies(kind, ec_key, rsa_key):
    key = ec_key if kind == "ecdsa" else rsa_key
    folder = "https://d111111abcdef8.cloudfront.net/t/3f0c/media/abc/hls/*"
    cookies = CloudFrontSigner(key_id="K2JCJMDEHXQW5F", private_key=key).signed_cookies(
        folder, expires=1_900_000_060
    )
    assert set(cookies) == {
        "CloudFront-Policy",
        "CloudFront-Signature",
        "CloudFront-Key-Pair-Id",
        "CloudFront-Hash-Algorithm",
    }
    policy = _cf_decode(cookies["CloudFront-Policy"])
    statement = json.loads(policy)["Statement"][0]
    assert statement == {"Resource": folder, "Condition": {"DateLessThan": {"AWS:EpochTime": 1_900_000_060}}}
    # The policy is exactly what botocore builds for the same resource and date.
    botocore_policy = BotocoreSigner("x", lambda m: b"").build_policy(
        folder, datetime.fromtimestamp(1_900_000_060, UTC)
    )
    assert policy.decode() == botocore_policy
    _verify(key.public_key(), _cf_decode(cookies["CloudFront-Signature"]), policy, hashes.SHA256())


def test_signatures_are_reused_within_an_expiry_bucket(ec_key):
    signer = CloudFrontSigner(key_id="K", private_key=ec_key)
    first = signer.signed_url(RESOURCE, expires=expiry_for(1_000_000.0, ttl=300, bucket=60))
    second = signer.signed_url(RESOURCE, expires=expiry_for(1_000_010.0, ttl=300, bucket=60))
    later = signer.signed_url(RESOURCE, expires=expiry_for(1_000_090.0, ttl=300, bucket=60))
    assert first == second != later  # ECDSA signatures differ each time they are made


def test_expiry_is_at_least_the_ttl_and_rounded_up_to_the_bucket():
    assert expiry_for(1_000_000.0, ttl=300, bucket=60) == 1_000_320  # 1_000_300 rounded up
    assert expiry_for(1_000_020.0, ttl=300, bucket=60) == 1_000_320
    assert expiry_for(1_000_020.5, ttl=300, bucket=60) == 1_000_380


def test_keys_cloudfront_does_not_accept_are_refused():
    with pytest.raises(ValueError, match="P-256"):
        CloudFrontSigner(key_id="K", private_key=ec.generate_private_key(ec.SECP384R1()))
    with pytest.raises(ValueError, match="2048"):
        CloudFrontSigner(
            key_id="K",
            private_key=rsa.generate_private_key(public_exponent=65537, key_size=1024),  # noqa: S505 - the weak key is the point
        )
