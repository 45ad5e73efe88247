from io import StringIO

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django_tenants.utils import schema_context

from tenants.models import Tenant

User = get_user_model()


def _counts():
    counts = {"public": User.objects.count()}
    for tenant in Tenant.objects.exclude(schema_name="public"):
        with schema_context(tenant.schema_name):
            counts[tenant.slug] = sorted(User.objects.values_list("email", "role"))
    return counts


def test_seed_demo_creates_the_demo_tenants_and_is_safe_to_run_twice(db):
    Tenant.objects.filter(slug="globex").first().delete(force_drop=True)  # start one tenant from scratch
    out = StringIO()
    call_command("seed_demo", stdout=out)
    first = _counts()
    call_command("seed_demo", stdout=StringIO())
    assert _counts() == first
    assert "http://acme.localhost:8000/" in out.getvalue()
    assert "demo-pass-2026" in out.getvalue()
    globex = Tenant.objects.get(slug="globex")
    assert globex.primary_colour == "#047857"
    with schema_context("globex"):
        for role in ("admin", "instructor", "learner"):
            user = User.objects.get(email=f"{role}@globex.test")
            assert user.role == role and user.check_password("demo-pass-2026")
    assert User.objects.get(email="operator@lms.test").is_superuser
