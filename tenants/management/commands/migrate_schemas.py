"""migrate_schemas at 2,000 tenants: public first, then the template, then the tenants behind.

- Which tenant schemas need work is known from one query (tenants.migration_state): a
  no-op run asks no schema.
- Each schema is migrated in one transaction together with the record of its new state,
  so a failure leaves it exactly as it was, never half-migrated.
- Tenant schemas run in parallel in `--processes` forked workers (one connection each,
  closed after every schema, so a worker's backend memory stays that of one schema).
- Progress is printed as schemas finish; failures are listed at the end with their
  error, kept in tenants_schemastate, and retried alone with `--retry-failed`.
  An interrupted run (Ctrl-C) stops at once, rolling back the schemas in progress, and is
  resumed by running it again: finished schemas are skipped.

The rules for writing migrations that are safe to run while the site is up are in
docs/migrations.md.
"""

from __future__ import annotations

import io
import multiprocessing
import signal
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection, connections, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder
from django_tenants.management.commands import SyncCommon
from django_tenants.management.commands.migrate_schemas import MigrateSchemasCommand
from django_tenants.utils import get_public_schema_name, get_tenant_base_migrate_command_class, schema_exists

from tenants import migration_state
from tenants.introspection import schema_scoped_introspection


@dataclass(frozen=True)
class Outcome:
    schema_name: str
    ok: bool
    seconds: float
    applied: int = 0
    error: str = ""
    output: str = ""


def _django_options(options: dict) -> dict:
    # Checks ran once for the whole command; per schema they would cost more than the migration.
    return {**options, "skip_checks": True}


def migrate_one_schema(schema_name: str, args: tuple, options: dict) -> Outcome:
    """Migrate one schema in one transaction with the record of its state; never raises."""
    started = time.monotonic()
    out = io.StringIO()
    record = not (options.get("plan") or options.get("check_unapplied"))
    chosen_target = bool(options.get("app_label"))
    try:
        # Django lists the schema's tables several times per migrate; its own query costs time
        # proportional to every tenant's relations together (tenants/introspection.py).
        with schema_scoped_introspection(connection):
            connection.set_schema(schema_name, include_public=False)
            # django_migrations must exist in the schema itself, or the public one would be read.
            MigrationRecorder(connection).ensure_schema()
            connection.set_schema(schema_name)
            with transaction.atomic():
                command = get_tenant_base_migrate_command_class()(stdout=out, stderr=out)
                command.execute(*args, **_django_options(options))
                connection.set_schema(schema_name)
                if chosen_target:
                    migration_state.schema_state_forget(schema_names=[schema_name])
                elif record:
                    migration_state.schema_state_record_success(schema_name=schema_name)
    except Exception as exc:  # every failure is reported per schema; the run goes on
        error = f"{type(exc).__name__}: {exc}".strip()
        try:
            connection.set_schema_to_public()
            migration_state.schema_state_record_failure(schema_name=schema_name, error=error)
        except Exception as record_exc:
            error += f" (and its failure could not be recorded: {record_exc})"
        return Outcome(schema_name, False, time.monotonic() - started, error=error, output=out.getvalue())
    finally:
        connection.set_schema_to_public()
    output = out.getvalue()
    applied = output.count("  Applying ") + output.count("  Unapplying ")
    return Outcome(schema_name, True, time.monotonic() - started, applied=applied, output=output)


def _worker_init() -> None:
    # Ctrl-C reaches the whole process group: the parent alone decides to stop (and stops the
    # workers), rather than each worker dying mid-schema and the pool replacing it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _stop_as_if_interrupted(signum, frame) -> None:
    # A deploy tool, systemd or Kubernetes stops a job with SIGTERM: stop as Ctrl-C does (the
    # schemas in flight roll back whole, the message says how to resume) instead of dying silently.
    raise KeyboardInterrupt


def _worker(job: tuple[str, tuple, dict]) -> Outcome:
    schema_name, args, options = job
    try:
        return migrate_one_schema(schema_name, args, options)
    finally:
        # A new backend per schema: PostgreSQL's caches of one schema's relations do not pile up.
        connections.close_all()


class Command(MigrateSchemasCommand):
    help = (
        "Migrate the public schema, then the tenant template, then every tenant schema that is "
        "behind (in parallel, one transaction per schema). --schema X migrates one schema; "
        "--check lists what is behind; --retry-failed retries the schemas whose last attempt failed."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--processes",
            type=int,
            default=None,
            help="Tenant schemas migrated at once, each with its own connection "
            "(default TENANT_MIGRATION_PROCESSES).",
        )
        parser.add_argument(
            "--retry-failed",
            action="store_true",
            help="Only the tenant schemas whose last migration failed.",
        )
        parser.add_argument(
            "--verify",
            action="store_true",
            help="Read every schema's own django_migrations instead of trusting the recorded state.",
        )
        parser.add_argument(
            "--failures",
            action="store_true",
            help="List the schemas whose last migration failed, with their error, and stop.",
        )

    def handle(self, *args, **options):
        SyncCommon.handle(self, *args, **options)
        self.verbosity = int(options.get("verbosity", 1))
        public = get_public_schema_name()
        if options["failures"]:
            self._print_failures()
            return
        processes = options["processes"]
        if processes is None:
            processes = settings.TENANT_MULTIPROCESSING_MAX_PROCESSES
        if processes < 1:
            raise CommandError("--processes must be 1 or more.")
        single = self.schema_name if self.schema_name and self.schema_name != public else None

        if options["check_unapplied"]:
            self._check(single)
            return
        if self.sync_public and not single:
            self._migrate_public(args, options)
        if self.sync_tenant:
            if single:
                self._migrate_single(single, args, options)
            else:
                self._migrate_tenants(args, options, processes)
        if self.sync_public and not single:
            from tenants.services import public_tenant_ensure

            connection.set_schema_to_public()
            public_tenant_ensure()

    # --- public -------------------------------------------------------------------------
    def _migrate_public(self, args, options) -> None:
        connection.set_schema_to_public()
        if self.verbosity >= 1:
            self.stdout.write(self.style.MIGRATE_HEADING("Public schema (shared apps):"))
        command = get_tenant_base_migrate_command_class()(stdout=self.stdout, stderr=self.stderr)
        with schema_scoped_introspection(connection):
            command.execute(*args, **_django_options(options))
        connection.set_schema_to_public()

    # --- one tenant schema --------------------------------------------------------------
    def _migrate_single(self, schema_name: str, args, options) -> None:
        if not schema_exists(schema_name):
            raise CommandError(f"Schema '{schema_name}' does not exist; `manage.py list_tenants` shows them.")
        outcome = migrate_one_schema(schema_name, args, options)
        if self.verbosity >= 2 or options.get("plan"):
            self.stdout.write(outcome.output)
        if not outcome.ok:
            raise CommandError(f"{schema_name}: {outcome.error}. Nothing in it was changed.")
        if self.verbosity >= 1 and not options.get("plan"):
            self.stdout.write(f"{schema_name}: {self._applied(outcome)}")

    # --- every tenant schema ------------------------------------------------------------
    def _tenant_schemas_to_run(self, options) -> list[str]:
        connection.set_schema_to_public()
        template = settings.TENANT_BASE_SCHEMA
        if not schema_exists(template):
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE SCHEMA "{template}"')
        every = [template, *self._tenant_names()]
        if options.get("app_label") or options.get("plan") or options.get("fake"):
            # A chosen target, a plan or a fake run concerns every schema, whatever it recorded.
            return every
        if options["verify"]:
            behind = set(migration_state.schema_state_verify(schema_names=every))
            recorded = set(migration_state.schemas_behind())
            return [name for name in every if name in behind or name in recorded]
        return migration_state.schemas_to_migrate(failed_only=options["retry_failed"])

    def _tenant_names(self) -> list[str]:
        from tenants.models import Tenant

        return list(
            Tenant.objects.exclude(schema_name=get_public_schema_name())
            .order_by("schema_name")
            .values_list("schema_name", flat=True)
        )

    def _migrate_tenants(self, args, options, processes: int) -> None:
        started = time.monotonic()
        schemas = self._tenant_schemas_to_run(options)
        template = settings.TENANT_BASE_SCHEMA
        if self.verbosity >= 1:
            self.stdout.write(self.style.MIGRATE_HEADING("Tenant schemas:"))
        if not schemas:
            if self.verbosity >= 1:
                self.stdout.write("  every tenant schema and the template are up to date")
            return
        failures: list[Outcome] = []
        total = len(schemas)
        # The template first, in this process: new tenants are cloned from it.
        if template in schemas:
            schemas.remove(template)
            outcome = migrate_one_schema(template, args, options)
            self._report(outcome, 0, total, options)
            if not outcome.ok:
                failures.append(outcome)
        jobs = [(name, args, options) for name in schemas]
        done = total - len(jobs)
        if jobs:
            connections.close_all()
            workers = min(processes, len(jobs))
            if workers == 1:
                results = map(_worker, jobs)
            else:
                pool = multiprocessing.get_context("fork").Pool(processes=workers, initializer=_worker_init)
                results = pool.imap_unordered(_worker, jobs, chunksize=1)
            # After the fork, so the workers keep the default (pool.terminate() stops them with it).
            previous = signal.signal(signal.SIGTERM, _stop_as_if_interrupted)
            stopped = True
            try:
                for outcome in results:
                    self._report(outcome, done, total, options)
                    done += 1
                    if not outcome.ok:
                        failures.append(outcome)
                stopped = False
            except KeyboardInterrupt:
                raise CommandError(
                    f"Interrupted after {done} of {total} schema(s); the schemas in progress were rolled "
                    "back whole. Run the same command again to resume: finished schemas are skipped."
                ) from None
            finally:
                signal.signal(signal.SIGTERM, previous)
                if workers > 1:
                    if stopped:
                        # close() + join() would run every queued schema (and wait forever for one
                        # whose worker died): stop the workers; their open transactions roll back.
                        pool.terminate()
                    else:
                        pool.close()
                    pool.join()
        if self.verbosity >= 1:
            ok = total - len(failures)
            self.stdout.write(
                f"  {ok} schema(s) migrated, {len(failures)} failed, in {time.monotonic() - started:.1f} s"
            )
        if failures:
            listed = "\n".join(f"  {o.schema_name}: {o.error}" for o in failures)
            raise CommandError(
                f"{len(failures)} schema(s) failed and were left as they were:\n{listed}\n"
                "Fix the cause, then run `manage.py migrate_schemas --retry-failed`."
            )

    def _report(self, outcome: Outcome, index: int, total: int, options) -> None:
        if self.verbosity >= 2 or options.get("plan"):
            self.stdout.write(outcome.output)
        if self.verbosity < 1 or (options.get("plan") and outcome.ok):
            return
        width = len(str(total))
        prefix = f"  [{index + 1:>{width}}/{total}] {outcome.schema_name}:"
        if outcome.ok:
            self.stdout.write(f"{prefix} {self._applied(outcome)} ({outcome.seconds:.1f} s)")
        else:
            self.stdout.write(self.style.ERROR(f"{prefix} FAILED: {outcome.error}"))

    @staticmethod
    def _applied(outcome: Outcome) -> str:
        if outcome.applied:
            return f"{outcome.applied} migration(s) applied or unapplied"
        return "up to date"

    # --- reports ------------------------------------------------------------------------
    def _print_failures(self) -> None:
        failures = migration_state.schema_state_failures()
        if not failures:
            self.stdout.write("No schema's last migration failed.")
            return
        for state in failures:
            self.stdout.write(f"{state.schema_name} ({state.failed_at:%Y-%m-%d %H:%M}): {state.error}")

    def _check(self, single: str | None) -> None:
        """Say what is pending, public and tenant apart; exit 1 if anything is."""
        pending = []
        connection.set_schema_to_public()
        if self.sync_public and not single:
            executor = MigrationExecutor(connection)
            plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
            if plan:
                pending.append(f"public: {len(plan)} migration(s) to apply")
        if self.sync_tenant:
            behind = migration_state.schemas_behind(schema_names=[single] if single else None)
            if behind:
                shown = ", ".join(behind[:10]) + (" ..." if len(behind) > 10 else "")
                pending.append(f"tenant schemas behind: {len(behind)} ({shown})")
        if pending:
            raise CommandError("Unapplied migrations: " + "; ".join(pending))
        self.stdout.write("No migrations to apply.")
