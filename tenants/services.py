"""Every write to tenants: create, suspend, resume, delete, add a domain."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.models import TenantMixin
from django_tenants.signals import post_schema_sync
from django_tenants.utils import get_public_schema_name, schema_context, schema_exists

from core.errors import DomainError

from .cache import CachePurgeFailed, schema_purge_if_retired, schema_retire
from .due import forget_schema
from .migration_state import schema_state_copy, schema_state_forget
from .models import Domain, Plan, Tenant
from .schema_ddl import TemplateSchemaUnsupported, schema_create_from_template
from .slugs import schema_name_for, validate_slug

logger = logging.getLogger(__name__)


class TenantError(DomainError):
    """A tenant operation that cannot be done, with a sentence saying what to fix."""


@dataclass(frozen=True)
class TenantCreated:
    tenant: Tenant
    domain: Domain
    admin_id: int
    admin_email: str
    seconds: float


def _clean_email(email: str) -> str:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise TenantError(
            f"'{email}' is not a valid e-mail address; give one like admin@example.com."
        ) from None
    return email


def tenant_validate_new(*, slug: str, name: str, admin_email: str, plan: str = Plan.FREE) -> str:
    """Check the inputs of tenant_create without writing anything; returns the clean email."""
    try:
        validate_slug(slug)
    except ValidationError as exc:
        raise TenantError(exc.messages[0]) from None
    if not (name or "").strip():
        raise TenantError("The tenant name is empty; give the organization's name, e.g. --name 'Acme Corp'.")
    if len(name) > 200:
        raise TenantError("The tenant name is longer than 200 characters; shorten it.")
    if plan not in Plan.values:
        raise TenantError(f"Unknown plan '{plan}'; choose one of: {', '.join(Plan.values)}.")
    email = _clean_email(admin_email)
    if Tenant.objects.filter(slug=slug).exists():
        raise TenantError(f"A tenant with the slug '{slug}' already exists; choose another slug.")
    domain = f"{slug}.{settings.LMS_BASE_DOMAIN}"
    if Domain.objects.filter(domain=domain).exists():
        raise TenantError(f"The domain {domain} is already in use by another tenant.")
    return email


def tenant_create(
    *, slug: str, name: str, admin_email: str, plan: str = Plan.FREE, admin_password: str | None = None
) -> TenantCreated:
    """Create the schema (built from the migrated template), the domain and the first admin.

    One transaction: PostgreSQL DDL is transactional, so a failure at any step leaves
    no schema, tenant row, domain or user behind. The cost does not depend on how many
    tenants exist (ADR 0100): the schema comes from SQL generated once per migration state
    of the template, and, when called outside a transaction, the database connection that
    built it is closed afterwards, because a PostgreSQL backend keeps a cache entry for every
    relation it has touched (~210 per tenant) for as long as it lives.
    """
    outermost = not connection.in_atomic_block
    try:
        with transaction.atomic():
            return _tenant_create(
                slug=slug, name=name, admin_email=admin_email, plan=plan, admin_password=admin_password
            )
    finally:
        if outermost:
            # The next query opens a fresh backend; the caller's transaction, if any, is
            # theirs to keep, so only an autocommit caller's connection is replaced.
            connection.close()


def _tenant_create(
    *, slug: str, name: str, admin_email: str, plan: str, admin_password: str | None
) -> TenantCreated:
    slug = (slug or "").strip()
    email = tenant_validate_new(slug=slug, name=name, admin_email=admin_email, plan=plan)
    if connection.schema_name != get_public_schema_name():
        raise TenantError("Tenants can only be created from the public schema.")

    started = time.perf_counter()
    tenant = Tenant(schema_name=schema_name_for(slug), slug=slug, name=name.strip(), plan=plan)
    if schema_exists(tenant.schema_name):  # an index lookup on pg_namespace, whatever N is
        raise TenantError(
            f"A schema named {tenant.schema_name} already exists in the database without a tenant; "
            "an operator must drop or rename it before this slug can be used."
        )
    try:
        # Cache entries of an earlier tenant of the same name; a name never used costs one
        # indexed query and no keyspace scan (ADR 0186).
        schema_purge_if_retired(schema_name=tenant.schema_name)
    except CachePurgeFailed:
        raise TenantError(
            f"The slug '{slug}' belonged to a deleted tenant whose cache entries must be purged first, "
            "and Redis does not answer; try again when it does."
        ) from None
    from_template = settings.TENANT_CREATION_FAKES_MIGRATIONS
    # Without the template (TENANT_CREATION_FAKES_MIGRATIONS off), django-tenants runs every
    # migration in the new schema: the benchmark's baseline.
    tenant.auto_create_schema = not from_template
    tenant.save(verbosity=0)
    if from_template:
        try:
            schema_create_from_template(schema_name=tenant.schema_name)
        except TemplateSchemaUnsupported as exc:
            raise TenantError(str(exc)) from None
        # The copy has the template's migrations, so migrate_schemas need not ask it (ADR 0105).
        schema_state_copy(source=settings.TENANT_BASE_SCHEMA, target=tenant.schema_name)
        post_schema_sync.send(sender=TenantMixin, tenant=tenant.serializable_fields())
    connection.set_schema_to_public()
    domain = Domain.objects.create(
        domain=f"{slug}.{settings.LMS_BASE_DOMAIN}", tenant=tenant, is_primary=True
    )
    with schema_context(tenant.schema_name):
        # Through Django's user-model contract: `tenants` imports no tenant app.
        admin = get_user_model().objects.create_user(email=email, password=admin_password, role="admin")
    connection.set_schema_to_public()
    seconds = time.perf_counter() - started
    logger.info("tenant.created slug=%s seconds=%.2f", slug, seconds)
    return TenantCreated(tenant=tenant, domain=domain, admin_id=admin.pk, admin_email=email, seconds=seconds)


def tenant_get(*, slug: str) -> Tenant:
    try:
        return Tenant.objects.exclude(schema_name=get_public_schema_name()).get(slug=slug)
    except Tenant.DoesNotExist:
        raise TenantError(f"No tenant has the slug '{slug}'; `manage.py list_tenants` shows them.") from None


@transaction.atomic
def tenant_suspend(*, tenant: Tenant, reason: str = "") -> Tenant:
    """Close the tenant's site (HTTP 403 on every page); nothing is deleted."""
    if not tenant.is_active:
        raise TenantError(f"The tenant '{tenant.slug}' is already suspended.")
    tenant.is_active = False
    tenant.suspended_at = timezone.now()
    tenant.suspended_reason = reason[:300]
    tenant.save(update_fields=["is_active", "suspended_at", "suspended_reason", "updated_at"])
    return tenant


@transaction.atomic
def tenant_resume(*, tenant: Tenant) -> Tenant:
    if tenant.is_active:
        raise TenantError(f"The tenant '{tenant.slug}' is not suspended.")
    tenant.is_active = True
    tenant.suspended_at = None
    tenant.suspended_reason = ""
    tenant.save(update_fields=["is_active", "suspended_at", "suspended_reason", "updated_at"])
    return tenant


@transaction.atomic
def tenant_delete(*, tenant: Tenant, confirm: str) -> None:
    """Drop the tenant's schema and rows. `confirm` must repeat the slug."""
    if tenant.is_public:
        raise TenantError("The public schema is the operator site and cannot be deleted.")
    if confirm != tenant.slug:
        raise TenantError(
            f"Deleting '{tenant.slug}' drops all of its data; "
            f"repeat its slug to confirm: --confirm {tenant.slug}"
        )
    connection.set_schema_to_public()
    schema = tenant.schema_name
    tenant.domains.all().delete()
    tenant.delete(force_drop=True)
    # A record of the dropped schema would list it among failures, or pass for a new namesake's.
    schema_state_forget(schema_names=[schema])
    forget_schema(schema)
    # Its cache keys outlive it: remembered here, purged by a worker after commit (ADR 0186).
    schema_retire(schema_name=schema)


@transaction.atomic
def domain_add(*, tenant: Tenant, domain: str, primary: bool = False) -> Domain:
    """Add a custom hostname (no scheme, no port) that reaches the tenant."""
    domain = (domain or "").strip().lower().rstrip(".")
    if not domain or "/" in domain or ":" in domain or " " in domain:
        raise TenantError(
            f"'{domain}' is not a hostname; give one like learn.example.com (no http://, no port)."
        )
    if Domain.objects.filter(domain=domain).exists():
        raise TenantError(f"The domain {domain} is already in use.")
    if primary:
        tenant.domains.update(is_primary=False)
    return Domain.objects.create(domain=domain, tenant=tenant, is_primary=primary)


def public_tenant_ensure() -> Tenant:
    """The row for the public schema (the operator site) and its domain, kept in step with settings."""
    public_schema = get_public_schema_name()
    tenant = Tenant.objects.filter(schema_name=public_schema).first()
    if tenant is None:
        tenant = Tenant(schema_name=public_schema, slug="public", name="Operator site")
        tenant.auto_create_schema = False
        tenant.save()
    Domain.objects.get_or_create(
        domain=settings.LMS_BASE_DOMAIN, defaults={"tenant": tenant, "is_primary": True}
    )
    return tenant
