"""core.map, core.merge, core.json_extract, core.convert: data shaping."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from rivulet.lib.exceptions import OperatorError
from rivulet.sdk.ports import Document
from rivulet_operators.core._jsonpath import compile_path, find
from rivulet_operators.core.convert import Convert, convert_value
from rivulet_operators.core.json_extract import ExtractJson
from rivulet_operators.core.map import MapItems
from rivulet_operators.core.merge import Merge
from tests.unit.operators.conftest import params_of, run_operator

DATA = {"a": {"b": [{"c": 1}, {"c": 2}, {"d": 3}], "x y": True}, "n": [10, 20, 30, 40]}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$", [DATA]),
        ("$.a.b[0].c", [1]),
        ("$.a.b[*].c", [1, 2]),
        ("$.a.b[-1]", [{"d": 3}]),
        ("$['a']['x y']", [True]),
        ('$.a["x y"]', [True]),
        ("$.n[1:3]", [20, 30]),
        ("$.n[:2]", [10, 20]),
        ("$..c", [1, 2]),
        ("$.a.b[9]", []),
        ("$.missing.deeper", []),
    ],
)
def test_jsonpath_subset(path: str, expected: list[Any]) -> None:
    assert find(compile_path(path), DATA) == expected


@pytest.mark.parametrize("path", ["a.b", "$.a[?(@.c)]", "$.", "$a", "$.a[1"])
def test_jsonpath_rejects_unsupported_syntax(path: str) -> None:
    with pytest.raises(ValueError, match="JSONPath"):
        compile_path(path)


def test_jsonpath_reads_structs() -> None:
    doc = Document(id="d1", text="t", metadata={"k": "v"})
    assert find(compile_path("$.metadata.k"), doc) == ["v"]


async def test_json_extract_first_all_and_typed() -> None:
    assert await run_operator(ExtractJson, {"path": "$.a.b[*].c"}, {"value": DATA}) == {"value": 1}
    out = await run_operator(ExtractJson, {"path": "$.a.b[*].c", "mode": "all", "type": "List[Int]"}, {"value": DATA})
    assert out == {"value": [1, 2]}
    (port,) = ExtractJson.output_ports(params_of(ExtractJson, {"path": "$", "type": "List[Int]"}))
    assert str(port.type) == "List[Int]"


async def test_json_extract_without_match() -> None:
    with pytest.raises(OperatorError, match=r"'\$.nope' matched nothing"):
        await run_operator(ExtractJson, {"path": "$.nope"}, {"value": DATA})
    out = await run_operator(ExtractJson, {"path": "$.nope", "required": False, "default": 0}, {"value": DATA})
    assert out == {"value": 0}


async def test_json_extract_result_must_fit_type() -> None:
    with pytest.raises(OperatorError, match=r"result is not a valid Text"):
        await run_operator(ExtractJson, {"path": "$.n[0]", "type": "Text"}, {"value": DATA})


async def test_map_expression_sees_item_and_index() -> None:
    params = {"expression": "item.name ~ '#' ~ index", "output_type": "Text"}
    out = await run_operator(MapItems, params, {"items": [{"name": "a"}, {"name": "b"}]})
    assert out == {"items": ["a#0", "b#1"]}
    (port,) = MapItems.output_ports(params_of(MapItems, params))
    assert str(port.type) == "List[Text]"


async def test_map_jsonpath_with_missing_policy() -> None:
    items = [{"u": {"id": 1}}, {"u": {}}, {"u": {"id": 3}}]
    base = {"expression": "$.u.id", "mode": "jsonpath"}
    assert await run_operator(MapItems, {**base, "on_missing": "skip"}, {"items": items}) == {"items": [1, 3]}
    assert await run_operator(MapItems, {**base, "on_missing": "null"}, {"items": items}) == {"items": [1, None, 3]}
    with pytest.raises(OperatorError, match=r"item 1 has no match for '\$.u.id'"):
        await run_operator(MapItems, base, {"items": items})


async def test_map_errors_name_the_item() -> None:
    with pytest.raises(OperatorError, match=r"expression failed on item 1"):
        await run_operator(MapItems, {"expression": "item.name"}, {"items": [{"name": "a"}, {}]})
    with pytest.raises(OperatorError, match=r"result is not a valid List\[Int\]"):
        await run_operator(MapItems, {"expression": "item", "output_type": "Int"}, {"items": ["x"]})


def test_map_expression_syntax_is_checked_at_compile_time() -> None:
    with pytest.raises(msgspec.ValidationError, match="syntax error"):
        params_of(MapItems, {"expression": "item +"})


async def test_merge_objects_deep_and_shallow() -> None:
    inputs = {"in_1": {"a": {"x": 1, "y": 1}, "k": 1}, "in_2": {"a": {"y": 2}}}
    assert await run_operator(Merge, {}, inputs) == {"value": {"a": {"x": 1, "y": 2}, "k": 1}}
    assert await run_operator(Merge, {"deep": False}, inputs) == {"value": {"a": {"y": 2}, "k": 1}}


async def test_merge_lists_skips_missing_inputs() -> None:
    assert await run_operator(Merge, {"count": 3}, {"in_1": [1], "in_3": [2, 3]}) == {"value": [1, 2, 3]}


async def test_merge_errors() -> None:
    with pytest.raises(OperatorError, match=r"all objects or all lists, got in_1=object, in_2=list"):
        await run_operator(Merge, {}, {"in_1": {"a": 1}, "in_2": [1]})
    with pytest.raises(OperatorError, match="no input has a value"):
        await run_operator(Merge, {}, {})


@pytest.mark.parametrize(
    ("value", "to", "expected"),
    [
        ({"a": [1]}, "text", '{"a":[1]}'),
        ("x", "text", "x"),
        (True, "text", "true"),
        (" 42 ", "int", 42),
        (3.0, "int", 3),
        ("1e3", "float", 1000.0),
        ("Yes", "bool", True),
        (0, "bool", False),
        ('{"a": 1}', "json", {"a": 1}),
        (Document(id="d", text="t"), "json", {"id": "d", "text": "t", "metadata": {}}),
    ],
)
def test_convert_values(value: Any, to: Any, expected: Any) -> None:
    assert convert_value(value, to) == expected


@pytest.mark.parametrize(
    ("value", "to", "message"),
    [
        ("abc", "int", "cannot convert str 'abc' to int: not an integer"),
        (3.5, "int", "cannot convert float 3.5 to int: not a whole number"),
        (True, "float", "cannot convert bool True to float: not a number"),
        ("maybe", "bool", "cannot convert str 'maybe' to bool: expected one of"),
        ("{bad", "json", "cannot convert str '{bad' to json: invalid JSON"),
    ],
)
def test_convert_errors_are_clear(value: Any, to: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace("{", r"\{")):
        convert_value(value, to)


async def test_convert_operator_types_its_output_and_fails_located() -> None:
    (port,) = Convert.output_ports(params_of(Convert, {"to": "float"}))
    assert str(port.type) == "Float"
    with pytest.raises(OperatorError, match="cannot convert") as info:
        await run_operator(Convert, {"to": "int"}, {"value": "x"})
    assert info.value.operator_id == "core.convert"
