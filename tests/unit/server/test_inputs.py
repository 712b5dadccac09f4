"""Locating what makes a request unreadable or unstorable (``rivulet.server.inputs``)."""

from __future__ import annotations

import msgspec
import pytest

from rivulet.server.inputs import MAX_JSON_DEPTH, find_nul, malformed_json


@pytest.mark.parametrize(
    ("value", "path"),
    [
        ({"a": [1, {"b c": "x\x00"}]}, '$.a[1]["b c"]'),
        ({"k\x00": 1}, '$["k\\u0000"]'),
        (["ok", "n\x00"], "$[1]"),
        ({"first": "\x00", "second": "\x00"}, "$.first"),
        ({"a": "fine", "b": [1.5, None, True]}, None),
    ],
)
def test_find_nul_names_the_first_place(value: object, path: str | None) -> None:
    assert find_nul(value) == path


def test_invalid_utf8_is_located_in_the_whole_body() -> None:
    body = b'{"name": "caf\xe9"}'
    with pytest.raises(UnicodeDecodeError) as caught:
        msgspec.json.decode(body)
    error = malformed_json(caught.value, what="the body", body=body)
    assert error.extra["errors"] == [
        {"source": "body", "position": 13, "message": "invalid UTF-8 at byte 13: invalid continuation byte"}
    ]


def test_too_deep_json_names_the_byte_past_the_depth() -> None:
    body = b'{"a": ' + b"[" * (MAX_JSON_DEPTH + 200) + b"]" * (MAX_JSON_DEPTH + 200) + b"}"
    with pytest.raises(RecursionError) as caught:
        msgspec.json.decode(body)
    error = malformed_json(caught.value, what="the body", body=body)
    assert error.status_code == 400
    assert error.extra["errors"][0]["position"] == 6 + MAX_JSON_DEPTH - 1  # "{" is level 1
    assert "nested too deeply" in error.detail
