"""tenant_create_at_scale: creating a tenant when 2,000 exist takes as long as creating the 1st.

Two named databases, built once and reused while the project's migrations are unchanged
(a hash of every migration file and of Django's version; a change drops and rebuilds them):

- `lms_bench_tenants_<N>` filled with N tenants (default 2,000; `BENCH_SCALE_TENANTS`)
  by one process calling `tenant_create` one tenant after another. The fill records the
  creation time of every tenant at its position, so #1, #500, #1,000 and #N are measured in
  a database of exactly that size and in a process that has already created the others. A
  fill that was interrupted resumes where it stopped.
- `lms_bench_tenants_0`, the same migrations with no tenant.

(`BENCH_SCALE_DATABASE_PREFIX` changes the `lms_bench_tenants` part of both names.)

Every run then measures, in the same process: creating (and deleting again) one tenant in
the full database, i.e. tenant #N+1 (value), and in the empty one, i.e. tenant #1
(baseline). Goal: value < 1.5 s, ratio < 1.2.
"""

from __future__ import annotations

import hashlib
import os
import statistics
import time

import django
import psycopg
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from bench.common import ROOT, write_result
from bench.tenant_create import time_creations

TENANTS = int(os.environ.get("BENCH_SCALE_TENANTS", "2000"))
RUNS = int(os.environ.get("BENCH_SCALE_RUNS", "9"))
DATABASE_PREFIX = os.environ.get("BENCH_SCALE_DATABASE_PREFIX", "lms_bench_tenants")
POSITIONS = [1, 500, 1000, 2000]
SLUG = "scale-{:05d}"
# Tenants created (and deleted) to measure; any left by an interrupted run are deleted first.
EXTRA_PREFIX = "scale-extra-"


def _migrations_key() -> str:
    digest = hashlib.sha256(f"django {django.__version__}".encode())
    for path in sorted(ROOT.glob("*/migrations/*.py")):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _connect(dbname: str) -> psycopg.Connection:
    db = settings.DATABASES["default"]
    return psycopg.connect(
        dbname=dbname,
        host=db.get("HOST") or None,
        port=db.get("PORT") or None,
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        autocommit=True,
    )


def _use_database(name: str) -> None:
    connection.close()
    connection.settings_dict["NAME"] = name
    connection.set_schema_to_public()


def _database_ready(name: str, key: str) -> None:
    """`name` exists, migrated, with this migration key; rebuilt from nothing when the key differs."""
    with _connect("postgres") as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists:
            with _connect(name) as conn:
                stored = None
                if conn.execute("SELECT to_regclass('public.bench_scale_state')").fetchone()[0]:
                    stored = conn.execute("SELECT key FROM public.bench_scale_state").fetchone()
            if stored and stored[0] == key:
                return
            print(f"  {name}: migrations changed, rebuilding", flush=True)
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    _use_database(name)
    started = time.perf_counter()
    call_command("migrate_schemas", interactive=False, verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE public.bench_scale_state (key text NOT NULL)")
        cursor.execute("INSERT INTO public.bench_scale_state VALUES (%s)", [key])
        cursor.execute(
            "CREATE TABLE public.bench_scale_fill (position integer PRIMARY KEY, seconds float8 NOT NULL,"
            " backend_pid integer NOT NULL, process_pid integer NOT NULL)"
        )
    print(f"  {name}: created and migrated in {time.perf_counter() - started:.1f} s", flush=True)


def _fill(target: int) -> dict:
    """Create tenants until `target` exist, recording each creation's time at its position."""
    from tenants.models import Tenant
    from tenants.services import tenant_create

    existing = Tenant.objects.exclude(schema_name="public").count()
    if existing >= target:
        return {"filled_now": 0, "fill_seconds": 0.0}
    print(f"  filling: {existing} tenants exist, creating {target - existing} more", flush=True)
    started = time.perf_counter()
    for position in range(existing + 1, target + 1):
        slug = SLUG.format(position)
        created = tenant_create(slug=slug, name=f"Scale {position}", admin_email=f"admin@{slug}.test")
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO public.bench_scale_fill VALUES (%s, %s, pg_backend_pid(), %s)",
                [position, created.seconds, os.getpid()],
            )
        if position % 100 == 0 or position in POSITIONS:
            elapsed = time.perf_counter() - started
            print(
                f"  tenant {position}/{target}: {created.seconds:.3f} s (fill {elapsed:.0f} s so far)",
                flush=True,
            )
    return {"filled_now": target - existing, "fill_seconds": round(time.perf_counter() - started, 1)}


def _fill_times() -> dict:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT position, seconds FROM public.bench_scale_fill WHERE position = ANY(%s) ORDER BY 1",
            [[p for p in POSITIONS if p <= TENANTS] + [TENANTS]],
        )
        at = {str(position): round(seconds, 3) for position, seconds in cursor.fetchall()}
        # Single creations on a shared machine are noisy; the quickest of each block of 250
        # shows the cost itself, the median what the machine allowed.
        cursor.execute(
            "SELECT (position - 1) / 250 * 250 + 1, (position - 1) / 250 * 250 + 250,"
            " percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds), min(seconds)"
            " FROM public.bench_scale_fill GROUP BY 1, 2 ORDER BY 1"
        )
        blocks = {
            f"{first}-{last}": {"median": round(median, 3), "min": round(least, 3)}
            for first, last, median, least in cursor.fetchall()
        }
        cursor.execute("SELECT sum(seconds) FROM public.bench_scale_fill")
        total = cursor.fetchone()[0] or 0.0
        return {"at_position": at, "by_block_of_250": blocks, "sum_of_all": round(total, 1)}


def _leftovers_deleted() -> None:
    """Extra tenants of an interrupted run would change the size being measured."""
    from tenants.models import Tenant
    from tenants.services import tenant_delete

    for tenant in Tenant.objects.filter(slug__startswith=EXTRA_PREFIX):
        tenant_delete(tenant=tenant, confirm=tenant.slug)


def filled_database() -> str:
    """The name of the database holding TENANTS tenants at today's migrations (built or resumed)."""
    key = _migrations_key()
    original = connection.settings_dict["NAME"]
    full = f"{DATABASE_PREFIX}_{TENANTS}"
    try:
        _database_ready(full, key)
        _use_database(full)
        _fill(TENANTS)
        _leftovers_deleted()
    finally:
        _use_database(original)
    return full


def run() -> dict:
    key = _migrations_key()
    original = connection.settings_dict["NAME"]
    full, empty = f"{DATABASE_PREFIX}_{TENANTS}", f"{DATABASE_PREFIX}_0"
    try:
        _database_ready(full, key)
        _use_database(full)
        fill = _fill(TENANTS)
        _leftovers_deleted()
        fill_times = _fill_times()
        _database_ready(empty, key)
        _use_database(empty)
        _leftovers_deleted()
        # Alternating, so a busy moment of the shared machine falls on both sides alike.
        at_scale, first = [], []
        for n in range(RUNS + 1):
            for name, times in ((full, at_scale), (empty, first)):
                _use_database(name)
                seconds = time_creations(1, prefix=EXTRA_PREFIX)
                if n:  # the first round is the warm-up: the stored DDL is read into this process
                    times.extend(seconds)
    finally:
        _use_database(original)
    value, baseline = statistics.median(at_scale), statistics.median(first)
    return write_result(
        "tenant_create_at_scale",
        value,
        "s",
        "tenant_create_first_tenant_seconds",
        baseline,
        {
            "tenants_in_database": TENANTS,
            "runs": RUNS,
            "at_scale_seconds_all": [round(s, 3) for s in at_scale],
            "first_tenant_seconds_all": [round(s, 3) for s in first],
            # On a shared machine the quickest run is the cost with the least interference.
            "min_ratio": round(min(at_scale) / min(first), 4),
            "fill_creation_seconds": fill_times,
            "fill": fill,
            "what": (
                f"median of {RUNS} tenant_create + tenant_delete in a database holding {TENANTS} tenants "
                f"(value: tenant #{TENANTS + 1}) and in one holding none (baseline: tenant #1), same process "
                "and run; fill_creation_seconds: the time of tenant #k when the database was filled by one "
                "process "
                "creating them one after another (#1 includes generating the stored DDL once)"
            ),
            "databases": [full, empty],
            "goal": "value < 1.5 s, ratio < 1.2",
        },
    )
