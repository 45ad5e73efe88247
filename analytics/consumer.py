"""The consumer: Redis Streams -> reporting tables, exactly-once in effect.

One consumer group (`reports`) reads every partition stream. A batch is read with one
XREADGROUP over all streams, decoded and checked (analytics/decoding.py), grouped by
tenant schema, and for each tenant written in ONE transaction: the batch's event ids go
into the tenant's ProcessedEvent table (INSERT ... ON CONFLICT DO NOTHING), and only
events whose ids were new count, upserted with one set-based statement per reporting
table (INSERT ... SELECT FROM unnest(...) ON CONFLICT DO UPDATE). The batch is summed
before the transaction as if all its ids were new; if the dedupe insert inserted fewer,
the transaction is rolled back and redone with only the new ones (apply_events). After
the commit the entries are XACKed. A crash between commit and XACK redelivers the
entries, and their ids are already in ProcessedEvent: nothing counts twice. ADR 0023
has the measurements behind the shape of this loop.

The consumer is cross-tenant by design (ADR 0020): it runs with the connection on
`public`, and addresses tenant tables by schema-qualified names of schemas it found in
the Tenant table, after checking that each event's tenant uuid matches its schema.

Entries a dead consumer left pending are taken over with XAUTOCLAIM. A group of events
whose transaction fails is retried one event at a time; an event that fails
ANALYTICS_MAX_FAILURES times goes to its partition's dead-letter stream with its error and is
acknowledged, and the rest of the batch goes on. Malformed events (bad JSON, unknown
type, a payload that fails its schema, a tenant that does not match, clock skew) are
dropped at once with a log line and a counter (`analytics:rejected`).
"""

from __future__ import annotations

import gc
import logging
import os
import re
import socket
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

import msgspec
from django.conf import settings
from django.db import connection, transaction

from tenants.models import Tenant
from tenants.redis_clients import is_cluster, redis_from_url

from .decoding import decode_envelope, decode_payload
from .ingest import REJECTED_KEY, redis_client, stream_names
from .ingest.schemas import MAX_EVENT_BYTES, SCHEMA_VERSION, InvalidEvent

log = logging.getLogger("analytics.consumer")

GROUP = "reports"
FAILURES_KEY = "analytics:failures"
# A "blocking" read on a Redis Cluster asks the nodes again this often while it waits.
CLUSTER_POLL_SECONDS = 0.05
# A heartbeat claiming more than this many seconds watched is capped (players send ~15 s).
MAX_HEARTBEAT_SECONDS = 60
# Events this far ahead of the consumer's clock are refused (a wrong clock, not the future).
MAX_FUTURE_SKEW_SECONDS = 300


def _array(values) -> str:
    """A PostgreSQL array literal of numbers, booleans, dates or uuid strings.

    Sent as one text parameter and cast in SQL (`%s::bigint[]`): much cheaper than adapting
    thousands of Python values one by one. msgspec writes the JSON array in C, and a JSON
    array of these values is a PostgreSQL array literal once its brackets become braces
    (dates and strings come quoted; the strings here are checked uuids, nothing to escape;
    numbers are finite: the decoder refused the rest)."""
    if not isinstance(values, list | tuple):
        values = list(values)
    return "{" + _json(values)[1:-1].decode() + "}"


_quoted = _bools = _array
_json = msgspec.json.encode


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_DAYS: dict[int, date] = {}


def _day(timestamp: float) -> date:
    """The UTC date of a timestamp, memoized per day number (the consumer asks millions of times)."""
    number = int(timestamp // 86400)
    day = _DAYS.get(number)
    if day is None:
        day = _DAYS[number] = datetime.fromtimestamp(number * 86400, UTC).date()
    return day


def consumer_client():
    """A Redis connection for the consumer: unlike track()'s, it may wait on a blocking read."""
    url = getattr(settings, "ANALYTICS_REDIS_URL", settings.REDIS_URL)
    return redis_from_url(
        url,
        cluster=getattr(settings, "ANALYTICS_REDIS_CLUSTER", False),
        socket_connect_timeout=2,
        socket_timeout=30,
    )


def dead_stream(stream: str) -> str:
    """The dead-letter stream of a partition's stream: `events:{p}:dead`, in the same Redis
    Cluster slot (hash tag `{p}`), so a replay moves an entry back in one MULTI."""
    return f"{stream}:dead"


def dead_streams() -> list[str]:
    return [dead_stream(stream) for stream in stream_names()]


def max_failures() -> int:
    return int(getattr(settings, "ANALYTICS_MAX_FAILURES", 3))


@dataclass
class BatchResult:
    read: int = 0
    applied: int = 0
    duplicates: int = 0
    rejected: int = 0
    failed: int = 0
    dead: int = 0
    claimed: int = 0


class Event(NamedTuple):
    """One decoded event. A tuple: the consumer makes tens of thousands a second."""

    stream: str
    entry_id: bytes
    id: str
    type: str
    schema: str
    user: int | None
    at: float  # seconds since the epoch (UTC)
    payload: Any  # a Struct of its type (analytics.decoding), fields as in schemas.SCHEMAS


def ensure_groups(client=None) -> None:
    """Create the consumer group on every stream (and the streams), if missing."""
    client = client or redis_client()
    pipe = client.pipeline(transaction=False)
    for stream in stream_names():
        pipe.xgroup_create(stream, GROUP, id="0", mkstream=True)
    for result in pipe.execute(raise_on_error=False):
        if isinstance(result, Exception) and "BUSYGROUP" not in str(result):
            raise result


def _tenant_schemas() -> dict[str, str]:
    """{tenant uuid: schema name} of every tenant (read from public)."""
    return {
        str(u): s for u, s in Tenant.objects.exclude(schema_name="public").values_list("uuid", "schema_name")
    }


def parse(stream: str, entry_id: bytes, fields: dict, tenants: dict[str, str]) -> Event:
    """One stream entry as an Event; InvalidEvent when it must be dropped."""
    raw = fields.get(b"e")
    if raw is None:
        raise InvalidEvent("the entry has no event")
    if len(raw) > MAX_EVENT_BYTES:
        raise InvalidEvent(f"the event is larger than {MAX_EVENT_BYTES} bytes")
    data = decode_envelope(raw)
    if data.v != SCHEMA_VERSION:
        raise InvalidEvent(f"unknown event version {data.v!r}")
    event_id = data.id
    if not _UUID.fullmatch(event_id):
        raise InvalidEvent("the event id is not a UUID (lower-case, with dashes)")
    schema = tenants.get(data.tenant)
    if schema is None or schema != data.schema:
        raise InvalidEvent("the event's tenant does not exist or does not match its schema")
    payload = decode_payload(data.type, data.payload)
    at = data.at
    if at > time.time() + MAX_FUTURE_SKEW_SECONDS or at < 0:
        raise InvalidEvent("occurred_at is in the future")
    return Event(stream, entry_id, event_id, data.type, schema, data.user, at, payload)


class Aggregates:
    """One batch of one tenant, summed in Python, ready for set-based upserts."""

    def __init__(self) -> None:
        self.course_day: dict[tuple, list[float]] = defaultdict(lambda: [0, 0, 0, 0.0, 0, 0.0, 0])
        self.learner_day: set[tuple] = set()
        self.learner_course: dict[tuple, list] = {}
        self.lesson_learner: dict[tuple, list] = {}
        self.questions: dict[int, list] = {}

    def add_all(self, events) -> None:
        """Sum the events in (one loop, names bound locally: this runs once per event)."""
        course_day, learner_day = self.course_day, self.learner_day
        learner_course, lesson_learner = self.learner_course, self.lesson_learner
        days = _DAYS
        for event in events:
            user = event.user
            t = event.type
            if user is None or t == "course.published":  # an author's or the system's act
                continue
            p = event.payload
            course = p.course_id
            at = event.at
            day = days.get(int(at // 86400)) or _day(at)
            learner_day.add((course, day, user))
            lc = learner_course.get((course, user))
            if lc is None:
                lc = learner_course[(course, user)] = [at, 0.0]
            elif at > lc[0]:
                lc[0] = at
            row = course_day[(course, day)]
            if t == "video.progress":
                seconds = p.seconds_watched
                if seconds > MAX_HEARTBEAT_SECONDS:
                    seconds = MAX_HEARTBEAT_SECONDS
                row[3] += seconds
                lc[1] += seconds
                duration = p.duration
                percent = min(100.0, 100.0 * p.position / duration) if duration > 0 else 0.0
                lesson = lesson_learner.get((p.lesson_id, user))
                if lesson is None:
                    lesson_learner[(p.lesson_id, user)] = [course, False, percent]
                elif percent > lesson[2]:
                    lesson[2] = percent
            elif t == "lesson.viewed":
                lesson_learner.setdefault((p.lesson_id, user), [course, False, 0.0])
            elif t == "lesson.completed":
                row[1] += 1
                lesson = lesson_learner.setdefault((p.lesson_id, user), [course, False, 0.0])
                lesson[1] = True
                lesson[2] = 100.0
            elif t == "enrollment.created":
                row[0] += 1
            elif t == "enrollment.completed":
                row[2] += 1
            elif t == "quiz.graded":
                row[4] += 1
                row[5] += p.score / p.max_score if p.max_score > 0 else 0.0
                for q in p.questions:
                    stat = self.questions.setdefault(q.question_id, [course, p.assessment_id, 0, 0, 0.0, 0.0])
                    stat[2] += 1
                    stat[3] += 1 if q.correct else 0
                    stat[4] += q.points
                    stat[5] += q.max_points
            elif t == "certificate.issued":
                row[6] += 1

    def statements(self, schema: str) -> list[tuple[str, list[str]]]:
        """The upserts of this batch, built before the transaction opens (it holds row locks).

        Each statement sorts its rows by the conflict key (in SQL: cheaper than sorting tuples in
        Python) and tables go in a fixed order, so two consumers upserting
        overlapping rows lock them in the same order and cannot deadlock. The few rows every
        batch touches (a course's day, a question) come last: they are locked for the least
        time, so a second consumer waits on them as little as possible.
        """
        s = connection.ops.quote_name(schema)
        out: list[tuple[str, list[str]]] = []
        if self.learner_day:
            courses, days, users = zip(*self.learner_day, strict=True)
            out.append(
                (
                    f"""INSERT INTO {s}.analytics_learnerday (course_id, day, user_id)
                SELECT * FROM unnest(%s::bigint[], %s::date[], %s::bigint[]) AS x(c, d, u) ORDER BY c, d, u
                ON CONFLICT DO NOTHING""",  # noqa: S608 - quoted schema
                    [_array(courses), _quoted(days), _array(users)],
                )
            )
        if self.lesson_learner:
            lessons, users = zip(*self.lesson_learner, strict=True)
            courses, completed, percents = zip(*self.lesson_learner.values(), strict=True)
            out.append(
                (
                    f"""INSERT INTO {s}.analytics_lessonlearner AS t
                    (lesson_id, user_id, course_id, viewed, completed, watch_percent)
                SELECT l, u, c, true, d, w FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[],
                    %s::bool[], %s::float8[]) AS x(l, u, c, d, w) ORDER BY l, u
                ON CONFLICT (lesson_id, user_id) DO UPDATE SET
                    viewed = true,
                    completed = t.completed OR EXCLUDED.completed,
                    watch_percent = GREATEST(t.watch_percent, EXCLUDED.watch_percent)""",  # noqa: S608
                    [_array(lessons), _array(users), _array(courses), _bools(completed), _array(percents)],
                )
            )
        if self.learner_course:
            courses, users = zip(*self.learner_course, strict=True)
            last, seconds = zip(*self.learner_course.values(), strict=True)
            out.append(
                (
                    f"""INSERT INTO {s}.analytics_learnercourse AS t
                    (course_id, user_id, last_active, seconds_spent)
                SELECT c, u, to_timestamp(a), s FROM unnest(%s::bigint[], %s::bigint[], %s::float8[],
                    %s::float8[]) AS x(c, u, a, s) ORDER BY c, u
                ON CONFLICT (course_id, user_id) DO UPDATE SET
                    last_active = GREATEST(t.last_active, EXCLUDED.last_active),
                    seconds_spent = t.seconds_spent + EXCLUDED.seconds_spent""",  # noqa: S608 - quoted schema
                    [_array(courses), _array(users), _array(last), _array(seconds)],
                )
            )
        if self.questions:
            keys = list(self.questions)
            cols = zip(*self.questions.values(), strict=True)
            out.append(
                (
                    f"""INSERT INTO {s}.analytics_questionstat AS t (question_id, course_id, assessment_id,
                    attempts, correct, points_sum, max_points_sum)
                SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::int[], %s::int[],
                    %s::float8[], %s::float8[]) AS x ORDER BY 1
                ON CONFLICT (question_id) DO UPDATE SET
                    attempts = t.attempts + EXCLUDED.attempts,
                    correct = t.correct + EXCLUDED.correct,
                    points_sum = t.points_sum + EXCLUDED.points_sum,
                    max_points_sum = t.max_points_sum + EXCLUDED.max_points_sum""",  # noqa: S608
                    [_array(keys), *map(_array, cols)],
                )
            )
        if self.course_day:
            courses, days = zip(*self.course_day, strict=True)
            cols = zip(*self.course_day.values(), strict=True)
            out.append(
                (
                    f"""INSERT INTO {s}.analytics_courseday AS t (course_id, day, new_enrollments,
                    lesson_completions, course_completions, seconds_watched, quiz_attempts, score_sum,
                    certificates)
                SELECT * FROM unnest(%s::bigint[], %s::date[], %s::int[], %s::int[], %s::int[],
                    %s::float8[], %s::int[], %s::float8[], %s::int[]) AS x ORDER BY 1, 2
                ON CONFLICT (course_id, day) DO UPDATE SET
                    new_enrollments = t.new_enrollments + EXCLUDED.new_enrollments,
                    lesson_completions = t.lesson_completions + EXCLUDED.lesson_completions,
                    course_completions = t.course_completions + EXCLUDED.course_completions,
                    seconds_watched = t.seconds_watched + EXCLUDED.seconds_watched,
                    quiz_attempts = t.quiz_attempts + EXCLUDED.quiz_attempts,
                    score_sum = t.score_sum + EXCLUDED.score_sum,
                    certificates = t.certificates + EXCLUDED.certificates""",  # noqa: S608 - quoted schema
                    [_array(courses), _quoted(days), *map(_array, cols)],
                )
            )
        return out

    def write(self, cursor, schema: str) -> None:
        _execute_all(cursor, self.statements(schema))


def _execute_all(cursor, statements: list[tuple[str, list[str]]]) -> None:
    """All the upserts in one round trip (Django's cursors bind parameters on the client, so
    several statements may share one execute): while a transaction waits on its client it
    holds row locks another consumer may be waiting for."""
    if statements:
        cursor.execute(
            ";\n".join(sql for sql, _ in statements), [p for _, params in statements for p in params]
        )


class _SomeSeenBefore(Exception):
    """Raised inside the transaction to roll it back and take the slow path."""


def apply_events(schema: str, events: list[Event]) -> tuple[int, int]:
    """Write one tenant's events in one transaction; (applied, duplicates).

    Redelivered events are rare (a consumer died between commit and XACK), so the batch is
    summed first as if every event were new, and the dedupe insert only counts the ids it
    inserted. If the count falls short, that transaction is rolled back and the batch is
    written again, summing only the events whose ids the dedupe insert returned.
    """
    unique: dict[str, Event] = {}
    for event in events:
        unique.setdefault(event.id, event)
    ids = _quoted(list(unique))
    aggregates = Aggregates()
    aggregates.add_all(unique.values())
    statements = aggregates.statements(schema)
    s = connection.ops.quote_name(schema)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"""WITH new AS (INSERT INTO {s}.analytics_processedevent (event_id, processed_at)
                    SELECT e, now() FROM unnest(%s::uuid[]) AS e ORDER BY e
                    ON CONFLICT DO NOTHING RETURNING 1)
                SELECT count(*) FROM new""",  # noqa: S608 - quoted schema
                [ids],
            )
            if cursor.fetchone()[0] != len(unique):
                raise _SomeSeenBefore
            _execute_all(cursor, statements)
        return len(unique), len(events) - len(unique)
    except _SomeSeenBefore:
        pass
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {s}.analytics_processedevent (event_id, processed_at)
            SELECT e, now() FROM unnest(%s::uuid[]) AS e ORDER BY e
            ON CONFLICT DO NOTHING RETURNING event_id::text""",  # noqa: S608 - quoted schema
            [ids],
        )
        new = [unique[row[0]] for row in cursor.fetchall()]
        aggregates = Aggregates()
        aggregates.add_all(new)
        aggregates.write(cursor, schema)
    return len(new), len(events) - len(new)


class Consumer:
    def __init__(
        self,
        name: str | None = None,
        *,
        batch: int = 2000,
        claim_idle_ms: int | None = None,
        client=None,
    ) -> None:
        self.name = name or f"{socket.gethostname()}-{os.getpid()}"
        self.batch = batch
        self.claim_idle_ms = (
            claim_idle_ms
            if claim_idle_ms is not None
            else int(getattr(settings, "ANALYTICS_CLAIM_IDLE_MS", 30_000))
        )
        self.client = client or consumer_client()
        self.streams = stream_names()
        self.cluster = is_cluster(self.client)
        self._tenants: dict[str, str] | None = None
        ensure_groups(self.client)

    @property
    def tenants(self) -> dict[str, str]:
        if self._tenants is None:
            self._tenants = _tenant_schemas()
        return self._tenants

    # --- reading ------------------------------------------------------------------
    def read(self, block_ms: int | None = None) -> list[tuple[str, bytes, dict]]:
        if self.cluster:
            return self._read_cluster(block_ms)
        reply = self.client.xreadgroup(
            GROUP, self.name, dict.fromkeys(self.streams, ">"), count=self.batch, block=block_ms
        )
        return [
            (name.decode(), entry_id, fields) for name, entries in reply or [] for entry_id, fields in entries
        ]

    def _read_cluster(self, block_ms: int | None) -> list[tuple[str, bytes, dict]]:
        """On a Redis Cluster the streams live in different slots and one XREADGROUP may only
        name keys of one slot: one XREADGROUP per stream, pipelined (one round trip per node).
        A blocking read cannot wait on several nodes at once, so "block" polls until it ends."""
        deadline = time.monotonic() + (block_ms or 0) / 1000
        while True:
            pipe = self.client.pipeline(transaction=False)
            for stream in self.streams:
                pipe.xreadgroup(GROUP, self.name, {stream: ">"}, count=self.batch)
            entries = [
                (name.decode(), entry_id, fields)
                for reply in pipe.execute()
                for name, stream_entries in reply or []
                for entry_id, fields in stream_entries
            ]
            if entries or time.monotonic() >= deadline:
                return entries
            time.sleep(min(CLUSTER_POLL_SECONDS, max(0.0, deadline - time.monotonic())))

    def claim(self) -> list[tuple[str, bytes, dict]]:
        """Take over entries other consumers left pending longer than claim_idle_ms."""
        pipe = self.client.pipeline(transaction=False)
        for stream in self.streams:
            pipe.xautoclaim(stream, GROUP, self.name, min_idle_time=self.claim_idle_ms, count=self.batch)
        entries = []
        for stream, reply in zip(self.streams, pipe.execute(), strict=True):
            for entry_id, fields in reply[1]:
                if fields is not None:
                    entries.append((stream, entry_id, fields))
        return entries

    # --- processing ---------------------------------------------------------------
    def process(
        self, entries: list[tuple[str, bytes, dict]], result: BatchResult | None = None
    ) -> BatchResult:
        # A batch allocates a few objects per event and builds no reference cycles (its garbage
        # goes by reference counting), yet the allocations trigger the cyclic collector, whose
        # full passes walk every object of the worker (Django included): measured at more than
        # half of the Python time of a batch. So it is paused for the batch and resumed after.
        paused = gc.isenabled()
        gc.disable()
        try:
            return self._process(entries, result or BatchResult())
        finally:
            if paused:
                gc.enable()

    def _process(self, entries: list[tuple[str, bytes, dict]], result: BatchResult) -> BatchResult:
        result.read += len(entries)
        to_ack: list[tuple[str, bytes]] = []
        groups: dict[str, list[Event]] = defaultdict(list)
        rejected: dict[str, int] = defaultdict(int)
        for stream, entry_id, fields in entries:
            try:
                event = parse(stream, entry_id, fields, self.tenants)
            except InvalidEvent as exc:
                log.warning("event %s on %s dropped: %s", entry_id.decode(), stream, exc)
                rejected["invalid"] += 1
                result.rejected += 1
                to_ack.append((stream, entry_id))
                continue
            groups[event.schema].append(event)
        for schema, events in groups.items():
            try:
                applied, duplicates = apply_events(schema, events)
            except Exception:
                log.exception("%d events of %s failed together; retrying one by one", len(events), schema)
                self._one_by_one(schema, events, result, to_ack)
                continue
            result.applied += applied
            result.duplicates += duplicates
            to_ack.extend((e.stream, e.entry_id) for e in events)
        self._ack(to_ack, rejected)
        return result

    def _one_by_one(self, schema: str, events: list[Event], result: BatchResult, to_ack: list) -> None:
        for event in events:
            try:
                applied, duplicates = apply_events(schema, [event])
            except Exception as exc:
                result.failed += 1
                failures = self.client.hincrby(FAILURES_KEY, event.entry_id, 1)
                if failures >= max_failures():
                    log.error("event %s failed %d times; dead-lettered: %s", event.id, failures, exc)
                    self.client.xadd(
                        dead_stream(event.stream),
                        {
                            "stream": event.stream,
                            "entry": event.entry_id,
                            "event_id": event.id,
                            "schema": event.schema,
                            "error": f"{type(exc).__name__}: {exc}"[:2000],
                            "e": self._raw(event),
                        },
                    )
                    self.client.hdel(FAILURES_KEY, event.entry_id)
                    result.dead += 1
                    to_ack.append((event.stream, event.entry_id))
                continue
            result.applied += applied
            result.duplicates += duplicates
            to_ack.append((event.stream, event.entry_id))

    def _raw(self, event: Event) -> bytes:
        entries = self.client.xrange(event.stream, event.entry_id, event.entry_id)
        return entries[0][1].get(b"e", b"") if entries else b""

    def _ack(self, to_ack: list[tuple[str, bytes]], rejected: dict[str, int]) -> None:
        if not to_ack and not rejected:
            return
        by_stream: dict[str, list[bytes]] = defaultdict(list)
        for stream, entry_id in to_ack:
            by_stream[stream].append(entry_id)
        pipe = self.client.pipeline(transaction=False)
        for stream, ids in by_stream.items():
            pipe.xack(stream, GROUP, *ids)
        for reason, n in rejected.items():
            pipe.hincrby(REJECTED_KEY, reason, n)
        pipe.execute()

    def run_once(self, *, claim: bool = False, block_ms: int | None = None) -> BatchResult:
        result = BatchResult()
        if claim:
            claimed = self.claim()
            result.claimed = len(claimed)
            if claimed:
                self.process(claimed, result)
        entries = self.read(block_ms)
        if entries:
            self.process(entries, result)
        return result

    def drain(self, *, seconds: float = 10.0, claim: bool = True) -> BatchResult:
        """Read and apply batches until the streams are empty or `seconds` have passed."""
        total = BatchResult()
        deadline = time.monotonic() + seconds
        first = True
        while True:
            result = self.run_once(claim=claim and first)
            first = False
            for name in total.__dataclass_fields__:
                setattr(total, name, getattr(total, name) + getattr(result, name))
            if result.read == 0 or time.monotonic() > deadline:
                return total
