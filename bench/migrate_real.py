"""migrate_real_2000_s: a real migration applied to 2,000 tenant schemas by `migrate_schemas`.

In copies of the database `tenant_create_at_scale` fills (`lms_bench_tenants_2000`, built once
and reused; each copy made with `CREATE DATABASE ... TEMPLATE`, so the filled database itself
is never migrated), a fresh `manage.py migrate_schemas` process applies one bench-only
migration of `accounts` to public, the template and every tenant schema: a nullable column
on `accounts_user` (a table with rows: every tenant's first admin) and an index on it.

The migration exists only for the child process: `accounts`' migration files are copied into a
temporary package, the bench migration is added to it, and a temporary settings module points
`MIGRATION_MODULES["accounts"]` at it (PYTHONPATH of the child alone). To every schema it looks
like any migration shipped with a release: its leaf changes the tenant target digest, so every
schema is behind.

Two runs, each in a fresh copy, doing the same work:
- value: wall time with the command's default `--processes` (TENANT_MIGRATION_PROCESSES);
- baseline: the same migration with `--processes 1` (no parallelism).

In both, FAILING schemas (5) cannot take the migration, as happens in real deploys: an index
of the bench index's name was created there beforehand, so the migration fails *after* its
column was added. Each run must list exactly those schemas with their error (and
`--failures` too), leave them without the column and without the migration recorded (no
half-migration) while every other schema has both, and `--retry-failed` after dropping the
obstacle must visit only them and leave nothing pending (`--check`). Also recorded: the
peak number of PostgreSQL connections (client backends) and of all backends (parallel-query
workers included) to the copy (pg_stat_activity polled every 0.1 s
from another database), the progress lines printed, the load averages around each run.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from django.conf import settings

from bench.common import ROOT, write_result
from bench.migrate_noop import _database_url
from bench.tenant_create_at_scale import _connect

FAILING = int(os.environ.get("BENCH_MIGRATE_FAILING", "5"))
COPY_PREFIX = "lms_bench_migrate_"
TABLE, COLUMN, INDEX = "accounts_user", "bench_note", "accounts_user_bench_note_idx"
BENCH_MIGRATION = "9001_bench_note"
PACKAGE = "bench_accounts_migrations"
RENICE = os.environ.get("BENCH_RENICE_BACKENDS") == "1"

MIGRATION_TEMPLATE = '''\
from django.db import migrations, models


class Migration(migrations.Migration):
    """Bench only (bench/migrate_real.py): a nullable column and an index on a table with rows."""

    dependencies = [("accounts", "{previous}")]

    operations = [
        migrations.AddField("user", "{column}", models.CharField(max_length=64, null=True)),
        migrations.AddIndex("user", models.Index(fields=["{column}"], name="{index}")),
    ]
'''


def _bench_migrations(tmp: Path) -> Path:
    """A package with accounts' migrations plus the bench one, and settings that use it."""
    package = tmp / PACKAGE
    package.mkdir()
    sources = sorted((ROOT / "accounts" / "migrations").glob("[0-9]*.py"))
    for path in sources:
        shutil.copy(path, package / path.name)
    (package / "__init__.py").write_text("")
    (package / f"{BENCH_MIGRATION}.py").write_text(
        MIGRATION_TEMPLATE.format(previous=sources[-1].stem, column=COLUMN, index=INDEX)
    )
    (tmp / "bench_migrate_settings.py").write_text(
        f"from lms.settings import *  # noqa: F403\n\nMIGRATION_MODULES = {{'accounts': '{PACKAGE}'}}\n"
    )
    return tmp


def _copy(source: str, name: str) -> float:
    started = time.perf_counter()
    with _connect("postgres") as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        # FILE_COPY: a directory copy; WAL_LOG (PG 15's default) writes ~420,000 relations to WAL.
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}" STRATEGY FILE_COPY')
    return time.perf_counter() - started


def _drop(name: str) -> None:
    with _connect("postgres") as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class _ConnectionPeak(threading.Thread):
    """The most backends connected to `dbname` at once, polled from another database.

    With BENCH_RENICE_BACKENDS=1 (run as root or as the postgres user) the backends seen are
    also given nice 19, like the bench's own processes, for a machine others are measuring on.
    """

    def __init__(self, dbname: str, every: float = 0.1):
        super().__init__(daemon=True)
        self.dbname, self.every, self.peak, self.samples = dbname, every, 0, 0
        self.client_peak = 0  # connections; `peak` also counts PostgreSQL's parallel-query workers
        self.reniced: set[int] = set()
        self._done = threading.Event()

    def run(self) -> None:
        with _connect("postgres") as conn:
            while not self._done.is_set():
                sql = "SELECT pid, backend_type FROM pg_stat_activity WHERE datname = %s"
                rows = conn.execute(sql, [self.dbname]).fetchall()
                self.peak = max(self.peak, len(rows))
                clients = sum(1 for _, kind in rows if kind == "client backend")
                self.client_peak = max(self.client_peak, clients)
                self.samples += 1
                if RENICE:
                    for pid, _ in rows:
                        if pid not in self.reniced:
                            self.reniced.add(pid)
                            with contextlib.suppress(OSError):  # gone already, or not ours to renice
                                os.setpriority(os.PRIO_PROCESS, pid, 19)
                self._done.wait(self.every)

    def stop(self) -> int:
        self._done.set()
        self.join()
        return self.peak


def _manage(
    dbname: str, tmp: Path | None, *args: str, timeout: int = 7200
) -> tuple[subprocess.CompletedProcess, dict]:
    """A fresh `manage.py migrate_schemas` process on `dbname`, timed, its connections counted."""
    env = {**os.environ, "DATABASE_URL": _database_url(dbname)}
    if tmp is not None:
        env["DJANGO_SETTINGS_MODULE"] = "bench_migrate_settings"
        env["PYTHONPATH"] = os.pathsep.join([str(tmp), str(ROOT), env.get("PYTHONPATH", "")]).rstrip(
            os.pathsep
        )
    poll = _ConnectionPeak(dbname)
    load_before = os.getloadavg()
    poll.start()
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate_schemas", "--noinput", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    seconds = time.perf_counter() - started
    peak = poll.stop()
    return result, {
        "seconds": round(seconds, 2),
        "backends_peak": peak,
        "connections_peak": poll.client_peak,
        "connection_samples": poll.samples,
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
    }


def _progress_lines(stdout: str) -> list[str]:
    return re.findall(r"^\s+\[\s*\d+/\d+\] .*$", stdout, re.M)


def _column_schemas(dbname: str) -> set[str]:
    with _connect(dbname) as conn:
        rows = conn.execute(
            "SELECT table_schema FROM information_schema.columns WHERE table_name = %s AND column_name = %s",
            [TABLE, COLUMN],
        ).fetchall()
    return {row[0] for row in rows}


def _recorded_schemas(dbname: str, schemas: list[str]) -> set[str]:
    """Schemas whose own django_migrations record the bench migration."""
    where = f"app = 'accounts' AND name = '{BENCH_MIGRATION}'"
    parts = [f"SELECT '{name}' FROM \"{name}\".django_migrations WHERE {where}" for name in schemas]  # noqa: S608
    found: set[str] = set()
    with _connect(dbname) as conn:
        for start in range(0, len(parts), 200):
            rows = conn.execute(" UNION ALL ".join(parts[start : start + 200])).fetchall()
            found |= {row[0] for row in rows}
    return found


def _tenant_schemas(dbname: str) -> list[str]:
    with _connect(dbname) as conn:
        rows = conn.execute(
            "SELECT schema_name FROM tenants_tenant WHERE schema_name <> 'public' ORDER BY 1"
        ).fetchall()
    return [row[0] for row in rows]


def _failed_listed(stderr: str) -> dict[str, str]:
    """The schemas (and errors) of the command's closing list of failures."""
    listed: dict[str, str] = {}
    after = stderr.split("were left as they were:", 1)
    if len(after) < 2:
        return listed
    for line in after[1].splitlines():
        match = re.match(r"^\s+([a-z0-9_]+): (.+)$", line)
        if match:
            listed[match.group(1)] = match.group(2)
    return listed


def _summary(stdout: str) -> dict:
    match = re.search(r"(\d+) schema\(s\) migrated, (\d+) failed, in ([\d.]+) s", stdout)
    if not match:
        return {}
    return {
        "migrated": int(match.group(1)),
        "failed": int(match.group(2)),
        "tenant_phase_s": float(match.group(3)),
    }


def _run(source: str, tmp: Path, name: str, *args: str) -> dict:
    """In a fresh copy: FAILING schemas made unable to take the migration, every schema
    migrated, the failures checked, the obstacle removed, `--retry-failed`, checked again."""
    copy_seconds = _copy(source, name)
    try:
        tenants = _tenant_schemas(name)
        step = max(len(tenants) // FAILING, 1)
        broken = sorted(tenants[step // 2 :: step][:FAILING])
        with _connect(name) as conn:
            for schema in broken:
                # The migration's index name, taken: its AddField succeeds, then its AddIndex fails.
                conn.execute(f'CREATE INDEX "{INDEX}" ON "{schema}"."{TABLE}" (email)')
        result, figures = _manage(name, tmp, *args)
        listed = _failed_listed(result.stderr)
        every = [settings.TENANT_BASE_SCHEMA, *tenants]
        others = [s for s in every if s not in broken]
        with_column = _column_schemas(name)
        failures_cmd, _ = _manage(name, tmp, "--failures")
        migrated = {
            **figures,
            **_summary(result.stdout),
            "returncode": result.returncode,
            "schemas": len(every),
            "progress_lines": len(_progress_lines(result.stdout)),
            "broken": broken,
            "listed_as_failed": sorted(listed),
            "errors": sorted(set(listed.values())),
            "failures_command_lists": sorted(
                line.split(" ", 1)[0] for line in failures_cmd.stdout.splitlines() if line.strip()
            ),
            # No half-migration: the failed schemas have neither the column their migration
            # added before failing nor the migration recorded; every other schema has both.
            "broken_with_column": sorted(set(broken) & with_column),
            "broken_with_migration_recorded": sorted(_recorded_schemas(name, broken)),
            "others_without_column": sorted(s for s in others if s not in with_column),
            "others_without_migration_recorded": sorted(set(others) - _recorded_schemas(name, others)),
        }
        with _connect(name) as conn:
            for schema in broken:
                conn.execute(f'DROP INDEX "{schema}"."{INDEX}"')
        retry, retry_figures = _manage(name, tmp, "--retry-failed")
        with_column = _column_schemas(name)
        check, _ = _manage(name, tmp, "--check")
        retried = {
            **retry_figures,
            **_summary(retry.stdout),
            "returncode": retry.returncode,
            "visited": sorted(re.findall(r"^\s+\[\s*\d+/\d+\] ([a-z0-9_]+):", retry.stdout, re.M)),
            "schemas_without_column_after": sorted(s for s in every if s not in with_column),
            "check_after_returncode": check.returncode,
        }
        as_required = (
            migrated["returncode"] == 1
            and migrated["listed_as_failed"] == broken
            and migrated["failures_command_lists"] == broken
            and not migrated["broken_with_column"]
            and not migrated["broken_with_migration_recorded"]
            and not migrated["others_without_column"]
            and not migrated["others_without_migration_recorded"]
            and retried["returncode"] == 0
            and retried["visited"] == broken
            and not retried["schemas_without_column_after"]
            and retried["check_after_returncode"] == 0
        )
        if not as_required:
            print(result.stdout[-3000:], result.stderr[-3000:], retry.stdout[-2000:], retry.stderr[-2000:])
        return {
            "copy_seconds": round(copy_seconds, 1),
            "run": migrated,
            "retry_failed": retried,
            "failure_path_as_required": as_required,
        }
    finally:
        _drop(name)


def run() -> dict:
    from bench.tenant_create_at_scale import TENANTS, filled_database

    source = filled_database()
    noop, _ = _manage(source, None, "--check")
    if noop.returncode != 0:
        # Tenants the fill made have the template's record; anything else is adopted here once.
        adopt, _ = _manage(source, None)
        if adopt.returncode != 0:
            raise SystemExit(f"{source} is not at the code's migration state:\n{adopt.stderr}")
    default_processes = settings.TENANT_MULTIPROCESSING_MAX_PROCESSES
    with tempfile.TemporaryDirectory(prefix="bench-migrate-") as tmpdir:
        tmp = _bench_migrations(Path(tmpdir))
        parallel = _run(source, tmp, f"{COPY_PREFIX}parallel")
        serial = _run(source, tmp, f"{COPY_PREFIX}serial", "--processes", "1")
    return write_result(
        "migrate_real_2000_s",
        parallel["run"]["seconds"],
        "s",
        "migrate_real_one_process_s",
        serial["run"]["seconds"],
        {
            "tenants": TENANTS,
            "source_database": source,
            "processes": default_processes,
            "migration": f"accounts.{BENCH_MIGRATION}: AddField user.{COLUMN} (varchar(64) NULL) "
            f"+ AddIndex {INDEX}, applied to public, the template and every tenant schema",
            "failing_schemas": FAILING,
            "backends_reniced_to_19": RENICE,
            "connections_peak": parallel["run"]["connections_peak"],
            "connections_peak_one_process": serial["run"]["connections_peak"],
            "failure_path_as_required": parallel["failure_path_as_required"]
            and serial["failure_path_as_required"],
            "default_processes": parallel,
            "one_process": serial,
            "what": "wall time of a fresh `manage.py migrate_schemas --noinput` process applying one real "
            "migration (a column and an index on a table with rows) to public, the template and every "
            f"schema of a copy of the {TENANTS}-tenant database, {FAILING} of which cannot take it, with the "
            "default --processes (value) and with --processes 1 (baseline: same work, no parallelism); "
            "each run in its own CREATE DATABASE ... TEMPLATE copy, followed by --retry-failed once the "
            "obstacle is removed",
        },
    )
