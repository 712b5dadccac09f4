"""``rivulet.storage.postgres.jsonb``: what is stored holds no NUL, and reads back as it was written."""

from __future__ import annotations

from typing import Any

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from rivulet.server.inputs import find_nul
from rivulet.storage.postgres import jsonb

_text = st.text(alphabet=st.sampled_from(["\x00", "a", "\\", "u", "0", '"', "é"]), max_size=12) | st.just(
    jsonb.WRAPPER_KEY
)
_values = st.recursive(
    st.none() | st.booleans() | st.integers() | _text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=20,
)


@given(_values)
def test_stored_json_has_no_nul_and_reads_back_unchanged(value: Any) -> None:
    stored = msgspec.json.decode(jsonb.dump(value))
    assert find_nul(stored) is None  # what PostgreSQL's jsonb accepts
    assert jsonb.restore(stored) == value


@given(st.dictionaries(_text, _values, max_size=3))
def test_an_object_shaped_like_the_wrapper_is_not_mistaken_for_one(extra: dict[str, Any]) -> None:
    value = {jsonb.WRAPPER_KEY: '{"a": 1}', **extra}
    assert jsonb.restore(msgspec.json.decode(jsonb.dump(value))) == value


def test_values_without_nul_are_stored_as_they_are() -> None:
    value = {"text": "plain \\u0001", "n": [1, 2]}
    assert jsonb.dump(value) == msgspec.json.encode(value).decode()
