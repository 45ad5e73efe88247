#!/usr/bin/env python3
"""Run the demo in the foreground: the web server, a Celery worker and Celery beat.

    .venv/bin/python scripts/run_demo.py          # what `make demo` runs last
    .venv/bin/python scripts/run_demo.py --stop   # stop a running demo (what `make stop` does)

Each line a process prints is prefixed with its name. Once the web server answers on
/healthz a banner says where to go and how to log in. Ctrl-C or SIGTERM, or any of
the processes exiting, stops all of them (SIGTERM to each process group, SIGKILL after
10 s) and ends the script. Its pid is kept in .data/run_demo.pid.

Environment overrides, mainly for testing this script:
    DEMO_PROCS           JSON object {"name": ["argv", ...] or "shell-like string", ...}
    DEMO_HEALTH_URL      default http://localhost:8000/healthz
    DEMO_HEALTH_TIMEOUT  seconds before warning that the web server does not answer (120)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

# Run as `python scripts/run_demo.py`, so its folder is on sys.path.
from services import alive

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data"
PIDFILE = DATA / "run_demo.pid"
VENV_BIN = ROOT / ".venv" / "bin"
GRACE_SECONDS = 10

PASSWORD = "demo-pass-2026"  # noqa: S105 - the documented demo password
TENANTS = ("acme", "globex")
ROLES = ("admin", "instructor", "learner")

COLORS = ("\033[36m", "\033[35m", "\033[33m", "\033[32m", "\033[34m", "\033[31m")
RESET = "\033[0m"
BOLD = "\033[1m"


def default_procs() -> dict[str, list[str]]:
    python = str(VENV_BIN / "python") if (VENV_BIN / "python").exists() else sys.executable
    celery = str(VENV_BIN / "celery") if (VENV_BIN / "celery").exists() else "celery"
    worker = [celery, "-A", "lms", "worker", "-l", "info"]
    return {
        "web": [python, "manage.py", "runserver", "0.0.0.0:8000"],
        "worker": [*worker, "-Q", "celery,analytics", "--concurrency", "2"],
        # Webhook deliveries wait on receivers, not the CPU: a threads pool (ADR 0160).
        "webhooks": [
            *worker,
            "-Q",
            "webhooks",
            "--pool",
            "threads",
            "--concurrency",
            "8",
            "-n",
            "webhooks@%h",
        ],
        "beat": [celery, "-A", "lms", "beat", "-l", "info", "--schedule", str(DATA / "celerybeat-schedule")],
    }


def configured_procs() -> dict[str, list[str]]:
    raw = os.environ.get("DEMO_PROCS")
    if not raw:
        return default_procs()
    try:
        spec = json.loads(raw)
    except ValueError as exc:
        sys.exit(f"error: DEMO_PROCS is not valid JSON ({exc}).")
    if not isinstance(spec, dict) or not spec:
        sys.exit('error: DEMO_PROCS must be a JSON object like {"web": ["python", "-m", "http.server"]}.')
    return {
        str(name): shlex.split(cmd) if isinstance(cmd, str) else [str(a) for a in cmd]
        for name, cmd in spec.items()
    }


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def read_pidfile() -> tuple[int | None, list[int]]:
    """Our pid on the first line, then one `name pgid` line per child."""
    try:
        lines = PIDFILE.read_text().splitlines()
    except OSError:
        return None, []
    pid = None
    groups: list[int] = []
    with contextlib.suppress(ValueError, IndexError):
        pid = int(lines[0].split()[0])
    for line in lines[1:]:
        with contextlib.suppress(ValueError, IndexError):
            groups.append(int(line.split()[1]))
    return pid, groups


def is_demo_process(pid: int) -> bool:
    try:
        return b"run_demo" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


class Demo:
    def __init__(self, procs: dict[str, list[str]]):
        self.procs = procs
        self.children: dict[str, subprocess.Popen] = {}
        self.readers: list[threading.Thread] = []
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.stop_reason = ""
        self.color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        self.width = max(len(name) for name in procs)
        self.health_url = os.environ.get("DEMO_HEALTH_URL", "http://localhost:8000/healthz")
        self.health_timeout = float(os.environ.get("DEMO_HEALTH_TIMEOUT", "120"))

    # --- output ------------------------------------------------------------------------
    def emit(self, text: str) -> None:
        with self.lock:
            sys.stdout.write(text if text.endswith("\n") else text + "\n")
            sys.stdout.flush()

    def prefix(self, name: str, index: int) -> str:
        label = f"{name:<{self.width}} |"
        return f"{COLORS[index % len(COLORS)]}{label}{RESET}" if self.color else label

    def pump(self, name: str, index: int, stream) -> None:
        prefix = self.prefix(name, index)
        for raw in iter(stream.readline, b""):
            self.emit(f"{prefix} {raw.decode(errors='replace').rstrip()}")
        stream.close()

    def note(self, text: str) -> None:
        self.emit(f"{BOLD}{text}{RESET}" if self.color else text)

    # --- lifecycle ---------------------------------------------------------------------
    def request_stop(self, reason: str) -> None:
        if not self.stop_event.is_set():
            self.stop_reason = reason
            self.stop_event.set()

    def start(self) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        for index, (name, argv) in enumerate(self.procs.items()):
            try:
                child = subprocess.Popen(
                    argv,
                    cwd=ROOT,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    # Own process group: Ctrl-C reaches only this script, which then stops
                    # each group as a whole (runserver's reloader child, Celery's pool).
                    start_new_session=True,
                )
            except OSError as exc:
                self.request_stop(f"{name} could not start: {exc}")
                return
            self.children[name] = child
            reader = threading.Thread(target=self.pump, args=(name, index, child.stdout), daemon=True)
            reader.start()
            self.readers.append(reader)
            self.note(f"started {name} (pid {child.pid}): {shlex.join(argv)}")
        self.write_pidfile()

    def write_pidfile(self) -> None:
        lines = [str(os.getpid())] + [f"{name} {child.pid}" for name, child in self.children.items()]
        PIDFILE.write_text("\n".join(lines) + "\n")

    def watch_health(self) -> None:
        started = time.monotonic()
        warned = False
        while not self.stop_event.is_set():
            try:
                with urllib.request.urlopen(self.health_url, timeout=3) as response:  # noqa: S310 - localhost
                    if 200 <= response.status < 400:
                        self.banner()
                        return
            except (urllib.error.URLError, OSError, ValueError):
                pass
            if not warned and time.monotonic() - started > self.health_timeout:
                warned = True
                self.note(
                    f"The web server does not answer {self.health_url} after {self.health_timeout:.0f} s; "
                    "look at the `web` lines above (still waiting)."
                )
            self.stop_event.wait(1.0)

    def banner(self) -> None:
        rule = "=" * 72
        logins = []
        for tenant in TENANTS:
            logins.append("   ".join(f"{role}@{tenant}.test" for role in ROLES))
        lines = [
            rule,
            "  The LMS demo is running.",
            "",
            "  Operator site:  http://localhost:8000        (admin: http://localhost:8000/admin/,"
            f" operator@lms.test / {PASSWORD})",
            "  Tenants:        http://acme.localhost:8000",
            "                  http://globex.localhost:8000",
            f"  Logins (password {PASSWORD}):",
            *(f"                  {line}" for line in logins),
            "",
            "  Ctrl-C stops everything.",
            rule,
        ]
        text = "\n".join(lines)
        self.emit(f"{BOLD}{text}{RESET}" if self.color else text)

    def run(self) -> int:
        self.start()
        health = threading.Thread(target=self.watch_health, daemon=True)
        if not self.stop_event.is_set():
            health.start()
        while not self.stop_event.is_set():
            for name, child in self.children.items():
                code = child.poll()
                if code is not None:
                    self.request_stop(f"{name} exited with code {code}")
                    break
            self.stop_event.wait(0.2)
        self.shutdown()
        unexpected = not self.stop_reason.startswith("received")
        return 1 if unexpected else 0

    def shutdown(self) -> None:
        self.note(f"Stopping everything: {self.stop_reason}.")
        groups = {name: child.pid for name, child in self.children.items()}
        for pgid in groups.values():
            signal_group(pgid, signal.SIGTERM)
        deadline = time.monotonic() + GRACE_SECONDS
        while time.monotonic() < deadline:
            for child in self.children.values():
                child.poll()
            if not any(group_alive(pgid) for pgid in groups.values()):
                break
            time.sleep(0.2)
        for name, pgid in groups.items():
            if group_alive(pgid):
                self.note(f"{name} did not stop within {GRACE_SECONDS} s; sending SIGKILL")
                signal_group(pgid, signal.SIGKILL)
        for child in self.children.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=5)
        for reader in self.readers:
            reader.join(timeout=2)
        self.note("All demo processes stopped.")


def run() -> int:
    DATA.mkdir(parents=True, exist_ok=True)
    pid, _ = read_pidfile()
    if pid and pid != os.getpid() and alive(pid) and is_demo_process(pid):
        print(
            f"error: the demo already runs (pid {pid}): stop it with `make stop` or Ctrl-C in its terminal."
        )
        return 1
    demo = Demo(configured_procs())
    PIDFILE.write_text(f"{os.getpid()}\n")

    def on_signal(signum, _frame):
        demo.request_stop(f"received {signal.Signals(signum).name}")

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    try:
        return demo.run()
    finally:
        current, _ = read_pidfile()
        if current == os.getpid():
            PIDFILE.unlink(missing_ok=True)


def stop() -> int:
    pid, groups = read_pidfile()
    if not pid or not alive(pid) or not is_demo_process(pid):
        # A demo killed with SIGKILL leaves its children behind: stop those groups too.
        leftovers = [g for g in groups if group_alive(g)]
        for pgid in leftovers:
            signal_group(pgid, signal.SIGTERM)
        if leftovers:
            time.sleep(GRACE_SECONDS / 2)
            for pgid in leftovers:
                signal_group(pgid, signal.SIGKILL)
            print(f"Demo: stopped {len(leftovers)} leftover process group(s)")
        else:
            print("Demo: not running")
        PIDFILE.unlink(missing_ok=True)
        return 0
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + GRACE_SECONDS + 10
    while time.monotonic() < deadline and alive(pid):
        time.sleep(0.2)
    if alive(pid):
        os.kill(pid, signal.SIGKILL)
        for pgid in groups:
            signal_group(pgid, signal.SIGKILL)
        PIDFILE.unlink(missing_ok=True)
    print(f"Demo: stopped (pid {pid})")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run (or stop) the LMS demo: web, worker and beat.")
    parser.add_argument("--stop", action="store_true", help="stop a demo started earlier and exit")
    args = parser.parse_args(argv)
    return stop() if args.stop else run()


if __name__ == "__main__":
    sys.exit(main())
