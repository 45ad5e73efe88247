"""`python -m bench [--only NAME]`: run the benchmarks, write bench/results/<name>.json."""

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lms.settings")

BENCHMARKS = {
    "access_decision_us": "bench.access_decision",
    "tenant_create_seconds": "bench.tenant_create",
    "tenant_create_at_scale": "bench.tenant_create_at_scale",
    "migrate_noop_2000_s": "bench.migrate_noop",
    "migrate_real_2000_s": "bench.migrate_real",
    "tenant_page_rps": "bench.tenant_page",
    "lesson_page_rps": "bench.lesson_page",
    "api_course_list_rps": "bench.api_course_list",
    "quiz_submit_rps": "bench.quiz_submit",
    "signed_url_per_s": "bench.signed_url",
    "media_redirect_rps": "bench.media_redirect",
    "event_ingest_eps": "bench.event_ingest",
    "consumer_eps": "bench.consumer",
    "pages_across_tenants": "bench.pages_across_tenants",
    "event_lag_p95_ms": "bench.event_lag",
    "webhook_delivery_p95_ms": "bench.webhook_delivery",
}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--only", choices=sorted(BENCHMARKS), help="run one benchmark")
    args = parser.parse_args()
    import django

    django.setup()
    from importlib import import_module

    names = [args.only] if args.only else list(BENCHMARKS)
    for name in names:
        print(f"== {name}", flush=True)
        import_module(BENCHMARKS[name]).run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
