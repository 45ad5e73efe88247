"""`manage.py consume_events`: run the analytics consumer in the foreground (all tenants)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from analytics.consumer import Consumer


class Command(BaseCommand):
    help = (
        "Apply learner events from the Redis streams to every tenant's reporting tables. "
        "Celery beat does this every 2 s in production; this command is for operators and tests."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--name", help="Consumer name in the group (default: host-pid).")
        parser.add_argument("--batch", type=int, default=2000, help="Entries read per stream per batch.")
        parser.add_argument(
            "--claim-idle-ms",
            type=int,
            default=None,
            help="Take over entries another consumer left pending this long (default: setting).",
        )
        parser.add_argument(
            "--until-empty", action="store_true", help="Stop once the streams have nothing left."
        )

    def handle(self, *args, **options) -> None:
        if options["batch"] < 1 or options["batch"] > 100_000:
            raise CommandError("--batch must be between 1 and 100000.")
        consumer = Consumer(options["name"], batch=options["batch"], claim_idle_ms=options["claim_idle_ms"])
        claim = True
        last_claim = time.monotonic()
        while True:
            result = consumer.drain(seconds=5, claim=claim)
            claim = False
            if result.read:
                self.stdout.write(
                    f"read {result.read}, applied {result.applied}, duplicates {result.duplicates}, "
                    f"rejected {result.rejected}, failed {result.failed}, dead-lettered {result.dead}"
                )
            elif options["until_empty"]:
                return
            else:
                # Wait on the streams (not a sleep): a new event is applied as soon as it lands.
                idle = consumer.run_once(block_ms=1000)
                if idle.read:
                    self.stdout.write(f"read {idle.read}, applied {idle.applied}")
                claim = time.monotonic() - last_claim > 30
                if claim:
                    last_claim = time.monotonic()
