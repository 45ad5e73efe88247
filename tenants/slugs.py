"""What a tenant slug may be, and the schema name it maps to.

A slug is a DNS label (it becomes `<slug>.<base-domain>`) and, with hyphens turned
into underscores, a PostgreSQL schema name. Underscores are not allowed in slugs,
so the mapping is one-to-one.
"""

import re

from django.core.exceptions import ValidationError

SLUG_MAX_LENGTH = 63
_SLUG_RE = re.compile(r"^[a-z](?:[a-z0-9-]*[a-z0-9])?$")

# Hostnames an operator will want for themselves, schema names PostgreSQL or
# django-tenants already use, and words that would confuse users in a URL.
RESERVED_SLUGS = frozenset(
    {
        "admin",
        "api",
        "app",
        "assets",
        "auth",
        "billing",
        "cdn",
        "dashboard",
        "default",
        "docs",
        "ftp",
        "help",
        "information-schema",
        "localhost",
        "login",
        "mail",
        "media",
        "operator",
        "postgres",
        "public",
        "root",
        "smtp",
        "static",
        "status",
        "support",
        "system",
        "tenant-template",
        "test",
        "www",
    }
)


def validate_slug(slug: str) -> None:
    """Raise ValidationError with one sentence saying what to fix."""
    if not slug:
        raise ValidationError("The slug is empty: give a short name such as 'acme'.")
    if len(slug) > SLUG_MAX_LENGTH:
        raise ValidationError(
            f"The slug '{slug[:20]}...' is {len(slug)} characters long; use at most {SLUG_MAX_LENGTH}."
        )
    if not _SLUG_RE.match(slug):
        raise ValidationError(
            f"The slug '{slug}' is not valid: use lowercase letters, digits and hyphens, "
            "starting with a letter and not ending with a hyphen (for example 'acme-training')."
        )
    if "--" in slug:
        raise ValidationError(f"The slug '{slug}' has two hyphens in a row; use single hyphens.")
    if slug in RESERVED_SLUGS or slug.startswith("pg-"):
        raise ValidationError(f"The slug '{slug}' is reserved; choose another name.")


def schema_name_for(slug: str) -> str:
    return slug.replace("-", "_")
