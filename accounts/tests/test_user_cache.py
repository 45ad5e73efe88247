"""The signed-in person is cached (ADR 0050) without delaying any change to them by a request."""

from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.cached_db import SessionStore
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from accounts.cache import user_cache_key, user_get_cached
from accounts.models import Role
from accounts.services import user_set_active, user_set_role
from tests.fixtures import client_for

User = get_user_model()


def _user_queries(client, path="/") -> int:
    with CaptureQueriesContext(connection) as queries:
        client.get(path)
    return sum('FROM "accounts_user"' in q["sql"] for q in queries.captured_queries)


def test_a_signed_in_request_reads_the_person_from_the_cache(tenant):
    client = client_for(tenant, as_role="learner")
    client.get("/")  # signing in wrote last_login: this request caches the person again
    assert _user_queries(client) == 0
    with schema_context(tenant.schema_name):
        learner = User.objects.get(email="learner@acme.test")
        assert cache.get(user_cache_key(learner.pk)).email == "learner@acme.test"


def test_a_role_change_applies_on_the_next_request(tenant):
    client = client_for(tenant, as_role="learner")
    assert client.get("/admin/").status_code == 302  # learners are refused the admin
    client.get("/")
    with schema_context(tenant.schema_name):
        admin = User.objects.get(email="admin@acme.test")
        learner = User.objects.get(email="learner@acme.test")
        user_set_role(actor=admin, user=learner, role=Role.INSTRUCTOR)
    assert client.get("/admin/").status_code == 200
    with schema_context(tenant.schema_name):
        user_set_role(actor=admin, user=learner, role=Role.LEARNER)
    assert client.get("/admin/").status_code == 302


def test_a_deactivated_person_is_signed_out_on_the_next_request(tenant):
    client = client_for(tenant, as_role="instructor")
    assert client.get("/").context["user"].is_authenticated
    with schema_context(tenant.schema_name):
        admin = User.objects.get(email="admin@acme.test")
        instructor = User.objects.get(email="instructor@acme.test")
        user_set_active(actor=admin, user=instructor, active=False)
    assert client.get("/").context["user"].is_anonymous


def test_a_new_password_ends_other_sessions_on_the_next_request(tenant):
    client = client_for(tenant, as_role="learner")
    assert client.get("/").context["user"].is_authenticated
    with schema_context(tenant.schema_name):
        learner = User.objects.get(email="learner@acme.test")
        learner.set_password("a-different-pass-2026")
        learner.save()
    assert client.get("/").context["user"].is_anonymous


def test_the_cached_person_is_per_tenant(tenant, other_tenant):
    """User ids repeat across schemas; the cache key carries the schema, so acme's never answers globex."""
    with schema_context(tenant.schema_name):
        acme_learner = User.objects.get(email="learner@acme.test")
        assert user_get_cached(acme_learner.pk).email == "learner@acme.test"
        acme_key = cache.make_key(user_cache_key(acme_learner.pk))
    with schema_context(other_tenant.schema_name):
        globex_key = cache.make_key(user_cache_key(acme_learner.pk))
        same_id = user_get_cached(acme_learner.pk)
        assert same_id is None or same_id.email.endswith("@globex.test")
    assert acme_key.startswith(f"{tenant.schema_name}:")
    assert globex_key.startswith(f"{other_tenant.schema_name}:")


def test_an_acme_session_key_does_not_authenticate_on_globex(tenant, other_tenant):
    """The session store and its cache entry live in the tenant's schema and key namespace."""
    acme = client_for(tenant, as_role="learner")
    session_key = acme.cookies["sessionid"].value
    with schema_context(tenant.schema_name):
        assert SessionStore(session_key).load()  # known where it was issued
        acme_entry = cache.make_key(SessionStore.cache_key_prefix + session_key)
    assert acme_entry.startswith(f"{tenant.schema_name}:")
    with schema_context(other_tenant.schema_name):
        assert SessionStore(session_key).load() == {}
    globex = client_for(other_tenant)
    globex.cookies["sessionid"] = session_key
    assert globex.get("/").context["user"].is_anonymous
    assert globex.get("/learning/").status_code == 302


def test_a_cache_outage_falls_back_to_the_database(tenant, monkeypatch):
    def unavailable(*args, **kwargs):
        raise ConnectionError("redis is down")

    with schema_context(tenant.schema_name):
        learner = User.objects.get(email="learner@acme.test")
        monkeypatch.setattr(cache, "get", unavailable)
        assert user_get_cached(learner.pk) == learner
    assert user_get_cached("not-a-number") is None
