import uuid

from django.core.validators import RegexValidator
from django.db import models
from django_tenants.models import DomainMixin, TenantMixin

from .slugs import SLUG_MAX_LENGTH, validate_slug

hex_colour = RegexValidator(r"^#[0-9a-fA-F]{6}$", "Give the colour as #RRGGBB, for example #1f6feb.")


class Plan(models.TextChoices):
    FREE = "free", "Free"
    TEAM = "team", "Team"
    BUSINESS = "business", "Business"
    ENTERPRISE = "enterprise", "Enterprise"


class Tenant(TenantMixin):
    """An organization with its own schema, subdomain, branding and users."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    slug = models.CharField(max_length=SLUG_MAX_LENGTH, unique=True, validators=[validate_slug])
    name = models.CharField(max_length=200)
    plan = models.CharField(max_length=20, choices=Plan.choices, default=Plan.FREE)
    is_active = models.BooleanField(default=True, help_text="Suspended tenants answer 403; data is kept.")
    suspended_at = models.DateTimeField(null=True, blank=True)
    suspended_reason = models.CharField(max_length=300, blank=True)
    allow_self_registration = models.BooleanField(
        default=False, help_text="Let visitors create their own learner account on this tenant's site."
    )
    time_zone = models.CharField(max_length=64, default="UTC")

    # Branding
    display_name = models.CharField(
        max_length=200, blank=True, help_text="Shown in headers; defaults to name."
    )
    logo = models.FileField(
        upload_to="branding/", blank=True, help_text="PNG, JPEG, GIF or WebP, up to 1 MB."
    )
    primary_colour = models.CharField(max_length=7, default="#1f6feb", validators=[hex_colour])

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    auto_create_schema = True
    auto_drop_schema = False

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug

    @property
    def brand_name(self) -> str:
        return self.display_name or self.name

    @property
    def is_public(self) -> bool:
        from django_tenants.utils import get_public_schema_name

        return self.schema_name == get_public_schema_name()


class Domain(DomainMixin):
    """A hostname that reaches a tenant: its subdomain, or a custom domain."""

    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain


class SchemaState(models.Model):
    """What `migrate_schemas` last did to one schema (a tenant's or the template).

    `state` is the digest of the migrations the schema is known to have
    (tenants.migration_state); it is written in the transaction that applied them.
    Not a foreign key to Tenant: the template schema has no tenant row.
    """

    schema_name = models.CharField(max_length=63, primary_key=True)
    state = models.CharField(max_length=64, blank=True)
    migrated_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["state"], name="tenants_schemastate_state")]

    def __str__(self) -> str:
        return self.schema_name


class TemplateSchemaDDL(models.Model):
    """The SQL that builds a tenant schema, generated from the template once per migration state.

    Written and read by tenants.schema_ddl only (ADR 0100); one row, replaced when the
    template's applied migrations change.
    """

    fingerprint = models.CharField(max_length=64, unique=True)
    ddl = models.TextField()
    relations = models.PositiveIntegerField(help_text="Relations in the template when generated.")
    generated_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"template DDL {self.fingerprint[:12]}"


class TenantDue(models.Model):
    """ "Tenant X has work on queue Q due at T": one row per tenant and queue, in public.

    Written in the tenant's own transaction (tenants.due.mark_due) next to the work it
    announces, so a sweep finds every tenant with due work in one query instead of visiting
    2,000 schemas. The sweep deletes the row once the tenant has nothing left on the queue.
    """

    schema_name = models.CharField(max_length=63)
    queue = models.CharField(max_length=40)
    due_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["schema_name", "queue"], name="tenants_due_once")]
        indexes = [models.Index(fields=["queue", "due_at"], name="tenants_due_queue_at")]

    def __str__(self) -> str:
        return f"{self.schema_name}:{self.queue} at {self.due_at:%Y-%m-%d %H:%M:%S}"


class RetiredSchema(models.Model):
    """A schema name that once belonged to a tenant, since deleted; one row per name, in public.

    Redis keys that carry only the schema name (every cache key, django_tenants.cache.make_key)
    outlive the schema. A new tenant with this name must not read them, so creating one purges
    the name's keys first; a name with no row here was never a tenant's and has none, and
    creation skips the keyspace scan (ADR 0186). Rows are kept after the purge: a late write by
    the old tenant's last request or task could still leave a key behind.
    """

    schema_name = models.CharField(max_length=63, primary_key=True)
    retired_at = models.DateTimeField()
    # Set when the purge after the delete went through; None while it is pending or failed.
    purged_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.schema_name
