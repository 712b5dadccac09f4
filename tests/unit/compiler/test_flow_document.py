from __future__ import annotations

from typing import Any

import pytest

from rivulet.compiler import flow as flow_module
from rivulet.compiler.flow import FLOW_SCHEMA, decode_flow, encode_flow
from rivulet.lib.exceptions import ValidationError


def test_unknown_field_is_rejected_with_its_path() -> None:
    raw = b'{"name": "x", "nodes": [{"id": "a", "operator": "core.constant", "parms": {}}]}'
    with pytest.raises(ValidationError) as info:
        decode_flow(raw)
    assert info.value.extra["errors"][0]["path"] == "$.nodes[0]"
    assert "parms" in info.value.detail


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        ({"name": ""}, "$.name"),
        ({"name": "x", "nodes": [{"id": "a b", "operator": "core.constant"}]}, "$.nodes[0].id"),
        ({"name": "x", "nodes": [{"id": "a", "operator": "Core"}]}, "$.nodes[0].operator"),
        ({"name": "x", "nodes": [{"id": "a", "operator": "core.x", "policy": {"retries": 99}}]},
         "$.nodes[0].policy.retries"),
        ({"name": "x", "edges": [{"id": "e", "source": "a", "source_port": "Bad", "target": "b", "target_port": "v"}]},
         "$.edges[0].source_port"),
    ],
)  # fmt: skip
def test_constraint_violations_are_located(raw: dict[str, Any], path: str) -> None:
    with pytest.raises(ValidationError) as info:
        decode_flow(raw)
    assert info.value.extra["errors"][0]["path"] == path


def test_malformed_json() -> None:
    with pytest.raises(ValidationError, match="malformed JSON"):
        decode_flow(b'{"name": ')


def test_unknown_schema_is_an_error_not_a_guess() -> None:
    with pytest.raises(ValidationError, match=r"unsupported flow schema 'rivulet.flow/v9'") as info:
        decode_flow({"schema": "rivulet.flow/v9", "name": "x"})
    assert info.value.extra["errors"][0]["path"] == "$.schema"


def test_old_schema_is_migrated_on_load(monkeypatch: pytest.MonkeyPatch) -> None:
    def from_v0(raw: dict[str, Any]) -> dict[str, Any]:
        return {**{k: v for k, v in raw.items() if k != "title"}, "name": raw["title"]}

    monkeypatch.setitem(flow_module.FLOW_MIGRATIONS, "rivulet.flow/v0", (FLOW_SCHEMA, from_v0))
    doc = decode_flow({"schema": "rivulet.flow/v0", "title": "old"})
    assert (doc.schema, doc.name) == (FLOW_SCHEMA, "old")
    assert decode_flow(b'{"schema": "rivulet.flow/v0", "title": "bytes"}').name == "bytes"


def test_encoding_is_deterministic() -> None:
    doc = decode_flow({"name": "x", "nodes": [{"id": "a", "operator": "core.constant", "params": {"b": 1, "a": 2}}]})
    assert encode_flow(doc) == encode_flow(decode_flow(encode_flow(doc)))
    assert encode_flow(doc).index(b'"a":2') < encode_flow(doc).index(b'"b":1')


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b'{"name": "x", "nodes": [{"id": "a", "operator": "core.output", "params": {"v": ' + b"[" * 1500, "deeply"),
        (b'{"name": "caf\xe9"}', "invalid UTF-8"),
    ],
)
def test_json_too_deep_or_not_utf8_is_a_located_validation_error(data: bytes, reason: str) -> None:
    with pytest.raises(ValidationError) as caught:
        decode_flow(data)
    assert reason in caught.value.detail
    assert caught.value.extra["errors"][0]["path"] == "$"
