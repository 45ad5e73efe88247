"""System checks: CloudFront is configured completely, with a key CloudFront accepts, or not at all."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register


@register("media_delivery")
def cloudfront_settings(app_configs=None, **kwargs) -> list[Error]:
    names = ("CLOUDFRONT_DOMAIN", "CLOUDFRONT_KEY_ID", "CLOUDFRONT_PRIVATE_KEY_FILE")
    given = [name for name in names if getattr(settings, name, "")]
    if not given:
        return []
    if len(given) != len(names):
        missing = ", ".join(name for name in names if name not in given)
        return [
            Error(
                f"CloudFront is half configured: {missing} missing.",
                hint="Set CLOUDFRONT_DOMAIN, _KEY_ID and _PRIVATE_KEY_FILE together, or none.",
                id="media_delivery.E001",
            )
        ]
    from .signing import SigningNotConfigured, _signer_for

    try:
        _signer_for(settings.CLOUDFRONT_KEY_ID, settings.CLOUDFRONT_PRIVATE_KEY_FILE)
    except (SigningNotConfigured, ValueError, TypeError) as exc:
        return [
            Error(
                f"The CloudFront private key cannot be used: {exc}",
                hint="`manage.py rotate_cloudfront_key --out DIR` makes a P-256 key CloudFront accepts.",
                id="media_delivery.E002",
            )
        ]
    return []
