from __future__ import annotations

from typing import Annotated, Any, TypeVar

import msgspec
import pytest
from msgspec import Meta

from rivulet.sdk.ports import Chunk, Message, Text, parse_port_type, port_type_of, python_type_of

T = TypeVar("T")


@pytest.mark.parametrize(
    ("annotation", "expected"),
    [
        (Annotated[Text, Meta(description="d")], "Text"),
        (Annotated[list[Chunk], Meta(description="d")], "List[Chunk]"),
        (Annotated[int | None, Meta(ge=0)], "Optional[Int]"),
        (T, "T"),
    ],
)
def test_port_type_of_sees_through_constraints(annotation: object, expected: str) -> None:
    assert str(port_type_of(annotation)) == expected


def test_typevar_is_a_generic_variable() -> None:
    assert port_type_of(T).var


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [
        ("Text", "hi", "hi"),
        ("Int", 3, 3),
        ("List[Int]", [1, 2], [1, 2]),
        ("Optional[Text]", None, None),
        ("Message", {"role": "user", "content": "x"}, Message(role="user", content="x")),
        ("Json", {"a": [1]}, {"a": [1]}),
        ("Any", object, object),
    ],
)
def test_python_type_of_round_trips_values(text: str, value: Any, expected: Any) -> None:
    assert msgspec.convert(value, python_type_of(parse_port_type(text))) == expected


def test_python_type_of_rejects_wrong_values() -> None:
    with pytest.raises(msgspec.ValidationError, match="Expected `int`, got `str` - at `\\$\\[1\\]`"):
        msgspec.convert([1, "x"], python_type_of(parse_port_type("List[Int]")))


def test_python_type_of_has_no_value_type_for_streams() -> None:
    with pytest.raises(TypeError, match=r"Stream\[Text\] has no value type"):
        python_type_of(parse_port_type("Stream[Text]"))


def test_optional_any_stays_any() -> None:
    assert python_type_of(parse_port_type("Optional[Any]")) is Any
