"""migrate_noop_2000_s: `manage.py migrate_schemas` with nothing to apply, at 2,000 tenants.

Uses the database that `tenant_create_at_scale` fills (built once, reused while the
migrations are unchanged). Timed as an operator runs it: a fresh process, wall clock.

Baseline, same run and database: `migrate_schemas --shared`, public's own no-op migrate,
which any deploy pays whatever the number of tenants. The ratio is what 2,000 tenant
schemas add on top of it. Goal: value < 60 s.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

from django.conf import settings

from bench.common import ROOT, write_result

RUNS = int(os.environ.get("BENCH_MIGRATE_RUNS", "3"))


def _database_url(name: str) -> str:
    db = settings.DATABASES["default"]
    auth = db.get("USER") or "postgres"
    if db.get("PASSWORD"):
        auth += f":{db['PASSWORD']}"
    return f"postgres://{auth}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{name}"


def _timed(url: str, *args: str) -> float:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate_schemas", "--noinput", *args],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=1800,
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"migrate_schemas {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return seconds


def run() -> dict:
    from bench.tenant_create_at_scale import TENANTS, filled_database

    name = filled_database()
    url = _database_url(name)
    # The first run after the fill may adopt schemas that have no recorded state yet.
    first = _timed(url)
    full = [_timed(url) for _ in range(RUNS)]
    shared = [_timed(url, "--shared") for _ in range(RUNS)]
    check = _timed(url, "--check")
    return write_result(
        "migrate_noop_2000_s",
        statistics.median(full),
        "s",
        "migrate_schemas_shared_only_s",
        statistics.median(shared),
        {
            "tenants": TENANTS,
            "database": name,
            "runs": RUNS,
            "all_runs_s": [round(s, 2) for s in full],
            "shared_runs_s": [round(s, 2) for s in shared],
            "first_run_after_fill_s": round(first, 2),
            "check_s": round(check, 2),
            "what": "a fresh `manage.py migrate_schemas --noinput` process (public, template, every tenant) "
            "with nothing to apply; baseline: public alone (`--shared`)",
            "before": "django-tenants' per-schema no-op: 9.7 s with no tenants, 78 s with 200 (issue #17)",
            "goal": "< 60 s",
        },
    )
