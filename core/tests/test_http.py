"""The one JSON body parser: what it accepts, and that everything else is InvalidJSON (never a crash)."""

from __future__ import annotations

import json

import pytest
from django.test import RequestFactory
from hypothesis import given, settings
from hypothesis import strategies as st

from core.http import InvalidJSON, json_body, json_text, problem_response


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a": 1}',
        b"[1, 2.5, true, null]",
        '{"name": "\u00e9t\u00e9 \U0001f600"}',
        b'{"ok": "\\ud83d\\ude00"}',
    ],
)
def test_objects_and_arrays_parse(raw):
    assert json_text(raw) == json.loads(raw)


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b"[" * 1000 + b"]" * 1000, "nested more than"),
        (b'{"a":' * 1000 + b"1" + b"}" * 1000, "nested more than"),
        (b"\xff\xfe{}", "UTF-8"),
        (b'{"a": "\xed\xa0\x80"}', "UTF-8"),  # a surrogate encoded as bytes
        (b'{"a": "\\ud800"}', "unpaired surrogate"),
        (b'{"\\udfff": 1}', "unpaired surrogate"),
        (b'{"a": "x\\u0000y"}', "NUL"),
        (b'["\\u0000"]', "NUL"),
        (b"", "empty"),
        (b"   ", "empty"),
        (b"not json", "must be JSON"),
        (b"42", "object or array"),
        (b'"text"', "object or array"),
        (b"null", "object or array"),
        (b'{"a": NaN}', "not a JSON number"),
        (b'{"a": -Infinity}', "not a JSON number"),
        (b'{"a": 1e999}', "too large"),
        (b'{"a": ' + b"9" * 5000 + b"}", "out of range"),
    ],
)
def test_everything_else_is_invalid_json(raw, words):
    with pytest.raises(InvalidJSON) as caught:
        json_text(raw)
    assert words in caught.value.detail and caught.value.status == 400


def test_brackets_inside_strings_do_not_count_as_nesting():
    assert json_text(json.dumps({"a": "[" * 500 + "{" * 500})) == {"a": "[" * 500 + "{" * 500}


def test_size_limit_is_a_413():
    with pytest.raises(InvalidJSON) as caught:
        json_text(b'{"a": "' + b"x" * 2000 + b'"}', max_bytes=1000)
    assert caught.value.status == 413


def test_an_empty_body_may_stand_for_a_default():
    request = RequestFactory().post("/", data=b"", content_type="application/json")
    assert json_body(request, empty={}) == {}
    with pytest.raises(InvalidJSON):
        json_body(request)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200) | st.text(max_size=200))
def test_no_input_makes_the_parser_raise_anything_but_invalid_json(raw):
    try:
        value = json_text(raw)
    except InvalidJSON:
        return
    assert isinstance(value, dict | list)


def test_problem_body_follows_rfc_9457():
    response = problem_response(status=400, title="Invalid JSON body", detail="Nope.")
    assert response.status_code == 400 and response["Content-Type"] == "application/problem+json"
    assert json.loads(response.content) == {
        "type": "about:blank",
        "title": "Invalid JSON body",
        "status": 400,
        "detail": "Nope.",
        "code": "invalid",
        "error": "Nope.",
    }
