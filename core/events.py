"""Domain events: what happened, announced inside the transaction that made it happen.

A service calls `emit("enrollment.created", data={...})` while its transaction is open.
Receivers (webhooks' outbox today) write their rows in that same transaction, so an event
exists exactly when the change it describes was committed: a rollback takes both away, and
a broker that is down loses nothing. Receivers must not do I/O; they queue work for after
commit. `core` imports no app, so every app may emit.
"""

from __future__ import annotations

from collections.abc import Callable

from django.dispatch import Signal

# The event types a tenant can subscribe to, with the sentence shown to admins. A name is
# `<object>.<past tense>`; `data` carries ids and the few fields a receiver needs to act.
EVENT_TYPES: dict[str, str] = {
    "enrollment.created": "A learner was enrolled in a course (by themselves, an admin or an invitation).",
    "enrollment.completed": "A learner completed a course: every required lesson is done.",
    "lesson.completed": "A learner completed a lesson.",
    "quiz.graded": "A quiz attempt got its final score (at hand-in, or when staff finished grading).",
    "certificate.issued": "A certificate was issued to a learner.",
    "certificate.revoked": "A certificate was revoked.",
}
# Sent only by the "Send a test event" button, to the one endpoint it was pressed for.
TEST_EVENT = "webhook.test"

domain_event = Signal()


class UnknownEvent(ValueError):
    """An event type that is not in EVENT_TYPES: a typo in the emitting service."""


def emit(event_type: str, *, data: dict | Callable[[], dict]) -> None:
    """Announce `event_type` to every receiver, in this transaction.

    `data` is JSON-ready, or a function making it: a receiver calls it only when someone
    listens, so an event nobody subscribed to costs no query to describe.
    """
    if event_type not in EVENT_TYPES:
        raise UnknownEvent(f"{event_type!r} is not a known event type; add it to core.events.EVENT_TYPES.")
    domain_event.send(sender=None, event_type=event_type, data=data)


def event_data(data: dict | Callable[[], dict]) -> dict:
    """What a receiver sends: `data` itself, or what its function makes."""
    return data() if callable(data) else data
