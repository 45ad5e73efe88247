import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import schema_context, schema_exists

from tenants.models import Domain, Tenant

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def _footprint() -> tuple:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace ORDER BY 1")
        schemas = [row[0] for row in cursor.fetchall()]
    return (
        schemas,
        list(Tenant.objects.values_list("slug", flat=True)),
        list(Domain.objects.values_list("domain")),
    )


def _nothing_left_for(slug: str) -> None:
    schema = slug.replace("-", "_")
    assert not Tenant.objects.filter(slug=slug).exists()
    assert not Domain.objects.filter(domain__startswith=f"{slug}.").exists()
    assert not schema_exists(schema)


def test_create_tenant_clones_the_template_and_makes_the_first_admin(db):
    out = _run(
        "create_tenant", "--slug", "initech", "--name", "Initech", "--admin-email", "Boss@Initech.test"
    )
    tenant = Tenant.objects.get(slug="initech")
    assert schema_exists("initech")
    assert Domain.objects.get(tenant=tenant).domain == f"initech.{settings.LMS_BASE_DOMAIN}"
    with schema_context("initech"):
        admin = get_user_model().objects.get()
        assert admin.email == "boss@initech.test"
        assert admin.role == "admin"
        assert admin.can_use_admin
        assert not admin.has_usable_password()
        # The clone carries the migration history, so the tenant is up to date.
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM initech.django_migrations WHERE app = 'accounts'")
            assert cursor.fetchone()[0] >= 1
    assert "/accounts/reset/" in out
    assert "initech.localhost" in out


@pytest.mark.parametrize(
    ("slug", "name", "email", "message"),
    [
        ("Acme2", "Acme", "a@a.test", "not valid"),
        ("has space", "Acme", "a@a.test", "not valid"),
        ("www", "Acme", "a@a.test", "reserved"),
        ("admin", "Acme", "a@a.test", "reserved"),
        ("api", "Acme", "a@a.test", "reserved"),
        ("public", "Acme", "a@a.test", "reserved"),
        ("x" * 64, "Acme", "a@a.test", "at most 63"),
        ("trailing-", "Acme", "a@a.test", "not valid"),
        ("good-slug", "Acme", "not-an-email", "not a valid e-mail"),
        ("good-slug", "   ", "a@a.test", "name is empty"),
    ],
)
def test_create_tenant_refuses_bad_input_and_leaves_nothing(db, slug, name, email, message):
    before = _footprint()
    with pytest.raises(CommandError, match=message):
        _run("create_tenant", "--slug", slug, "--name", name, "--admin-email", email)
    assert _footprint() == before


def test_create_tenant_twice_fails_cleanly(tenant):
    with schema_context(tenant.schema_name):
        users = get_user_model().objects.count()
    with pytest.raises(CommandError, match="already exists"):
        _run("create_tenant", "--slug", "acme", "--name", "Again", "--admin-email", "x@acme.test")
    assert Tenant.objects.filter(slug="acme").count() == 1
    with schema_context(tenant.schema_name):
        assert get_user_model().objects.count() == users


def test_create_tenant_failure_after_the_schema_clone_leaves_nothing(db, monkeypatch):
    """A failure after the schema exists (here: writing the domain) rolls the schema back too."""
    from tenants import services

    def refuse(**kwargs):
        raise RuntimeError("domain table unavailable")

    monkeypatch.setattr(services.Domain.objects, "create", refuse)
    with pytest.raises(RuntimeError):
        services.tenant_create(slug="halfway", name="Half", admin_email="a@half.test")
    _nothing_left_for("halfway")


def test_bad_input_exits_with_status_1_and_one_sentence():
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "create_tenant",
            "--slug",
            "WWW",
            "--name",
            "x",
            "--admin-email",
            "a@b.test",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "not valid" in result.stderr
    assert "Traceback" not in result.stderr


def test_delete_tenant_refuses_without_matching_confirmation(tenant):
    for confirm in ([], ["--confirm", "globex"], ["--confirm", "ACME"]):
        with pytest.raises(CommandError, match="repeat its slug"):
            _run("delete_tenant", "--slug", "acme", *confirm)
    assert schema_exists("acme")
    assert Tenant.objects.filter(slug="acme").exists()


def test_delete_tenant_drops_schema_domain_and_row(db):
    _run("create_tenant", "--slug", "doomed", "--name", "Doomed", "--admin-email", "a@doomed.test")
    out = _run("delete_tenant", "--slug", "doomed", "--confirm", "doomed")
    assert "dropped" in out
    _nothing_left_for("doomed")


def test_delete_unknown_tenant_says_how_to_find_slugs(db):
    with pytest.raises(CommandError, match="list_tenants"):
        _run("delete_tenant", "--slug", "nobody", "--confirm", "nobody")


def test_suspend_and_resume_commands(tenant):
    assert "Suspended" in _run("suspend_tenant", "--slug", "acme", "--reason", "unpaid invoice")
    tenant.refresh_from_db()
    assert not tenant.is_active and tenant.suspended_reason == "unpaid invoice"
    with pytest.raises(CommandError, match="already suspended"):
        _run("suspend_tenant", "--slug", "acme")
    assert "Resumed" in _run("resume_tenant", "--slug", "acme")
    tenant.refresh_from_db()
    assert tenant.is_active and tenant.suspended_at is None


def test_list_tenants_shows_slug_domain_users_and_state(tenant, other_tenant):
    from tenants.services import tenant_suspend

    tenant_suspend(tenant=other_tenant)
    out = _run("list_tenants")
    lines = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert "acme.localhost" in lines["acme"] and "active" in lines["acme"]
    assert "suspended" in lines["globex"]
    assert lines["acme"].split()[2] == "3"
    assert "public" not in lines
    assert out.splitlines()[-1] == "Page 1 of 1 (2 tenants)."


def test_list_tenants_pages_and_searches(tenant, other_tenant):
    first = _run("list_tenants", "--per-page", "1")
    assert "acme" in first and "globex" not in first
    assert first.splitlines()[-1] == "Page 1 of 2 (2 tenants). Next: --page 2"
    second = _run("list_tenants", "--per-page", "1", "--page", "2")
    assert "globex" in second and "acme " not in second
    assert "globex" in _run("list_tenants", "--search", "GLOB") and "acme" not in _run(
        "list_tenants", "--search", "glob"
    )
    assert "No tenant's slug or name contains 'zzz'" in _run("list_tenants", "--search", "zzz")
    with pytest.raises(CommandError, match="ask for --page 2 or less"):
        _run("list_tenants", "--per-page", "1", "--page", "3")
    with pytest.raises(CommandError, match="--per-page between"):
        _run("list_tenants", "--per-page", "0")


def test_list_tenants_counts_people_without_switching_schema(
    tenant, other_tenant, django_assert_max_num_queries
):
    # search_path, count, the page, its domains, one UNION for the people: not one per tenant.
    with django_assert_max_num_queries(5):
        _run("list_tenants")


def test_report_catalog_reports_growth_per_tenant(tenant):
    out = _run("report_catalog")
    assert "Tenants: " in out
    relations = int(out.split("Per tenant schema (from tenant_template): ")[1].split(" relations")[0])
    assert relations > 100
    assert "pg_attribute" in out and "Database:" in out


def test_add_domain_routes_a_custom_hostname(tenant):
    from tests.fixtures import client_for

    _run("add_domain", "--slug", "acme", "--domain", "learn.acme.localhost")
    response = client_for(None).get("/", HTTP_HOST="learn.acme.localhost")
    assert response.status_code == 200
    assert response.wsgi_request.tenant.slug == "acme"
    with pytest.raises(CommandError, match="already in use"):
        _run("add_domain", "--slug", "globex", "--domain", "learn.acme.localhost")
    with pytest.raises(CommandError, match="not a hostname"):
        _run("add_domain", "--slug", "acme", "--domain", "https://x.test/")


def test_template_schema_is_migrated_and_public_has_no_tenant_tables(db):
    assert schema_exists(settings.TENANT_BASE_SCHEMA)
    with connection.cursor() as cursor:
        cursor.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
        public_tables = {row[0] for row in cursor.fetchall()}
    # Every table of every tenant-only app (read from the app registry, so a new app is covered).
    tenant_only = {
        model._meta.db_table
        for label in set(settings.TENANT_APPS) - set(settings.SHARED_APPS)
        for model in apps.get_app_config(label.rsplit(".", 1)[-1]).get_models(include_auto_created=True)
    }
    assert {"assessments_attempt", "media_delivery_mediaasset", "courses_course_instructors"} <= tenant_only
    assert not public_tables & tenant_only, public_tables & tenant_only
    assert "tenants_tenant" in public_tables
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM information_schema.tables"
            " WHERE table_schema = %s AND table_name = 'tenants_tenant'",
            ["acme"],
        )
        assert cursor.fetchone()[0] == 0


def test_migrations_are_complete():
    result = subprocess.run(
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
