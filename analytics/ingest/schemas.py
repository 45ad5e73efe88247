"""The event types, their payload schemas, and the envelope every event travels in.

An event is {id, type, v, tenant, schema, user, at, payload}. `tenant` (uuid) and
`schema` are stamped by track() from the active tenant, never taken from the caller;
`user` is the acting person (None for system events). The payload of each type is
checked against the table below: every listed field is required, no other field is
accepted, and ids are positive integers.

Contract with the assessments app (issue #7): it sends the Django signals
`assessments.signals.quiz_submitted`, `quiz_graded` and `certificate_issued`; the
receivers (connected by the lead when both branches are merged) call
`track("quiz.submitted", ...)`, `track("quiz.graded", ...)` and
`track("certificate.issued", ...)` with exactly these payloads:

- quiz.submitted     {course_id, lesson_id, assessment_id, attempt_id}
- quiz.graded        {course_id, lesson_id, assessment_id, attempt_id, score, max_score,
                      passed, questions: [{question_id, correct, points, max_points}]}
- certificate.issued {course_id, certificate_id}

The consumer counts a quiz attempt per `quiz.graded` (score / max_score into the
course's average score, each question into the item table); `quiz.submitted` marks
the learner active; `certificate.issued` marks the learner active.
"""

from __future__ import annotations

import math
from typing import Any

SCHEMA_VERSION = 1

# A dozen questions of a quiz, or a batch of beacons, fit far below this.
MAX_EVENT_BYTES = 16_384
MAX_QUESTIONS = 500
# Ten days of seconds: a longer "position" or "duration" is a broken player, not a video.
MAX_SECONDS = 10 * 24 * 3600


class InvalidEvent(ValueError):
    """An event that does not match its type's schema; the message says why."""


def _id(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidEvent("must be a positive integer id")
    return value


def _seconds(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidEvent("must be a number of seconds")
    if value < 0 or value > MAX_SECONDS:
        raise InvalidEvent(f"must be between 0 and {MAX_SECONDS} seconds")
    return value


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidEvent("must be a number")
    if value < 0:
        raise InvalidEvent("must not be negative")
    return value


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidEvent("must be true or false")
    return value


def _fields(spec: dict, value: Any) -> dict:
    if not isinstance(value, dict):
        raise InvalidEvent("must be an object")
    unknown = set(value) - set(spec)
    if unknown:
        raise InvalidEvent(f"has unknown fields {sorted(unknown)}")
    missing = set(spec) - set(value)
    if missing:
        raise InvalidEvent(f"lacks fields {sorted(missing)}")
    out = {}
    for name, check in spec.items():
        try:
            out[name] = check(value[name])
        except InvalidEvent as exc:
            raise InvalidEvent(f"'{name}' {exc}") from None
    return out


QUESTION = {"question_id": _id, "correct": _bool, "points": _number, "max_points": _number}


def _questions(value: Any) -> list:
    if not isinstance(value, list) or len(value) > MAX_QUESTIONS:
        raise InvalidEvent(f"must be a list of at most {MAX_QUESTIONS} questions")
    return [_fields(QUESTION, item) for item in value]


COURSE = {"course_id": _id}
LESSON = {"course_id": _id, "lesson_id": _id}
ATTEMPT = {"course_id": _id, "lesson_id": _id, "assessment_id": _id, "attempt_id": _id}

SCHEMAS: dict[str, dict] = {
    "enrollment.created": COURSE,
    "enrollment.completed": COURSE,
    "lesson.viewed": LESSON,
    "lesson.completed": LESSON,
    "video.progress": {**LESSON, "position": _seconds, "duration": _seconds, "seconds_watched": _seconds},
    "quiz.submitted": ATTEMPT,
    "quiz.graded": {
        **ATTEMPT,
        "score": _number,
        "max_score": _number,
        "passed": _bool,
        "questions": _questions,
    },
    "certificate.issued": {"course_id": _id, "certificate_id": _id},
    "course.published": {"course_id": _id, "revision": _id},
}

# Events that only count when a person did them.
PERSONAL = frozenset(SCHEMAS) - {"course.published"}


def validate_payload(event_type: str, payload: Any) -> dict:
    """The payload checked against its type's schema; InvalidEvent says what is wrong."""
    spec = SCHEMAS.get(event_type)
    if spec is None:
        raise InvalidEvent(f"unknown event type {event_type!r}")
    try:
        return _fields(spec, payload)
    except InvalidEvent as exc:
        raise InvalidEvent(f"{event_type} payload {exc}") from None
