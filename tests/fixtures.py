"""Two tenants in every test session, users of each role, and helpers to reach them.

The tenants and their users are created once per session and committed, so a live
server thread, a Celery worker or a browser sees them. Each test still runs in a
transaction that is rolled back, so what a test writes disappears after it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

from tenants.models import Tenant

PASSWORD = "correct-horse-battery-2026"


def _ensure_tenant(slug: str, name: str) -> Tenant:
    from accounts.models import User
    from accounts.services import user_create
    from tenants.services import tenant_create

    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None:
        tenant = tenant_create(
            slug=slug, name=name, admin_email=f"admin@{slug}.test", admin_password=PASSWORD
        ).tenant
    with schema_context(tenant.schema_name):
        for role in ("instructor", "learner"):
            if not User.objects.filter(email=f"{role}@{slug}.test").exists():
                user_create(
                    email=f"{role}@{slug}.test",
                    role=role,
                    password=PASSWORD,
                    full_name=f"{role.title()} {name}",
                )
        if slug == "globex":
            # More people in globex than in acme, so some globex ids do not exist in acme.
            for n in range(5):
                if not User.objects.filter(email=f"extra{n}@globex.test").exists():
                    user_create(email=f"extra{n}@globex.test", role="learner", password=PASSWORD)
    return tenant


def _current_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_database()")
        return cursor.fetchone()[0]


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker, request):
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        if not _current_database().startswith("test_"):
            # pytest-django creates the test database only when a selected test uses `db`;
            # a run of browser tests alone needs it too.
            from django.test.utils import setup_databases, teardown_databases

            config = setup_databases(verbosity=0, interactive=False, aliases={"default"})

            def teardown():
                with django_db_blocker.unblock():
                    teardown_databases(config, verbosity=0)

            request.addfinalizer(teardown)
        database = _current_database()
        if not database.startswith("test_"):
            pytest.exit(f"Refusing to write test tenants into database {database!r}: not a test database.", 3)
        # The Redis test database outlives the test database; a new run starts clean.
        from django.core.cache import cache

        cache.clear()
        test_tenants = [_ensure_tenant("acme", "Acme Corp"), _ensure_tenant("globex", "Globex Learning")]
        connection.set_schema_to_public()

    def bucket_left_clean():
        # Runs before the test database goes (finalizers run last-in, first-out).
        with django_db_blocker.unblock():
            left = _objects_left_in_bucket(test_tenants)
        if left and request.session.testsfailed == 0:
            pytest.fail(
                f"The tests left {len(left)} object(s) in the bucket under the test tenants' prefixes "
                f"(now deleted); the test that stores them must delete them: {left[:10]}",
                pytrace=False,
            )

    request.addfinalizer(bucket_left_clean)


def _objects_left_in_bucket(tenants: list[Tenant]) -> list[str]:
    """Keys under the tenants' S3 prefixes, which are new in every run (the tenants' uuids
    are); deletes them so that a failed run does not leave them either."""
    from django_tenants.utils import tenant_context

    from media_delivery.storage import object_keys, objects_delete_prefix
    from tenants.context import storage_prefix

    left = []
    for tenant in tenants:
        with tenant_context(tenant):
            keys = list(object_keys(storage_prefix(tenant)))
            if keys:
                objects_delete_prefix(storage_prefix(tenant))
        left += keys
    connection.set_schema_to_public()
    return left


@pytest.fixture
def tenant(db) -> Tenant:
    return Tenant.objects.get(slug="acme")


@pytest.fixture
def other_tenant(db) -> Tenant:
    return Tenant.objects.get(slug="globex")


@pytest.fixture(autouse=True)
def _back_to_public():
    yield
    connection.set_schema_to_public()


@pytest.fixture(scope="session")
def _cache_writes_seen() -> Iterator[list]:
    """(schema, user id) of every User write, and whether a Tenant or Domain was written."""
    from django.db.models.signals import post_delete, post_save

    from accounts.models import User
    from tenants.models import Domain

    seen: list = []

    def user_written(sender, instance, **_):
        seen.append((connection.schema_name, instance.pk))

    def routing_written(sender, instance, **_):
        seen.append(("routing", None))

    for signal in (post_save, post_delete):
        signal.connect(user_written, sender=User, weak=False, dispatch_uid="test-user-written")
        for model in (Tenant, Domain):
            signal.connect(
                routing_written, sender=model, weak=False, dispatch_uid=f"test-routing-{model.__name__}"
            )
    yield seen


@pytest.fixture(autouse=True)
def _forget_cached_rows_written_by_the_test(_cache_writes_seen):
    """A test's writes roll back without a signal: forget what the caches kept of them (ADR 0050, 0051)."""
    yield
    if not _cache_writes_seen:
        return
    from django.core.cache import cache

    from accounts.cache import user_cache_key
    from tenants.routing import routing_forget_local, routing_token_replace

    for schema, user_id in _cache_writes_seen:
        if schema == "routing":
            routing_forget_local()
            routing_token_replace()
        else:
            with schema_context(schema):
                cache.delete(user_cache_key(user_id))
    _cache_writes_seen.clear()


@pytest.fixture(autouse=True)
def _forget_webhook_listeners():
    """A test's endpoint writes roll back without a signal: the listeners map and version set
    for them must not reach the next test (ADR 0201). Forgotten before each test rather than
    after, when a test's own stand-in for a Redis that is down may still be in place."""
    from webhooks.listeners import listeners_forget

    listeners_forget(["acme", "globex"])


def host_of(tenant: Tenant) -> str:
    return f"{tenant.slug}.localhost"


def client_for(tenant: Tenant | None, *, as_role: str | None = None) -> Client:
    """A test client on the tenant's host (the operator site for None), signed in as a role."""
    host = host_of(tenant) if tenant is not None else "localhost"
    client = Client(HTTP_HOST=host)
    if as_role:
        assert tenant is not None, "only a tenant has users to sign in as"
        response = client.post(
            "/accounts/login/", {"username": f"{as_role}@{tenant.slug}.test", "password": PASSWORD}
        )
        assert response.status_code == 302, f"sign-in as {as_role} on {host} failed"
    return client


@pytest.fixture
def in_tenant(tenant) -> Iterator[Tenant]:
    """Run the test body with the connection set to tenant `acme`."""
    connection.set_tenant(tenant)
    yield tenant
    connection.set_schema_to_public()


@pytest.fixture(scope="session")
def live_server_port(django_db_setup, django_db_blocker) -> Iterator[int]:
    """A threaded HTTP server on 127.0.0.1 serving the project against the committed test data.

    Deliberately not named `live_server`: pytest-django wraps tests using that name in
    `transactional_db`, whose flush would delete the tenant rows in `public`.
    """
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.test.testcases import LiveServerThread

    with django_db_blocker.unblock():
        server = LiveServerThread("127.0.0.1", StaticFilesHandler, connections_override={}, port=0)
        server.daemon = True
        server.start()
        server.is_ready.wait()
        if server.error:
            raise server.error
        yield server.port
        server.terminate()


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium driven by Playwright (never `playwright install`)."""
    from playwright.sync_api import sync_playwright

    chromium = "/usr/bin/chromium"
    if not os.path.exists(chromium):
        pytest.fail("Browser tests need Debian's chromium at /usr/bin/chromium; `make test` installs it.")
    # Playwright's sync API keeps an event loop in this thread; the ORM calls our tests
    # make between page actions never run concurrently with it.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as pw:
        instance = pw.chromium.launch(
            executable_path=chromium,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield instance
        instance.close()


@pytest.fixture
def receiver():
    """A real HTTP receiver of webhooks on a local port (webhooks/tests/receiver.py)."""
    from webhooks.tests.receiver import Receiver

    r = Receiver()
    yield r
    r.stop()


@pytest.fixture
def page(browser, live_server_port):
    """A desktop-sized page in a browser context of its own, closed after the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def site_url(slug: str, port: int, path: str = "/") -> str:
    return f"http://{slug}.localhost:{port}{path}"


def browser_sign_in(
    page, *, slug: str, port: int, email: str, password: str = PASSWORD, wait: bool = True
) -> None:
    """Sign in through the tenant's sign-in page; by default wait for the front page."""
    page.goto(site_url(slug, port, "/accounts/login/"))
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    if wait:
        page.wait_for_url(site_url(slug, port, "/"))
