"""Nothing of one tenant is reachable from another."""

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django_tenants.utils import schema_context

from tenants.context import storage_prefix, tenant_key
from tests.fixtures import PASSWORD, client_for

User = get_user_model()


def test_a_user_of_acme_cannot_sign_in_on_globex(tenant, other_tenant):
    response = client_for(other_tenant).post(
        "/accounts/login/", {"username": "admin@acme.test", "password": PASSWORD}
    )
    assert response.status_code == 200
    assert response.context["user"].is_anonymous


def test_an_acme_session_cookie_is_anonymous_on_globex(tenant, other_tenant):
    acme = client_for(tenant, as_role="admin")
    session_cookie = acme.cookies["sessionid"]
    assert session_cookie["domain"] == ""  # host-only
    globex = client_for(other_tenant)
    globex.cookies["sessionid"] = session_cookie.value
    response = globex.get("/")
    assert response.context["user"].is_anonymous
    assert globex.get("/admin/").status_code == 302
    # The same cookie still works where it was issued.
    assert acme.get("/admin/").status_code == 200


def test_csrf_cookie_is_host_only(tenant):
    response = client_for(tenant).get("/accounts/login/")
    assert response.cookies["csrftoken"]["domain"] == ""


def test_cache_keys_differ_per_tenant(tenant, other_tenant):
    with schema_context(tenant.schema_name):
        cache.set("greeting", "hello from acme", 30)
        acme_key = cache.make_key("greeting")
    with schema_context(other_tenant.schema_name):
        assert cache.get("greeting") is None
        assert cache.make_key("greeting") != acme_key
    with schema_context(tenant.schema_name):
        assert cache.get("greeting") == "hello from acme"
        cache.delete("greeting")


def test_redis_and_storage_keys_carry_the_tenant(tenant, other_tenant):
    assert tenant_key("events", tenant=tenant) != tenant_key("events", tenant=other_tenant)
    assert storage_prefix(tenant) == f"t/{tenant.uuid}/"
    assert storage_prefix(tenant) != storage_prefix(other_tenant)


def test_acme_admin_sees_only_acme_people(tenant, other_tenant):
    client = client_for(tenant, as_role="admin")
    page = client.get("/admin/accounts/user/").content.decode()
    assert "learner@acme.test" in page
    assert "globex.test" not in page
    assert "0 users" in client.get("/admin/accounts/user/?q=globex").content.decode()
    with schema_context(other_tenant.schema_name):
        globex_only_ids = set(User.objects.values_list("pk", flat=True))
    with schema_context(tenant.schema_name):
        globex_only_ids -= set(User.objects.values_list("pk", flat=True))
    assert globex_only_ids, "fixture must give globex ids that acme lacks"
    response = client.get(f"/admin/accounts/user/{max(globex_only_ids)}/change/", follow=True)
    assert "globex.test" not in response.content.decode()
    assert "doesn\u2019t exist" in response.content.decode() or response.status_code == 404


def test_tenant_admin_cannot_reach_tenants_or_operator_models(tenant):
    client = client_for(tenant, as_role="admin")
    assert client.get("/admin/tenants/tenant/").status_code == 404
    assert client.get("/admin/auth/group/").status_code == 404


def test_operator_admin_is_not_served_on_tenant_hosts_and_tenant_admin_not_on_root(tenant):
    # On the root domain only operators (superusers of the public schema) get in.
    response = client_for(None).post(
        "/admin/login/", {"username": "admin@acme.test", "password": PASSWORD, "next": "/admin/"}
    )
    assert response.status_code == 200  # form redisplayed: no such operator
    assert connection.schema_name == "public"


def test_a_recreated_tenant_never_reads_the_cache_of_its_deleted_namesake(
    db, django_capture_on_commit_callbacks
):
    from tenants.services import tenant_create, tenant_delete

    first = tenant_create(slug="phoenix", name="Phoenix", admin_email="a@phoenix.test").tenant
    with schema_context("phoenix"):
        cache.set("course-outline:1", "the old tenant's outline", 300)
    with django_capture_on_commit_callbacks(execute=True):
        tenant_delete(tenant=first, confirm="phoenix")
    with schema_context("public"):
        tenant_create(slug="phoenix", name="Phoenix again", admin_email="a@phoenix.test")
    with schema_context("phoenix"):
        assert cache.get("course-outline:1") is None


def test_creating_a_tenant_purges_leftovers_even_if_the_delete_could_not(db):
    from tenants.services import tenant_create, tenant_delete

    first = tenant_create(slug="ghost", name="Ghost", admin_email="a@ghost.test").tenant
    with schema_context("ghost"):
        cache.set("stale", "left by a tenant deleted while Redis was down", 300)
    tenant_delete(tenant=first, confirm="ghost")  # never committed: its purge never ran
    tenant_create(slug="ghost", name="Ghost", admin_email="a@ghost.test")
    with schema_context("ghost"):
        assert cache.get("stale") is None


def _search_path() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW search_path")
        return cursor.fetchone()[0]


def test_a_rolled_back_first_query_cannot_leave_the_connection_on_another_schema(tenant, other_tenant):
    """With TENANT_LIMIT_SET_CALLS the search_path is set once; a rollback undoes that SET in PostgreSQL."""
    from django.db import transaction

    connection.set_tenant(tenant)
    assert _search_path().startswith("acme")
    connection.set_tenant(other_tenant)
    try:
        with transaction.atomic():
            assert _search_path().startswith("globex")  # the SET for globex happens inside this block
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    # PostgreSQL reverted the SET; django-tenants must notice and set globex again, not run on acme.
    assert _search_path().startswith("globex")
    with schema_context(other_tenant.schema_name):
        assert User.objects.filter(email="extra0@globex.test").exists()


def test_requests_alternating_between_tenants_on_one_connection_stay_apart(tenant, other_tenant):
    for _ in range(3):
        for current, email in ((tenant, "learner@acme.test"), (other_tenant, "learner@globex.test")):
            response = client_for(current, as_role="learner").get("/learning/")
            assert response.wsgi_request.user.email == email


def test_a_learners_cached_state_never_crosses_tenants_even_with_equal_ids(tenant, other_tenant):
    from courses.tests.factories import make_course
    from enrollments.cache import learner_state
    from enrollments.services import enrollment_create

    with schema_context(tenant.schema_name):
        acme_learner = User.objects.get(email="learner@acme.test")
        acme_course = make_course(slug="twin")
        enrollment_create(user=acme_learner, course=acme_course)
        assert learner_state(user=acme_learner, course=acme_course)[0] is not None  # now cached
    with schema_context(other_tenant.schema_name):
        # A globex person and course that carry the same ids as acme's.
        twin_user = User(pk=acme_learner.pk, email="twin@globex.test")
        twin_course = type(acme_course)(pk=acme_course.pk)
        enrollment, rows = learner_state(user=twin_user, course=twin_course)
        assert enrollment is None and rows == []
