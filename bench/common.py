"""Shared pieces of the benchmarks: results JSON, a gunicorn server, wrk load."""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.cached_db import SessionStore
from django.test.utils import override_settings
from django_tenants.utils import schema_context

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
BENCH_SECRET = "bench-only-" + "k" * 60
BENCH_TENANT = "perf"
BENCH_PASSWORD = "bench-pass-2026"  # noqa: S105 - a throwaway account in the benchmark tenant


def machine() -> dict:
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}


def write_result(
    name: str, value: float, unit: str, baseline_name: str, baseline_value: float, conditions: dict
) -> dict:
    result = {
        "name": name,
        "value": round(value, 4),
        "unit": unit,
        "baseline": {"name": baseline_name, "value": round(baseline_value, 4)},
        "ratio": round(value / baseline_value, 4) if baseline_value else None,
        "conditions": {
            **conditions,
            "machine": machine(),
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        },
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return result


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def production_env(**extra: str) -> dict:
    """The environment of a production-like server (DEBUG off) on plain HTTP loopback."""
    env = dict(os.environ)
    env.pop("PYTEST_VERSION", None)
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DEBUG="False",
        SECRET_KEY=BENCH_SECRET,
        ALLOWED_HOSTS=".localhost,localhost",
        LMS_BASE_DOMAIN="localhost",
        SECURE_SSL_REDIRECT="False",
        LOG_LEVEL="WARNING",
    )
    env.update(_service_urls())
    env.update(extra)
    return env


def _service_urls() -> dict:
    """The services the development settings resolved (production settings skip .data/services.env)."""
    from django.conf import settings

    names = [
        "DATABASE_URL",
        "REDIS_URL",
        "S3_ENDPOINT_URL",
        "S3_ACCESS_KEY_ID",
        "S3_SECRET_ACCESS_KEY",
        "S3_BUCKET",
    ]
    return {name: str(getattr(settings, name)) for name in names}


@contextmanager
def gunicorn(workers: int = 2, threads: int = 1, app: str = "lms.wsgi:application"):
    port = free_port()
    cmd = [
        str(Path(sys.executable).with_name("gunicorn")),
        app,
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--log-level",
        "warning",
        "--access-logfile",
        "-" if os.environ.get("BENCH_ACCESS_LOG") else "/dev/null",
    ]
    # DEBUG=False serves hashed static names from the collectstatic manifest.
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=production_env(),
        check=True,
    )
    proc = subprocess.Popen(cmd, cwd=ROOT, env=production_env(), stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                req = urllib.request.Request(
                    f"http://127.0.0.1:{port}/bench/minimal", headers={"Host": f"{BENCH_TENANT}.localhost"}
                )
                urllib.request.urlopen(req, timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not start; run it by hand to see why") from None
                time.sleep(0.2)
        yield port
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def wrk(
    url: str,
    *,
    host: str,
    cookie: str | None = None,
    connections: int = 32,
    seconds: int = 10,
    threads: int = 1,
    script: str | None = None,
    headers: dict[str, str] | None = None,
) -> dict:
    """Run wrk on the second core and parse requests/s and latency percentiles (ms)."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed: `apt-get install wrk` (make bench does it).")
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "-H", f"Host: {host}"]
    if cookie:
        cmd += ["-H", f"Cookie: {cookie}"]
    for name, value in (headers or {}).items():
        cmd += ["-H", f"{name}: {value}"]
    if script:
        cmd += ["-s", script]  # a Lua script that builds each request (bench/quiz_submit.py)
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    done = re.search(r"(\d+) requests in", out)
    latencies = {}
    for pct, value, unit in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M):
        factor = {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
        latencies[f"p{pct}_ms"] = round(float(value) * factor, 2)
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    return {
        "rps": rps,
        "requests": int(done.group(1)) if done else None,
        **latencies,
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": errors.group(0) if errors else "",
        "connections": connections,
        "seconds": seconds,
    }


def signed_in_cookie(slug: str, email: str) -> str:
    """A session cookie the benchmark server accepts for `email`.

    The server runs with the benchmark's SECRET_KEY, which signs session data and the
    user's session hash; a session made with the development key would be thrown away
    and the learner served as an anonymous visitor (a 403 on the lesson page).
    """
    with schema_context(slug), override_settings(SECRET_KEY=BENCH_SECRET):
        user = get_user_model().objects.get(email=email)
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "accounts.backends.RoleBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def check_signed_in(port: int, path: str, *, host: str, cookie: str) -> None:
    """Fail loudly unless the server answers `path` to this cookie as a signed-in person."""
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Host": host, "Cookie": cookie})
    with urllib.request.urlopen(req, timeout=10) as response:
        body = response.read().decode()
    if response.status != 200 or "Sign out" not in body:
        raise RuntimeError(
            f"{path} on {host} was not served to a signed-in person; the benchmark would be wrong"
        )


def bench_tenant_ensure():
    """The `perf` tenant and its people: benchmarks never touch the demo tenants' data."""
    from accounts.services import user_create
    from tenants.models import Tenant
    from tenants.services import tenant_create

    tenant = Tenant.objects.filter(slug=BENCH_TENANT).first()
    if tenant is None:
        tenant = tenant_create(
            slug=BENCH_TENANT,
            name="Benchmarks",
            admin_email=f"admin@{BENCH_TENANT}.test",
            admin_password=BENCH_PASSWORD,
        ).tenant
    with schema_context(tenant.schema_name):
        User = get_user_model()
        for role in ("instructor", "learner"):
            if not User.objects.filter(email=f"{role}@{BENCH_TENANT}.test").exists():
                user_create(email=f"{role}@{BENCH_TENANT}.test", role=role, password=BENCH_PASSWORD)
    return tenant
