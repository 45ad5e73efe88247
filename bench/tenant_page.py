"""tenant_page_rps: a signed-in learner's page on a tenant host under gunicorn (2 workers).

Baseline, same server, same run: a minimal Django view on the same tenant host (it goes
through the same middleware: tenant lookup, sessions, CSRF).
"""

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.cached_db import SessionStore
from django.core.management import call_command
from django_tenants.utils import schema_context

from bench.common import gunicorn, write_result, wrk
from tenants.models import Tenant

CONNECTIONS = 32
SECONDS = 10


def signed_in_cookie(slug: str, email: str) -> str:
    with schema_context(slug):
        user = get_user_model().objects.get(email=email)
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "accounts.backends.RoleBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def run() -> dict:
    if not Tenant.objects.filter(slug="acme").exists():
        call_command("seed_demo")
    cookie = signed_in_cookie("acme", "learner@acme.test")
    with gunicorn(workers=2) as port:
        base = f"http://127.0.0.1:{port}"
        wrk(f"{base}/bench/minimal", host="acme.localhost", seconds=2)  # warm-up
        wrk(f"{base}/", host="acme.localhost", cookie=cookie, seconds=2)
        baseline = wrk(
            f"{base}/bench/minimal", host="acme.localhost", connections=CONNECTIONS, seconds=SECONDS
        )
        page = wrk(f"{base}/", host="acme.localhost", cookie=cookie, connections=CONNECTIONS, seconds=SECONDS)
    if page["non_2xx"] or baseline["non_2xx"]:
        raise RuntimeError(
            f"non-2xx answers during the run: page {page['non_2xx']}, baseline {baseline['non_2xx']}"
        )
    return write_result(
        "tenant_page_rps",
        page["rps"],
        "requests/s",
        "minimal_django_view_rps",
        baseline["rps"],
        {
            "page": "GET / on acme.localhost, signed in as learner@acme.test",
            "server": "gunicorn, 2 sync workers, DEBUG=False",
            "load": f"wrk, 1 thread, {CONNECTIONS} connections, {SECONDS} s, loopback",
            "page_latency": {k: v for k, v in page.items() if k.startswith("p")},
            "baseline_latency": {k: v for k, v in baseline.items() if k.startswith("p")},
        },
    )
