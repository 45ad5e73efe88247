"""Dashboards and reports read from a streaming replica (DATABASE_REPLICA_URL, ADR 0110).

The system PostgreSQL takes no replication connections, so the test starts its own
primary (initdb) and a hot standby of it (pg_basebackup -R) on free ports, runs
replica_scenario.py against them in a subprocess and tears both down.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connection

from tenants.replica import reading_from_replica, replica_configured


def _bindir() -> Path:
    """The newest Debian PostgreSQL with initdb and pg_basebackup (15 on this project's machines)."""
    found = [p for p in Path("/usr/lib/postgresql").glob("*/bin") if (p / "pg_basebackup").is_file()]
    found = [p for p in found if p.parent.name.isdigit() and (p / "initdb").is_file()]
    return max(found, key=lambda p: int(p.parent.name)) if found else Path("/usr/lib/postgresql/15/bin")


BINDIR = _bindir()
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres() -> list[str]:
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def _run(*cmd: str) -> None:
    out = subprocess.run([*_as_postgres(), *cmd], capture_output=True, text=True, check=False, cwd="/")
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {out.stderr or out.stdout}")


def _pg_ctl(pgdata: Path, *args: str) -> None:
    _run(str(BINDIR / "pg_ctl"), "-D", str(pgdata), "-l", str(pgdata.parent / f"{pgdata.name}.log"), *args)


@contextmanager
def running_primary_and_standby() -> Iterator[dict]:
    """A throwaway primary and its hot standby on free local ports, removed afterwards."""
    base = Path(tempfile.mkdtemp(prefix="lms-replica-"))
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        os.chown(base, pw.pw_uid, pw.pw_gid)
    primary, standby = base / "primary", base / "standby"
    primary_port, standby_port = _free_port(), _free_port()
    started = []
    try:
        _run(str(BINDIR / "initdb"), "-D", str(primary), "-U", "postgres", "--auth=trust", "-E", "UTF8",
             "--no-locale", "--no-sync")  # fmt: skip
        with (primary / "postgresql.conf").open("a") as conf:
            conf.write(
                f"port = {primary_port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\n"
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nwal_level = replica\n"
                "max_wal_senders = 4\n"
            )
        with (primary / "pg_hba.conf").open("a") as hba:
            hba.write("host replication all 127.0.0.1/32 trust\n")
        _pg_ctl(primary, "-w", "start")
        started.append(primary)
        _run(str(BINDIR / "createdb"), "-h", "127.0.0.1", "-p", str(primary_port), "-U", "postgres", "lms")
        _run(str(BINDIR / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary_port), "-U", "postgres",
             "-D", str(standby), "-R", "-X", "stream", "--checkpoint=fast", "--no-sync")  # fmt: skip
        with (standby / "postgresql.conf").open("a") as conf:
            conf.write(f"port = {standby_port}\nhot_standby = on\n")
        _pg_ctl(standby, "-w", "start")
        started.append(standby)
        yield {
            "primary": f"postgres://postgres@127.0.0.1:{primary_port}/lms",
            "replica": f"postgres://postgres@127.0.0.1:{standby_port}/lms",
            "standby_pgdata": str(standby),
        }
    finally:
        for pgdata in reversed(started):
            subprocess.run(
                [*_as_postgres(), str(BINDIR / "pg_ctl"), "-D", str(pgdata), "-m", "immediate", "stop"],
                capture_output=True, check=False, cwd="/",
            )  # fmt: skip
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def primary_and_standby():
    if not (BINDIR / "initdb").is_file():
        pytest.skip(f"PostgreSQL server binaries (initdb, pg_basebackup) are not in {BINDIR}")
    with running_primary_and_standby() as servers:
        yield servers


pytestmark = pytest.mark.servers


@pytest.fixture(scope="module")
def scenario(primary_and_standby) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": primary_and_standby["primary"],
        "DATABASE_REPLICA_URL": primary_and_standby["replica"],
        "REPLICA_PGDATA": primary_and_standby["standby_pgdata"],
        "PG_CTL": str(BINDIR / "pg_ctl"),
        "LMS_NO_DOTENV": "1",
        "TENANT_MIGRATION_EXECUTOR": "standard",
        # Its tenants are not the suite's: keep their cache entries under keys of their own.
        "CACHE_KEY_PREFIX": "lms-replica-scenario",
    }
    env.pop("TEST_DATABASE_NAME", None)
    python = sys.executable
    migrate = subprocess.run(
        [python, "manage.py", "migrate", "--verbosity", "0", "--skip-checks"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    run = subprocess.run(
        [python, "tenants/tests/replica_scenario.py"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr[-3000:]
    line = next(x for x in run.stdout.splitlines() if x.startswith("SCENARIO "))
    return json.loads(line.removeprefix("SCENARIO "))


def test_dashboard_selectors_read_from_the_streaming_replica(scenario):
    assert scenario["replica_in_recovery"] is True
    assert scenario["default_in_recovery"] is False
    acme = scenario["acme"]
    # Rows written on the primary, read back through the standby.
    assert acme["enrollments"] == [7]
    assert acme["active"] == [3]
    assert acme["overview"] == [["acme course", 7]]
    assert acme["replica_queries"] >= 4
    assert acme["default_queries"] == 0


def test_the_replica_follows_the_request_tenant_on_one_thread(scenario):
    """acme's dashboard on the replica never shows globex's rows, before or after a globex request."""
    assert scenario["acme"]["replica_search_path"] == "acme"
    assert scenario["globex"]["replica_search_path"] == "globex"
    assert scenario["globex"]["enrollments"] == [42]
    assert scenario["globex"]["overview"] == [["globex course", 42]]
    assert scenario["acme_again"]["enrollments"] == [7]
    assert scenario["acme_again"]["active"] == [3]
    assert scenario["acme_again"]["overview"] == [["acme course", 7]]
    assert scenario["acme_again"]["replica_search_path"] == "acme"


def test_writes_never_go_to_the_replica(scenario):
    assert scenario["write_alias"] == "replica"
    assert scenario["row_read_from"] == "replica"
    assert scenario["written"] == 8  # saved on the primary (the standby would refuse the UPDATE)


def test_reports_inside_a_transaction_read_default(scenario):
    assert scenario["replica_queries_in_atomic"] == 0


def test_an_unreachable_replica_falls_back_to_default_with_a_warning(scenario):
    for step, logged in (("after_stop", "warnings_after_stop"), ("refused", "warnings_refused")):
        assert scenario[step]["enrollments"] == [8]  # the primary's row, with the write above
        assert scenario[step]["overview"] == [["acme course", 8]]
        assert scenario[step]["default_queries"] >= 4
        assert any("replica.unavailable" in message for message in scenario[logged]), scenario[logged]


@pytest.mark.django_db
def test_without_a_replica_everything_reads_default(tenant):
    assert not replica_configured()
    connection.set_tenant(tenant)
    with reading_from_replica() as alias:
        assert alias == "default"
