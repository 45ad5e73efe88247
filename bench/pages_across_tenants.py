"""pages_across_tenants: the lesson page and the catalog spread over 500 tenant hosts vs one host.

Issue #17 item 3: a request must cost the same whether a worker serves one tenant or
thousands. The `perf` tenant (with the 100-lesson course of bench/lesson_page.py and its
enrolled learner) is copied into HOSTS tenants `pages_NNN` at `pages-NNN.localhost` by a
plain SQL copy (pg_dump of the perf schema restored under new names: seconds per hundred,
where tenant_create would take minutes), each with its own session for the learner.

Same server (gunicorn, 2 sync workers), same wrk Lua script shape on both sides; only the
list of (host, cookie) differs: one entry (perf) or HOSTS entries taken in turn, so every
worker sees every tenant again only after HOSTS requests. Before the timed runs each side
is warmed for the same time, long enough to visit every host more than once per worker.
ROUNDS rounds alternate one-host and spread runs; the median ratio per page is reported.
value = lesson page over HOSTS hosts (requests/s), baseline = the same page on one host.

Also measured: the workers' resident memory after each side, and a PostgreSQL backend's
memory (pg_backend_memory_contexts) as the schemas one connection has served grow, with
the connection recycling of ADR 0115 (settings.DB_CONN_MAX_SCHEMAS) and without it.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import uuid
from pathlib import Path

import psycopg
from django.conf import settings
from django.db import connection

from bench.common import (
    BENCH_TENANT,
    check_signed_in,
    gunicorn,
    signed_in_cookie,
    write_result,
    wrk,
)
from bench.lesson_page import LEARNER, lesson_path

HOSTS = int(os.environ.get("BENCH_PAGES_HOSTS", "500"))
CONNECTIONS = 32
SECONDS = 8
WARMUP_SECONDS = 8
# Each worker must have served every host a few times before the spread side is timed, or the
# figure measures first visits (outline, sidebar, progress rows): at ~50-200 requests/s that
# takes tens of seconds for 500 hosts.
SPREAD_WARMUP_SECONDS = 30
ROUNDS = 3
GOAL_RATIO = 0.9
PREFIX = "pages_"
# Rows the pages do not read and other benchmarks pile up in perf (quiz attempts, sessions,
# webhook logs): their tables are copied empty. Nothing outside this list refers to them.
UNNEEDED_DATA = [
    "assessments_answer",
    "assessments_attempt",
    "django_session",
    "accounts_auditentry",
    "api_idempotencyrecord",
    "webhooks_webhookattempt",
    "webhooks_webhookdelivery",
    "webhooks_webhookmessage",
]


def _schema(n: int) -> str:
    return f"{PREFIX}{n:03d}"


def _host(n: int) -> str:
    return f"pages-{n:03d}.localhost"


def _dsn() -> str:
    db = settings.DATABASES["default"]
    return f"host={db['HOST']} port={db['PORT'] or 5432} user={db['USER']} dbname={db['NAME']}" + (
        f" password={db['PASSWORD']}" if db.get("PASSWORD") else ""
    )


def tenants_copy() -> list[str]:
    """Make the missing tenants pages_000..pages_{HOSTS-1} as copies of `perf`; their schema names."""
    from tenants.models import Domain, Tenant

    wanted = [_schema(n) for n in range(HOSTS)]
    have = set(Tenant.objects.filter(schema_name__startswith=PREFIX).values_list("schema_name", flat=True))
    missing = [n for n in range(HOSTS) if _schema(n) not in have]
    if missing:
        db = settings.DATABASES["default"]
        env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""}
        args = ["-h", db["HOST"], "-p", str(db["PORT"] or 5432), "-U", db["USER"], "-d", db["NAME"]]
        with tempfile.TemporaryDirectory() as tmp:
            # The dump goes to a file that psql includes once per copy (\i): neither the dump
            # nor 500 copies of it are held in memory (the perf schema grows with the other
            # benchmarks' attempts and sessions: 500 in-memory copies ran out of memory).
            dump = Path(tmp) / "perf.sql"
            subprocess.run(
                ["pg_dump", *args, "-n", BENCH_TENANT, "--no-owner", "-f", str(dump)]
                + [f"--exclude-table-data={BENCH_TENANT}.{table}" for table in UNNEEDED_DATA],
                check=True,
                env=env,
            )
            # Restore the dump (which creates schema perf) and rename it, once per copy; the
            # real perf schema is out of the way meanwhile. Defaults point at sequences by OID,
            # so the rename keeps them right.
            script = [f'ALTER SCHEMA "{BENCH_TENANT}" RENAME TO "{BENCH_TENANT}__source";']
            for n in missing:
                script += [f"\\i {dump}", f'ALTER SCHEMA "{BENCH_TENANT}" RENAME TO "{_schema(n)}";']
            script.append(f'ALTER SCHEMA "{BENCH_TENANT}__source" RENAME TO "{BENCH_TENANT}";')
            restore = Path(tmp) / "copies.sql"
            restore.write_text("\n".join(script) + "\n")
            subprocess.run(
                ["psql", *args, "-q", "-v", "ON_ERROR_STOP=1", "-f", str(restore)],
                check=True,
                env=env,
                stdout=subprocess.DEVNULL,
            )
        source = Tenant.objects.get(schema_name=BENCH_TENANT)
        # bulk_create: no save() signals, so one routing-token change below, not HOSTS of them.
        made = Tenant.objects.bulk_create(
            Tenant(
                schema_name=_schema(n),
                slug=_host(n).split(".")[0],
                uuid=uuid.uuid4(),
                name=f"Pages {n:03d}",
                plan=source.plan,
                time_zone=source.time_zone,
                primary_colour=source.primary_colour,
            )
            for n in missing
        )
        Domain.objects.bulk_create(
            Domain(domain=_host(n), tenant=tenant, is_primary=True)
            for n, tenant in zip(missing, made, strict=True)
        )
        from tenants.routing import routing_token_replace

        routing_token_replace()
    return wanted


def _lua(targets: list[tuple[str, str]], path: str) -> str:
    rows = ",\n".join(f'{{"{host}", "{cookie}"}}' for host, cookie in targets)
    return f"""
local targets = {{
{rows}
}}
local i = 0
request = function()
  i = i % #targets + 1
  local t = targets[i]
  return wrk.format("GET", "{path}", {{["Host"] = t[1], ["Cookie"] = t[2]}})
end
"""


def _worker_rss_mib(port: int) -> list[float]:
    """Resident memory of the gunicorn workers serving `port` (the master excluded)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            status = (proc / "status").read_text()
        except OSError:
            continue
        if f"127.0.0.1:{port}" in cmdline and "gunicorn" in cmdline:
            ppid = int(next(line.split()[1] for line in status.splitlines() if line.startswith("PPid:")))
            rss = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
            pids.append((int(proc.name), ppid, rss))
    own = {pid for pid, _, _ in pids}
    return sorted(round(rss / 1024, 1) for pid, ppid, rss in pids if ppid in own)


def backend_memory(schemas: list[str], *, recycle_after: int | None) -> list[dict]:
    """A backend's memory as one connection serves more schemas (the tables of the lesson page)."""
    tables = [
        "courses_course",
        "courses_courserevision",
        "enrollments_enrollment",
        "enrollments_lessonprogress",
        "accounts_user",
        "django_session",
    ]
    marks = {0, 10, 50, 100, 200, 300, 400, len(schemas)}
    out = []
    conn = psycopg.connect(_dsn(), autocommit=True)
    seen = 0
    try:
        for n, schema in enumerate(["public", *schemas]):
            if n:
                if recycle_after is not None and seen >= recycle_after:
                    conn.close()
                    conn = psycopg.connect(_dsn(), autocommit=True)
                    seen = 0
                conn.execute(f'SET search_path = "{schema}", public')
                for table in tables:
                    conn.execute(f'SELECT * FROM "{table}" LIMIT 1')  # noqa: S608 - our own names
                seen += 1
            if n in marks:
                total = conn.execute("SELECT sum(total_bytes) FROM pg_backend_memory_contexts").fetchone()[0]
                out.append({"schemas_touched": n, "backend_mib": round(int(total) / 2**20, 1)})
    finally:
        conn.close()
    return out


def _side(base: str, path: str, script: Path) -> dict:
    return wrk(f"{base}{path}", host="unused", connections=CONNECTIONS, seconds=SECONDS, script=str(script))


def run() -> dict:
    lesson = lesson_path()
    schemas = tenants_copy()
    load_before = os.getloadavg()
    one = [(f"{BENCH_TENANT}.localhost", signed_in_cookie(BENCH_TENANT, LEARNER))]
    spread = [(_host(n), signed_in_cookie(schema, LEARNER)) for n, schema in enumerate(schemas)]
    folder = Path(tempfile.mkdtemp())
    scripts = {}
    for page, path in (("lesson", lesson), ("catalog", "/")):
        for side, targets in (("one", one), ("spread", spread)):
            scripts[(page, side)] = folder / f"{page}-{side}.lua"
            scripts[(page, side)].write_text(_lua(targets, path))
    results: dict[tuple[str, str], list[dict]] = {key: [] for key in scripts}
    rss = {}
    with gunicorn(workers=2) as port:
        base = f"http://127.0.0.1:{port}"
        check_signed_in(port, lesson, host=one[0][0], cookie=one[0][1])
        check_signed_in(port, lesson, host=spread[-1][0], cookie=spread[-1][1])
        for page, path in (("lesson", lesson), ("catalog", "/")):
            for side in ("one", "spread"):
                seconds = SPREAD_WARMUP_SECONDS if side == "spread" else WARMUP_SECONDS
                wrk(f"{base}{path}", host="unused", seconds=seconds, script=str(scripts[(page, side)]))
        for _ in range(ROUNDS):
            for page, path in (("lesson", lesson), ("catalog", "/")):
                for side in ("one", "spread"):
                    results[(page, side)].append(_side(base, path, scripts[(page, side)]))
                    print(page, side, results[(page, side)][-1], flush=True)
                    rss[side] = _worker_rss_mib(port)
    for key, runs in results.items():
        for result in runs:
            # A request slower than wrk's 2 s timeout is counted, not fatal: it is part of the figure.
            if result["non_2xx"] or "connect 0," not in (result["socket_errors"] or "connect 0,"):
                raise RuntimeError(f"{key}: {result['non_2xx']} non-2xx, {result['socket_errors']!r}")

    def rates(key):
        return [r["rps"] for r in results[key]]

    ratios = {
        page: statistics.median(
            s["rps"] / o["rps"]
            for o, s in zip(results[(page, "one")], results[(page, "spread")], strict=True)
        )
        for page in ("lesson", "catalog")
    }
    lesson_spread = statistics.median(rates(("lesson", "spread")))
    lesson_one = statistics.median(rates(("lesson", "one")))
    load_after = os.getloadavg()
    memory = {
        f"recycled_after_{settings.DB_CONN_MAX_SCHEMAS}_schemas": backend_memory(
            schemas, recycle_after=settings.DB_CONN_MAX_SCHEMAS
        ),
        "never_recycled": backend_memory(schemas, recycle_after=None),
    }
    connection.close()
    return write_result(
        "pages_across_tenants",
        lesson_spread,
        "requests/s",
        f"the same lesson page on one tenant host ({BENCH_TENANT}.localhost)",
        lesson_one,
        {
            "pages": f"GET {lesson} (lesson 51 of 100, signed-in learner) and GET / (the catalog)",
            "spread": f"{HOSTS} tenant hosts pages-000..{HOSTS - 1:03d}.localhost, each a copy of "
            f"{BENCH_TENANT} (schema restored from pg_dump), taken in turn by a wrk Lua script; "
            "one host: the same script with one entry",
            "server": "gunicorn, 2 sync workers, DEBUG=False",
            "load": f"wrk, 1 thread, {CONNECTIONS} connections, {SECONDS} s per run, {ROUNDS} rounds "
            f"alternating one host / spread, after a warm-up of {WARMUP_SECONDS} s (one host) and "
            f"{SPREAD_WARMUP_SECONDS} s (spread) per page",
            "lesson": {
                "one_host_rps": rates(("lesson", "one")),
                "spread_rps": rates(("lesson", "spread")),
                "median_ratio": round(ratios["lesson"], 3),
                "spread_p99_ms": [r.get("p99_ms") for r in results[("lesson", "spread")]],
                "one_host_p99_ms": [r.get("p99_ms") for r in results[("lesson", "one")]],
                "socket_errors": [
                    r["socket_errors"] for r in results[("lesson", "spread")] + results[("lesson", "one")]
                ],
            },
            "catalog": {
                "one_host_rps": rates(("catalog", "one")),
                "spread_rps": rates(("catalog", "spread")),
                "median_ratio": round(ratios["catalog"], 3),
                "socket_errors": [
                    r["socket_errors"] for r in results[("catalog", "spread")] + results[("catalog", "one")]
                ],
            },
            "worker_rss_mib_after": rss,
            "process_cache_bounds": settings.PROCESS_CACHE_MAX,
            "db_conn_max_schemas": settings.DB_CONN_MAX_SCHEMAS,
            "postgres_backend_memory": memory,
            "goal": f"ratio >= {GOAL_RATIO} for both pages (issue #17 item 3)",
            "goal_met": min(ratios.values()) >= GOAL_RATIO,
            "database": settings.DATABASES["default"]["NAME"],
            "load_average_1_5_15": {
                "before": [round(x, 2) for x in load_before],
                "after": [round(x, 2) for x in load_after],
            },
            "note": "shared 2-core machine; other engineers' tests and benchmarks may run at the same time",
        },
    )
