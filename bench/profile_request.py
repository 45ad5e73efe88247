"""Profile one signed-in request in-process, with the benchmark server's settings.

    .venv/bin/python -m bench.profile_request lesson     # the lesson page of lesson_page_rps
    .venv/bin/python -m bench.profile_request media      # the redirect of media_redirect_rps
    .venv/bin/python -m bench.profile_request minimal    # the baseline view
    .venv/bin/python -m bench.profile_request api        # GET /api/v1/courses of api_course_list_rps
    .venv/bin/python -m bench.profile_request quiz -n 200  # the hand-in POST of quiz_submit_rps

The parent process (development settings) makes the benchmark data and a signed-in
session, then runs a child with the production-like environment of `bench.common.gunicorn`
that calls the WSGI application N times under cProfile and prints the top functions by
cumulative and by own time, plus the SQL statements and cache calls of one request.
Not a benchmark: it writes no result file. It is how the per-request overhead was found.

`quiz` consumes attempts: each hand-in is a different learner's open attempt, prepared as
bench.quiz_submit does (so -n at most a third of its LEARNERS); it prints the statements of
one hand-in, the wall and CPU time per hand-in without the profiler, and the function calls
per hand-in under it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _child(path: str, host: str, cookie: str, count: int, sort: str, limit: int) -> None:
    import cProfile
    import io
    import pstats

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from lms.wsgi import application  # sets Django up with the child's settings

    path, _, query = path.partition("?")

    def environ() -> dict:
        return {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": host,
            **({"HTTP_AUTHORIZATION": cookie} if cookie.startswith("Bearer ") else {}),
            **({} if cookie.startswith("Bearer ") else {"HTTP_COOKIE": cookie}),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }

    statuses = []

    def start_response(status, headers, exc_info=None):
        statuses.append(status)

    def call() -> None:
        body = application(environ(), start_response)
        b"".join(body)
        if hasattr(body, "close"):
            body.close()

    for _ in range(50):  # warm: connections, caches, template loaders
        call()
    with CaptureQueriesContext(connection) as queries:
        call()
    print(f"status {statuses[-1]}; SQL statements in one warm request: {len(queries.captured_queries)}")
    for query in queries.captured_queries:
        print("   ", query["sql"][:150])
    import time

    started = time.perf_counter()
    for _ in range(count):
        call()
    elapsed = time.perf_counter() - started
    print(f"{count} requests without the profiler: {1000 * elapsed / count:.3f} ms each")
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(count):
        call()
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = stats.total_tt
    print(f"{count} requests, {1000 * total / count:.3f} ms each (in-process, under the profiler)")
    stats.sort_stats(sort).print_stats(limit)


def _quiz_child(spec_file: str, count: int, sort: str, limit: int) -> None:
    import cProfile
    import io
    import pstats
    import time

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from lms.wsgi import application

    spec = json.loads(Path(spec_file).read_text())
    body = spec["body"].encode()
    statuses = []

    def start_response(status, headers, exc_info=None):
        statuses.append(status)

    def call(path: str, cookie: str) -> None:
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": spec["host"],
            "HTTP_COOKIE": cookie,
            "HTTP_X_CSRFTOKEN": spec["csrf"],
            "CONTENT_TYPE": "application/x-www-form-urlencoded",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        response = application(environ, start_response)
        b"".join(response)
        response.close()

    targets = iter(spec["targets"])
    for _ in range(20):  # warm: connections, caches, template loaders
        call(*next(targets))
    with CaptureQueriesContext(connection) as queries:
        call(*next(targets))
    print(f"status {statuses[-1]}; SQL statements in one hand-in: {len(queries.captured_queries)}")
    for query in queries.captured_queries:
        print("   ", " ".join(query["sql"].split())[:150])
    batch = [next(targets) for _ in range(count)]
    started, cpu = time.perf_counter(), time.process_time()
    for target in batch:
        call(*target)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(
        f"{count} hand-ins without the profiler: {1000 * elapsed / count:.2f} ms each, "
        f"{1000 * cpu / count:.2f} ms of this process's CPU (last status {statuses[-1]})"
    )
    batch = [next(targets) for _ in range(count)]
    profiler = cProfile.Profile()
    profiler.enable()
    for target in batch:
        call(*target)
    profiler.disable()
    stats = pstats.Stats(profiler)
    print(f"{count} hand-ins under the profiler: {stats.total_calls / count:.0f} function calls each")
    stats.sort_stats(sort).print_stats(limit)


def _prepare_quiz(count: int) -> str:
    """A file with the hand-in targets for the child (too many for its command line)."""
    import tempfile

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lms.settings")
    django.setup()
    from bench.common import BENCH_TENANT
    from bench.quiz_submit import CSRF, prepare

    targets, body, _ = prepare()
    needed = 21 + 2 * count
    if needed > len(targets):
        raise SystemExit(
            f"-n {count} needs {needed} open attempts; bench.quiz_submit prepares {len(targets)}"
        )
    spec = {"targets": targets[:needed], "body": body, "host": f"{BENCH_TENANT}.localhost", "csrf": CSRF}
    handle, name = tempfile.mkstemp(prefix="quiz-profile-", suffix=".json")
    with os.fdopen(handle, "w") as out:
        json.dump(spec, out)
    return name


def _prepare(which: str) -> tuple[str, str, str]:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lms.settings")
    django.setup()
    from bench.common import BENCH_TENANT, signed_in_cookie

    host = f"{BENCH_TENANT}.localhost"
    learner = f"learner@{BENCH_TENANT}.test"
    if which == "lesson":
        from bench.lesson_page import lesson_path

        path = lesson_path()
    elif which == "media":
        from django_tenants.utils import schema_context

        from bench.common import bench_tenant_ensure
        from bench.media_redirect import _asset

        bench_tenant_ensure()
        with schema_context(BENCH_TENANT):
            path = f"/media/{_asset().pk}/"
    elif which == "api":
        from django_tenants.utils import schema_context

        from bench.api_course_list import _courses_ensure, _key
        from bench.common import bench_tenant_ensure

        bench_tenant_ensure()
        with schema_context(BENCH_TENANT):
            _courses_ensure()
            return "/api/v1/courses?limit=20", host, "Bearer " + _key()
    else:
        path = "/bench/minimal"
    return path, host, signed_in_cookie(BENCH_TENANT, learner)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_request")
    parser.add_argument("which", choices=["lesson", "media", "minimal", "api", "quiz"])
    parser.add_argument("-n", "--count", type=int, default=2000)
    parser.add_argument("--sort", default="cumulative", help="pstats sort key (cumulative, tottime)")
    parser.add_argument("--limit", type=int, default=45)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        spec = json.loads(args.child)
        if args.which == "quiz":
            _quiz_child(spec["file"], args.count, args.sort, args.limit)
        else:
            _child(spec["path"], spec["host"], spec["cookie"], args.count, args.sort, args.limit)
        return 0
    if args.which == "quiz":
        spec = json.dumps({"file": _prepare_quiz(args.count)})
    else:
        path, host, cookie = _prepare(args.which)
        spec = json.dumps({"path": path, "host": host, "cookie": cookie})
    from bench.common import production_env

    # DEBUG=False renders hashed static names from the collectstatic manifest (as the bench server).
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=production_env(),
        check=True,
    )
    cmd = [sys.executable, "-m", "bench.profile_request", args.which, "-n", str(args.count)]
    cmd += ["--sort", args.sort, "--limit", str(args.limit), "--child", spec]
    try:
        return subprocess.run(cmd, cwd=ROOT, env=production_env(), check=False).returncode
    finally:
        if args.which == "quiz":
            Path(json.loads(spec)["file"]).unlink(missing_ok=True)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
