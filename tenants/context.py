"""The current tenant, and every key outside PostgreSQL that must carry it.

Cache keys made through Django's cache already carry the schema (KEY_FUNCTION is
django_tenants.cache.make_key). Anything else stored outside the tenant's schema
(Redis streams, raw Redis keys, S3 objects) builds its key here, from the tenant's
uuid, so two tenants can never address the same key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import connection
from django_tenants.utils import get_public_schema_name

if TYPE_CHECKING:
    from .models import Tenant


class NoTenantActive(RuntimeError):
    """Raised when tenant-scoped work runs while the connection is on `public`."""


def current_tenant() -> Tenant | None:
    """The tenant the database connection is set to, or None on the public schema."""
    from .models import Tenant

    tenant = getattr(connection, "tenant", None)
    if tenant is None or connection.schema_name == get_public_schema_name():
        return None
    if not isinstance(tenant, Tenant):
        # schema_context() installs a stand-in object that has only the schema name.
        tenant = Tenant.objects.get(schema_name=connection.schema_name)
    return tenant


def require_tenant() -> Tenant:
    tenant = current_tenant()
    if tenant is None:
        raise NoTenantActive("This needs a tenant, but the connection is on the public schema.")
    return tenant


def tenant_key(*parts: object, tenant: Tenant | None = None, one_slot: bool = False) -> str:
    """A Redis key scoped to a tenant: `t:<uuid>:part:part`.

    `one_slot`: `t:{<uuid>}:part:part`, a Redis Cluster hash tag, so the keys one command or
    script uses together (all built this way) share a slot (ADR 0111)."""
    tenant = tenant or require_tenant()
    site = f"{{{tenant.uuid}}}" if one_slot else str(tenant.uuid)
    return ":".join(["t", site, *map(str, parts)])


def storage_prefix(tenant: Tenant | None = None) -> str:
    """The S3 key prefix of a tenant: `t/<uuid>/` (uuid, not schema name, so renames are safe)."""
    tenant = tenant or require_tenant()
    return f"t/{tenant.uuid}/"


def host_for(tenant: Tenant) -> str:
    """The tenant's primary hostname, falling back to <slug>.<base-domain>."""
    primary = next((d for d in tenant.domains.all() if d.is_primary), None)
    return primary.domain if primary else f"{tenant.slug}.{settings.LMS_BASE_DOMAIN}"


def absolute_url(host: str, path: str = "/") -> str:
    port = f":{settings.LMS_SITE_PORT}" if settings.LMS_SITE_PORT else ""
    return f"{settings.LMS_SITE_SCHEME}://{host}{port}{path}"


def tenant_url(tenant: Tenant, path: str = "/") -> str:
    return absolute_url(host_for(tenant), path)
