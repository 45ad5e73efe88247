"""`manage.py analytics_status`: the event pipeline at a glance, for operators."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from analytics.consumer import FAILURES_KEY, GROUP, dead_stream, dead_streams, ensure_groups
from analytics.ingest import REJECTED_KEY, redis_client, stream_names
from analytics.models import OutboxEvent
from tenants.models import Tenant


def _entry_ms(entry_id) -> int:
    raw = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
    return int(raw.split("-")[0])


def stream_status(client, stream: str) -> dict:
    """Length, group lag, pending count and the oldest entry not yet applied (its id's age)."""
    length = client.xlen(stream)
    groups = {g["name"].decode(): g for g in client.xinfo_groups(stream)}
    group = groups.get(GROUP)
    pending = group["pending"] if group else 0
    lag = group.get("lag") if group else length
    oldest = None
    if group:
        summary = client.xpending(stream, GROUP)
        if summary["pending"]:
            oldest = _entry_ms(summary["min"])
        else:
            after = client.xrange(stream, f"({group['last-delivered-id'].decode()}", "+", count=1)
            if after:
                oldest = _entry_ms(after[0][0])
    elif length:
        oldest = _entry_ms(client.xrange(stream, "-", "+", count=1)[0][0])
    return {"stream": stream, "length": length, "lag": lag, "pending": pending, "oldest_ms": oldest}


class Command(BaseCommand):
    help = (
        "Print each event stream's length, consumer-group lag and pending count, the dead-letter "
        "count, rejected events, each tenant's outbox, and the age of the oldest unprocessed event."
    )

    def handle(self, *args, **options) -> None:
        client = redis_client()
        try:
            client.ping()
        except Exception as exc:
            raise CommandError(f"Redis does not answer ({exc}); events are going to the outboxes.") from exc
        ensure_groups(client)
        now_ms = time.time() * 1000
        rows = [stream_status(client, s) for s in stream_names()]
        self.stdout.write(f"{'stream':<14} {'length':>9} {'lag':>9} {'pending':>9}  oldest unprocessed")
        for row in rows:
            age = f"{(now_ms - row['oldest_ms']) / 1000:.1f} s" if row["oldest_ms"] else "-"
            lag = "?" if row["lag"] is None else row["lag"]
            self.stdout.write(f"{row['stream']:<14} {row['length']:>9} {lag:>9} {row['pending']:>9}  {age}")
        oldest = [r["oldest_ms"] for r in rows if r["oldest_ms"]]
        overall = f"{(now_ms - min(oldest)) / 1000:.1f} s" if oldest else "none (all caught up)"
        self.stdout.write(f"oldest unprocessed event: {overall}")
        dead = sum(client.xlen(name) for name in dead_streams())
        self.stdout.write(f"dead-lettered: {dead} (streams {dead_stream(stream_names()[0])} and so on)")
        self.stdout.write(f"failing, not yet dead: {client.hlen(FAILURES_KEY)}")
        rejected = {k.decode(): int(v) for k, v in client.hgetall(REJECTED_KEY).items()}
        self.stdout.write(
            "rejected: " + (", ".join(f"{k} {v}" for k, v in sorted(rejected.items())) or "none")
        )
        for tenant in Tenant.objects.exclude(schema_name="public").order_by("slug"):
            with schema_context(tenant.schema_name):
                waiting = OutboxEvent.objects.count()
            if waiting:
                self.stdout.write(f"outbox {tenant.slug}: {waiting} events waiting for Redis")
