"""Decoding stream entries for the consumer: JSON parsed and checked in one pass, in C (msgspec).

The consumer reads tens of thousands of events per second; parsing them with the
standard `json` module into dicts and then walking each payload with the Python checks
of `ingest/schemas.py` cost most of its time (ADR 0023). Here each event type's payload
schema becomes a msgspec Struct, built from the same table (`schemas.SCHEMAS`), so the
consumer and track() accept exactly the same payloads: every listed field required, no
other field, ids positive integers, seconds between 0 and MAX_SECONDS, numbers finite and
not negative, booleans true or false (not 0/1), at most MAX_QUESTIONS questions.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from .ingest import schemas
from .ingest.schemas import MAX_QUESTIONS, MAX_SECONDS, InvalidEvent

# Ids are not bounded above here, as in track(): an id no bigint column holds is refused by
# the database, and the consumer dead-letters it (a poison event, not a malformed one).
Id = Annotated[int, msgspec.Meta(ge=1)]
Seconds = Annotated[float, msgspec.Meta(ge=0, le=MAX_SECONDS)]
# JSON has no NaN or infinity, and msgspec refuses numbers that overflow a float: finite.
Number = Annotated[float, msgspec.Meta(ge=0)]


class Question(msgspec.Struct, forbid_unknown_fields=True):
    question_id: Id
    correct: bool
    points: Number
    max_points: Number


_TYPES = {
    schemas._id: Id,
    schemas._seconds: Seconds,
    schemas._number: Number,
    schemas._bool: bool,
    schemas._questions: Annotated[list[Question], msgspec.Meta(max_length=MAX_QUESTIONS)],
}
assert set(schemas.QUESTION) == set(Question.__struct_fields__), "Question must follow schemas.QUESTION"


def _payload_struct(event_type: str, spec: dict) -> type:
    name = "".join(part.title() for part in event_type.replace(".", "_").split("_"))
    return msgspec.defstruct(
        name, [(field, _TYPES[check]) for field, check in spec.items()], forbid_unknown_fields=True
    )


PAYLOADS: dict[str, msgspec.json.Decoder] = {
    event_type: msgspec.json.Decoder(_payload_struct(event_type, spec))
    for event_type, spec in schemas.SCHEMAS.items()
}


class Envelope(msgspec.Struct):
    """The envelope track() writes; the payload is decoded by its type's decoder afterwards."""

    id: str
    type: str
    v: int
    tenant: str
    schema: str
    at: float
    payload: msgspec.Raw
    user: Id | None = None


_ENVELOPE = msgspec.json.Decoder(Envelope)


def decode_envelope(raw: bytes) -> Envelope:
    try:
        return _ENVELOPE.decode(raw)
    except msgspec.DecodeError as exc:  # ValidationError is a DecodeError too
        raise InvalidEvent(f"the event is malformed: {exc}") from None


def decode_payload(event_type: str, raw: msgspec.Raw | bytes):
    """The payload as a Struct of its type (attributes named as in schemas.SCHEMAS)."""
    decoder = PAYLOADS.get(event_type)
    if decoder is None:
        raise InvalidEvent(f"unknown event type {event_type!r}")
    try:
        return decoder.decode(raw)
    except msgspec.DecodeError as exc:
        raise InvalidEvent(f"{event_type} payload is invalid: {exc}") from None
