"""`manage.py replay_dead_letters`: send dead-lettered events back to their streams."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from analytics.consumer import dead_stream
from analytics.ingest import maxlen, redis_client, stream_names


class Command(BaseCommand):
    help = (
        "Move every event of the dead-letter streams back to the stream it came from, once the "
        "cause is fixed. Event ids are kept, so an event applied meanwhile is not counted twice."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="List what would be replayed; change nothing."
        )

    def handle(self, *args, **options) -> None:
        client = redis_client()
        replayed = skipped = 0
        for stream in stream_names():
            dead = dead_stream(stream)
            try:
                entries = client.xrange(dead)
            except Exception as exc:
                raise CommandError(
                    f"Redis does not answer ({exc}); {replayed} replayed before it stopped."
                ) from exc
            for entry_id, fields in entries:
                origin = fields.get(b"stream", b"").decode()
                raw = fields.get(b"e", b"")
                error = fields.get(b"error", b"").decode()
                if origin != stream or not raw:
                    self.stdout.write(f"skipped {entry_id.decode()}: no event or unknown stream '{origin}'")
                    skipped += 1
                    continue
                self.stdout.write(
                    f"{'would replay' if options['dry_run'] else 'replayed'} {entry_id.decode()}: {error}"
                )
                if not options["dry_run"]:
                    # One MULTI: the stream and its dead-letter stream share a cluster slot.
                    pipe = client.pipeline(transaction=True)
                    pipe.xadd(stream, {"e": raw}, maxlen=maxlen(), approximate=True)
                    pipe.xdel(dead, entry_id)
                    pipe.execute()
                replayed += 1
        self.stdout.write(self.style.SUCCESS(f"{replayed} replayed, {skipped} skipped"))
