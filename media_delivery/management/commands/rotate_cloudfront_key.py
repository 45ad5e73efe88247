from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from media_delivery.signing import (
    CloudFrontSigner,
    SigningNotConfigured,
    cloudfront_configured,
    cloudfront_signer,
    expiry_for,
)

STEPS = """\
Rotation, step by step (CloudFront accepts several public keys in one key group, so old
and new signatures are both valid while the switch happens):

  1. Upload the new public key to CloudFront and note the id it gets:
       aws cloudfront create-public-key --public-key-config \\
         'CallerReference={stamp},Name=lms-{stamp},EncodedKey="$(cat {public})"'
  2. Add that id to the distribution's key group NEXT TO the current one
     (aws cloudfront get-key-group / update-key-group with both ids in Items).
  3. Point the LMS at the new key and restart web and workers:
       CLOUDFRONT_KEY_ID=<new id>
       CLOUDFRONT_PRIVATE_KEY_FILE={private}
     then run `manage.py rotate_cloudfront_key --check`.
  4. Keep the old key in the group until every URL and cookie signed with it has expired:
     the longest lifetime is MEDIA_URL_TTL + MEDIA_URL_BUCKET = {longest} s, so not before
     {retire} (UTC) if step 3 happens now. Then remove the old id from the key group and
     delete the old public key and private key file.
"""


class Command(BaseCommand):
    help = (
        "Rotate the CloudFront signing key: make a new key pair (ECDSA P-256 by default) and print "
        "the steps; --check verifies the configured key signs URLs CloudFront can verify."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--out", help="Directory for the new key files (kept private, mode 600).")
        parser.add_argument("--algorithm", choices=["ecdsa", "rsa"], default="ecdsa")
        parser.add_argument(
            "--check", action="store_true", help="Check the key in the settings, make nothing."
        )

    def handle(self, *args, **options) -> None:
        if options["check"]:
            return self._check()
        if not options["out"]:
            raise CommandError(
                "Give --out DIRECTORY for the new key files, or --check to test the current key."
            )
        out = Path(options["out"])
        if not out.is_dir():
            raise CommandError(f"{out} is not a directory: create it (readable by the LMS only) first.")
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
        key = (
            ec.generate_private_key(ec.SECP256R1())
            if options["algorithm"] == "ecdsa"
            else rsa.generate_private_key(public_exponent=65537, key_size=2048)
        )
        private = out / f"cloudfront-{stamp}.pem"
        public = out / f"cloudfront-{stamp}.pub.pem"
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        descriptor = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
        public.write_bytes(
            key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        longest = settings.MEDIA_URL_TTL + settings.MEDIA_URL_BUCKET
        retire = datetime.fromtimestamp(expiry_for(time.time()), UTC)
        self.stdout.write(
            self.style.SUCCESS(f"New {options['algorithm']} key pair: {private} (private), {public}")
        )
        self.stdout.write(
            STEPS.format(
                stamp=stamp,
                public=public,
                private=private,
                longest=longest,
                retire=retire.strftime("%Y-%m-%d %H:%M"),
            )
        )

    def _check(self) -> None:
        if not cloudfront_configured():
            raise CommandError(
                "CloudFront is not configured (CLOUDFRONT_DOMAIN, CLOUDFRONT_KEY_ID, "
                "CLOUDFRONT_PRIVATE_KEY_FILE): media is served with S3 presigned URLs."
            )
        try:
            signer: CloudFrontSigner = cloudfront_signer()
        except (SigningNotConfigured, ValueError) as exc:
            raise CommandError(f"The CloudFront key cannot be used: {exc}") from None
        message = b"rotate_cloudfront_key --check"
        signature = signer.sign(message)
        public = signer.private_key.public_key()
        if isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(signature, message, ec.ECDSA(hashes.SHA256()))
        else:
            public.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
        self.stdout.write(
            self.style.SUCCESS(
                f"Key {settings.CLOUDFRONT_KEY_ID} signs for {settings.CLOUDFRONT_DOMAIN}; "
                "its signatures verify with its public key."
            )
        )
