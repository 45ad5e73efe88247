"""tenant_page_rps: a signed-in learner's page on a tenant host under gunicorn (2 workers).

Baseline, same server, same run: a minimal Django view on the same tenant host (it goes
through the same middleware: tenant lookup, sessions, CSRF).
"""

from bench.common import (
    BENCH_TENANT,
    bench_tenant_ensure,
    check_signed_in,
    gunicorn,
    signed_in_cookie,
    write_result,
    wrk,
)

CONNECTIONS = 32
SECONDS = 10


def run() -> dict:
    bench_tenant_ensure()
    host = f"{BENCH_TENANT}.localhost"
    cookie = signed_in_cookie(BENCH_TENANT, f"learner@{BENCH_TENANT}.test")
    with gunicorn(workers=2) as port:
        base = f"http://127.0.0.1:{port}"
        check_signed_in(port, "/", host=host, cookie=cookie)
        wrk(f"{base}/bench/minimal", host=host, seconds=2)  # warm-up
        wrk(f"{base}/", host=host, cookie=cookie, seconds=2)
        baseline = wrk(f"{base}/bench/minimal", host=host, connections=CONNECTIONS, seconds=SECONDS)
        page = wrk(f"{base}/", host=host, cookie=cookie, connections=CONNECTIONS, seconds=SECONDS)
    if page["non_2xx"] or baseline["non_2xx"]:
        raise RuntimeError(
            f"non-2xx answers during the run: page {page['non_2xx']}, baseline {baseline['non_2xx']}"
        )
    return write_result(
        "tenant_page_rps",
        page["rps"],
        "requests/s",
        "minimal_django_view_rps",
        baseline["rps"],
        {
            "page": f"GET / (the catalog) on {host}, signed in as learner@{BENCH_TENANT}.test",
            "server": "gunicorn, 2 sync workers, DEBUG=False",
            "load": f"wrk, 1 thread, {CONNECTIONS} connections, {SECONDS} s, loopback",
            "page_latency": {k: v for k, v in page.items() if k.startswith("p")},
            "baseline_latency": {k: v for k, v in baseline.items() if k.startswith("p")},
        },
    )
