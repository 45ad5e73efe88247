"""Run by test_replica.py in a subprocess against a real primary and hot standby.

DATABASE_URL is the primary, DATABASE_REPLICA_URL the standby, REPLICA_PGDATA the
standby's data directory (the scenario stops it to see the fallback). Prints one JSON
object of what it saw; the test asserts on it.
"""

import json
import logging
import os
import subprocess
import sys
import time
from datetime import date

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lms.settings")
sys.path.insert(0, os.getcwd())
django.setup()

from django.db import connection, connections, transaction  # noqa: E402
from django_tenants.utils import schema_context  # noqa: E402

from analytics.models import CourseDay, LearnerDay  # noqa: E402
from analytics.selectors import DateRange, course_daily, tenant_overview  # noqa: E402
from courses.models import Course  # noqa: E402
from tenants import replica as replica_module  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tenants.replica import reading_from_replica  # noqa: E402
from tenants.services import tenant_create  # noqa: E402

TODAY = date.today()
PERIOD = DateRange(TODAY, TODAY)
# Different numbers per tenant, on the same course id in both schemas.
ENROLLMENTS = {"acme": 7, "globex": 42}
LEARNERS = {"acme": 3, "globex": 5}


class Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


warnings = Collect()
logging.getLogger("tenants.replica").addHandler(warnings)


def seed() -> dict[str, Tenant]:
    tenants = {}
    for slug, enrollments in ENROLLMENTS.items():
        tenant = tenant_create(slug=slug, name=slug.title(), admin_email=f"admin@{slug}.test").tenant
        with schema_context(tenant.schema_name):
            course = Course.objects.create(title=f"{slug} course", slug="course")
            CourseDay.objects.create(course_id=course.pk, day=TODAY, new_enrollments=enrollments)
            LearnerDay.objects.bulk_create(
                LearnerDay(course_id=course.pk, day=TODAY, user_id=n + 1) for n in range(LEARNERS[slug])
            )
        tenants[slug] = tenant
    connection.set_schema_to_public()
    return tenants


def wait_for_replay() -> float:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        lsn = cursor.fetchone()[0]
    started = time.monotonic()
    with connections["replica"].cursor() as cursor:
        while True:
            cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [lsn])
            if cursor.fetchone()[0]:
                return time.monotonic() - started
            if time.monotonic() - started > 30:
                raise SystemExit("the standby did not replay the primary's WAL within 30 s")
            time.sleep(0.05)


def in_recovery(alias: str) -> bool:
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery()")
        return cursor.fetchone()[0]


class Queries:
    """The queries run on one connection in a block (CaptureQueriesContext, minus its connect)."""

    def __init__(self, alias: str):
        self.connection = connections[alias]

    def __enter__(self):
        self.connection.force_debug_cursor = True
        self.start = len(self.connection.queries_log)
        return self

    def __exit__(self, *exc):
        self.connection.force_debug_cursor = False
        self.count = len(self.connection.queries_log) - self.start


def dashboard(tenant: Tenant) -> dict:
    """What the tenant's dashboard selectors return, and on which connections they queried."""
    connection.set_tenant(tenant)  # what TenantMainMiddleware does for a request
    course = Course.objects.get(slug="course")
    with Queries("replica") as on_replica, Queries("default") as on_default:
        daily = course_daily(course=course, period=PERIOD)
        overview = tenant_overview(period=PERIOD)
    return {
        "enrollments": daily["new_enrollments"],
        "active": daily["active_learners"],
        "overview": [(c["title"], c["enrollments"]) for c in overview["courses"]],
        "replica_queries": on_replica.count,
        "default_queries": on_default.count,
        "replica_search_path": connections["replica"].schema_name,
    }


def main() -> None:
    out: dict = {}
    tenants = seed()
    out["replay_seconds"] = wait_for_replay()
    out["replica_in_recovery"] = in_recovery("replica")
    out["default_in_recovery"] = in_recovery("default")

    # Requests for acme, then globex, then acme again, on this one thread.
    out["acme"] = dashboard(tenants["acme"])
    out["globex"] = dashboard(tenants["globex"])
    out["acme_again"] = dashboard(tenants["acme"])

    # Writes inside a replica read go to the primary, also for a row loaded from the standby.
    connection.set_tenant(tenants["acme"])
    with reading_from_replica() as alias:
        row = CourseDay.objects.get(day=TODAY)
        out["row_read_from"] = row._state.db
        row.new_enrollments += 1
        row.save()
        out["write_alias"] = alias
    with schema_context(tenants["acme"].schema_name):
        out["written"] = CourseDay.objects.using("default").get(day=TODAY).new_enrollments

    # Inside a transaction on default, reports read default (they may need its own writes).
    connection.set_tenant(tenants["acme"])
    with transaction.atomic(), Queries("replica") as on_replica:
        course_daily(course=Course.objects.get(slug="course"), period=PERIOD)
    out["replica_queries_in_atomic"] = on_replica.count

    # The standby goes away under an open connection: the report is served from default.
    subprocess.run(
        ["runuser", "-u", "postgres", "--", os.environ["PG_CTL"], "-D", os.environ["REPLICA_PGDATA"],
         "-m", "immediate", "-w", "stop"],
        check=True, capture_output=True, cwd="/",
    )  # fmt: skip
    out["after_stop"] = dashboard(tenants["acme"])
    out["warnings_after_stop"] = list(warnings.messages)
    # And once the retry pause is over, a new connection is refused: default again.
    replica_module._down_until = 0.0
    warnings.messages.clear()
    out["refused"] = dashboard(tenants["acme"])
    out["warnings_refused"] = list(warnings.messages)
    print("SCENARIO " + json.dumps(out))


if __name__ == "__main__":
    main()
