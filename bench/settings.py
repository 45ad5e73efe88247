"""Benchmark harness only: the project's settings plus a minimal baseline view.

Benchmarks compare a page with a trivial Django view served by the same server in the
same run; that view must not exist in the product, so it is added here.
"""

from lms.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls_tenant"
