"""The consumer's C decoder accepts exactly the payloads track()'s Python checks accept."""

from __future__ import annotations

import json

import pytest

from analytics.decoding import decode_envelope, decode_payload
from analytics.ingest.schemas import MAX_QUESTIONS, MAX_SECONDS, SCHEMAS, InvalidEvent, validate_payload

VIDEO = {"course_id": 1, "lesson_id": 2, "position": 30, "duration": 60.5, "seconds_watched": 15}
QUESTION = {"question_id": 7, "correct": True, "points": 1, "max_points": 2}
GRADED = {
    "course_id": 1,
    "lesson_id": 2,
    "assessment_id": 3,
    "attempt_id": 4,
    "score": 3,
    "max_score": 4.0,
    "passed": False,
    "questions": [QUESTION],
}

CASES = [
    ("video.progress", VIDEO),
    ("video.progress", {**VIDEO, "position": MAX_SECONDS + 1}),
    ("video.progress", {**VIDEO, "seconds_watched": -1}),
    ("video.progress", {**VIDEO, "duration": "60"}),
    ("video.progress", {**VIDEO, "duration": True}),
    ("video.progress", {**VIDEO, "extra": 1}),
    ("video.progress", {k: v for k, v in VIDEO.items() if k != "lesson_id"}),
    ("lesson.viewed", {"course_id": 1, "lesson_id": 2}),
    ("lesson.viewed", {"course_id": 0, "lesson_id": 2}),
    ("lesson.viewed", {"course_id": 1.0, "lesson_id": 2}),
    ("lesson.viewed", {"course_id": True, "lesson_id": 2}),
    ("lesson.viewed", {"course_id": 2**70, "lesson_id": 2}),  # the database refuses it, not the schema
    ("lesson.viewed", [1, 2]),
    ("lesson.exploded", {"course_id": 1, "lesson_id": 2}),
    ("enrollment.created", {"course_id": 5}),
    ("lesson.completed", {"course_id": 5, "lesson_id": -3}),
    ("course.published", {"course_id": 5, "revision": 1}),
    ("certificate.issued", {"course_id": 5, "certificate_id": 0}),
    ("quiz.graded", GRADED),
    ("quiz.graded", {**GRADED, "passed": 1}),
    ("quiz.graded", {**GRADED, "score": -0.5}),
    ("quiz.graded", {**GRADED, "questions": [{**QUESTION, "correct": 1}]}),
    ("quiz.graded", {**GRADED, "questions": [{**QUESTION, "hint": "x"}]}),
    ("quiz.graded", {**GRADED, "questions": [QUESTION] * (MAX_QUESTIONS + 1)}),
    ("quiz.graded", {**GRADED, "questions": {}}),
]


def _python_accepts(event_type, payload) -> bool:
    try:
        validate_payload(event_type, payload)
    except InvalidEvent:
        return False
    return True


def _decoder_accepts(event_type, payload) -> bool:
    try:
        decode_payload(event_type, json.dumps(payload).encode())
    except InvalidEvent:
        return False
    return True


@pytest.mark.parametrize(("event_type", "payload"), CASES)
def test_the_decoder_and_the_python_schema_agree(event_type, payload):
    assert _decoder_accepts(event_type, payload) == _python_accepts(event_type, payload)


def test_every_type_has_a_decoder_and_the_cases_cover_both_answers():
    accepted = [_python_accepts(t, p) for t, p in CASES]
    assert any(accepted) and not all(accepted)
    assert {t for t, _ in CASES} >= set(SCHEMAS) - {"enrollment.completed", "quiz.submitted"}
    for event_type in SCHEMAS:
        with pytest.raises(InvalidEvent):
            decode_payload(event_type, b"{}")


def test_a_decoded_payload_has_the_values_sent():
    video = decode_payload("video.progress", json.dumps(VIDEO).encode())
    assert (video.course_id, video.lesson_id, video.position, video.seconds_watched) == (1, 2, 30.0, 15.0)
    graded = decode_payload("quiz.graded", json.dumps(GRADED).encode())
    assert graded.questions[0].question_id == 7 and graded.questions[0].correct is True


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"[1, 2]",
        b'{"id": "x", "type": "lesson.viewed", "v": 1, "tenant": "t", "schema": "s", "payload": {}}',
        b'{"id": "x", "type": "t", "v": 1, "tenant": "t", "schema": "s", "at": true, "payload": {}}',
        b'{"id": "x", "type": "t", "v": 1, "tenant": "t", "schema": "s", "at": NaN, "payload": {}}',
        b'{"id": "x", "type": "t", "v": 1, "tenant": "t", "schema": "s", "at": 1, "user": 0, "payload": {}}',
        b'{"id": 5, "type": "t", "v": 1, "tenant": "t", "schema": "s", "at": 1, "payload": {}}',
    ],
)
def test_a_malformed_envelope_is_invalid(raw):
    with pytest.raises(InvalidEvent):
        decode_envelope(raw)


def test_an_envelope_without_a_user_is_a_system_event():
    raw = b'{"id": "x", "type": "t", "v": 1, "tenant": "t", "schema": "s", "at": 1, "payload": {"a": 1}}'
    envelope = decode_envelope(raw)
    assert envelope.user is None and envelope.at == 1.0 and bytes(envelope.payload) == b'{"a": 1}'
