"""scripts/services.py on a fresh checkout: its own PostgreSQL when the default server
refuses the passwordless login, its own SeaweedFS (own keys, own port, loopback only)
when the default S3 port is another checkout's.

Every run uses LMS_DATA_DIR in a temporary directory, so nothing of the shared `.data`
is touched, and a throwaway PostgreSQL cluster of its own that refuses logins.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
PG_BINDIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
SERVICE_VARS = {
    "DATABASE_URL",
    "REDIS_URL",
    "S3_ENDPOINT_URL",
    "S3_ACCESS_KEY_ID",
    "S3_SECRET_ACCESS_KEY",
    "S3_BUCKET",
    "LMS_DATA_DIR",
}
# Runs the script with other defaults than 127.0.0.1:5432 and :8333, as if those were
# where this machine's PostgreSQL and another checkout's SeaweedFS answer.
DRIVER = """
import json, sys
sys.path.insert(0, {scripts!r})
import services
services.DEFAULTS.update(json.loads(sys.argv[1]))
only = sys.argv[2]
if only == "all":
    sys.exit(services.main(sys.argv[3:]))
try:
    cfg = services.config()
    service = {{"postgres": services.Postgres, "s3": services.S3}}[only](cfg)
    started = {{}}
    if sys.argv[3] == "up":
        service.up(started)
        print("URL=" + (service.url if only == "postgres" else service.endpoint))
    else:
        service.down({{}})
except services.Fatal as exc:
    print("error:", exc, file=sys.stderr)
    sys.exit(1)
"""


def dotenv_sets(name: str) -> bool:
    path = ROOT / ".env"
    return path.is_file() and any(
        line.strip().startswith(f"{name}=") and line.split("=", 1)[1].strip()
        for line in path.read_text().splitlines()
    )


def run(data_dir: Path, defaults: dict, only: str, command: str, **env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in SERVICE_VARS and k != "PYTEST_VERSION"}
    return subprocess.run(
        [
            sys.executable,
            "-c",
            DRIVER.format(scripts=str(ROOT / "scripts")),
            json.dumps(defaults),
            only,
            command,
        ],
        cwd=ROOT,
        env={**clean, "LMS_DATA_DIR": str(data_dir), **env},
        capture_output=True,
        text=True,
        timeout=240,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def as_postgres(*cmd: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["runuser", "-u", "postgres", "--", *cmd], cwd="/", capture_output=True, text=True, check=True
    )


@pytest.fixture(scope="module")
def refusing_postgres(tmp_path_factory):
    """A PostgreSQL that wants a password on 127.0.0.1, as Debian's own `main` cluster does."""
    if os.geteuid() != 0 or not PG_BINDIRS:
        pytest.skip("needs root and PostgreSQL's binaries to run a throwaway cluster")
    bindir = PG_BINDIRS[-1]
    base = tmp_path_factory.mktemp("refusing-pg")
    shutil.chown(base, user="postgres")
    for parent in base.parents:
        os.chmod(parent, os.stat(parent).st_mode | 0o001)
    pgdata = base / "data"
    as_postgres(str(bindir / "initdb"), "-D", str(pgdata), "-U", "postgres", "--auth-host=scram-sha-256")
    port = free_port()
    opts = f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''"
    as_postgres(str(bindir / "pg_ctl"), "-D", str(pgdata), "-l", str(base / "log"), "-w", "-o", opts, "start")
    yield port
    as_postgres(str(bindir / "pg_ctl"), "-D", str(pgdata), "-m", "immediate", "-w", "stop")


def test_a_refused_passwordless_login_without_database_url_starts_the_project_local_cluster(
    refusing_postgres, tmp_path
):
    if dotenv_sets("DATABASE_URL"):
        pytest.skip(".env sets DATABASE_URL")
    defaults = {"DATABASE_URL": f"postgres://postgres@127.0.0.1:{refusing_postgres}/lms"}
    data = tmp_path / "data"
    try:
        first = run(data, defaults, "postgres", "up")
        assert first.returncode == 0, first.stderr
        assert f"127.0.0.1:{refusing_postgres} refuses the passwordless login" in first.stdout
        assert "no password supplied" in first.stdout
        url = first.stdout.split("URL=", 1)[1].strip()
        port = urlsplit(url).port
        assert port != refusing_postgres
        assert (data / "postgres.port").read_text().strip() == str(port)
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname="lms") as conn:
            assert conn.execute("SELECT current_database()").fetchone() == ("lms",)
        # The next run goes straight to the project-local cluster on its remembered port.
        second = run(data, defaults, "postgres", "up")
        assert second.returncode == 0, second.stderr
        assert f"project-local already running on 127.0.0.1:{port}" in second.stdout
    finally:
        down = run(data, defaults, "postgres", "down")
    assert "stopped project-local" in down.stdout, down.stdout + down.stderr
    assert not (data / "postgres" / "postmaster.pid").exists()


def test_a_refused_login_from_a_given_database_url_stops_with_what_to_fix(refusing_postgres, tmp_path):
    result = run(
        tmp_path / "data",
        {},
        "postgres",
        "up",
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{refusing_postgres}/lms",
    )
    assert result.returncode == 1
    assert (
        f"error: PostgreSQL at 127.0.0.1:{refusing_postgres} refuses the login from DATABASE_URL "
        "(connection failed:"
    ) in result.stderr
    assert "fix the user/password in DATABASE_URL or the server's pg_hba.conf" in result.stderr
    assert not (tmp_path / "data" / "postgres").exists()


def listening_addresses(pid: int) -> set[tuple[str, int]]:
    """(address, port) of every TCP socket in LISTEN state that the process holds."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state != "0A" or inode not in inodes:
                continue
            address_hex, port_hex = local.split(":")
            raw = bytes.fromhex(address_hex)
            if len(raw) == 4:
                address = socket.inet_ntop(socket.AF_INET, raw[::-1])
            else:
                words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
                address = socket.inet_ntop(socket.AF_INET6, words)
            found.add((address, int(port_hex, 16)))
    return found


def test_a_fresh_checkout_runs_its_own_seaweedfs_with_its_own_keys_on_loopback_only(tmp_path):
    if dotenv_sets("S3_ENDPOINT_URL") or dotenv_sets("S3_ACCESS_KEY_ID"):
        pytest.skip(".env sets the S3 endpoint or keys")
    # The session's S3 server (another checkout's SeaweedFS, as far as this data dir knows)
    # sits on the default port.
    taken = urlsplit(settings.S3_ENDPOINT_URL)
    defaults = {"S3_ENDPOINT_URL": settings.S3_ENDPOINT_URL}
    data = tmp_path / "data"
    pid = None

    # With that endpoint given but no keys, the script asks for the keys: it never reads
    # another checkout's identities file.
    given = run(data, {}, "s3", "up", S3_ENDPOINT_URL=settings.S3_ENDPOINT_URL)
    assert given.returncode == 1
    assert "did not start answers at" in given.stderr and "set S3_ACCESS_KEY_ID" in given.stderr

    try:
        result = run(data, defaults, "s3", "up")
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"{taken.hostname}:{taken.port} is served by a program this checkout did not start" in (
            result.stdout
        )
        endpoint = result.stdout.split("URL=", 1)[1].strip()
        port = urlsplit(endpoint).port
        assert port != taken.port
        assert (data / "seaweedfs" / "s3.port").read_text().strip() == str(port)
        keys = json.loads((data / "seaweedfs" / "credentials.json").read_text())
        assert keys["access_key"] != settings.S3_ACCESS_KEY_ID

        # The script's own S3 client, with the keys this data dir made.
        spec = importlib.util.spec_from_file_location("services_under_test", ROOT / "scripts" / "services.py")
        services = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = services  # its dataclasses look themselves up there
        spec.loader.exec_module(services)
        s3 = services.S3({"S3_ENDPOINT_URL": endpoint, "S3_BUCKET": "lms-media"})
        s3.access_key, s3.secret_key = keys["access_key"], keys["secret_key"]
        client = s3.client()
        assert "lms-media" in [bucket["Name"] for bucket in client.list_buckets()["Buckets"]]

        # Master, volume server, filer (HTTP and gRPC) and S3: every socket on loopback.
        pid = int((data / "seaweedfs" / "weed.pid").read_text())
        addresses = listening_addresses(pid)
        ports = json.loads((data / "seaweedfs" / "started-ports.json").read_text())
        assert {p for _, p in addresses} >= set(ports.values())
        assert {address for address, _ in addresses} == {"127.0.0.1"}, addresses

        # A second run finds it on its remembered port.
        again = run(data, defaults, "s3", "up")
        assert f"project-local SeaweedFS already running on 127.0.0.1:{port}" in again.stdout, again.stderr
    finally:
        run(data, defaults, "s3", "down")
    deadline = time.monotonic() + 5
    while pid and Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not (data / "seaweedfs" / "weed.pid").exists()
