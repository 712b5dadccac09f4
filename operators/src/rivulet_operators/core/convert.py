"""Convert a value to text, int, float, bool or JSON, with errors that say what did not fit.

- ``text``: strings pass through; objects, lists and Structs become JSON; numbers and booleans their JSON form.
- ``int``: integers, whole floats (``3.0``), and strings holding an integer (``" 42 "``).
- ``float``: numbers and numeric strings (``"1e3"``); booleans are refused.
- ``bool``: booleans, ``0``/``1``, and ``true/false/yes/no/on/off/1/0`` (any case).
- ``json``: strings are parsed as JSON; other values are converted to plain JSON values.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Any, Literal

import msgspec
from msgspec import Meta

from rivulet.sdk import Operator, OperatorSpec, PortSpec, PortType
from rivulet_operators.core._common import fail

if TYPE_CHECKING:
    from rivulet.sdk import RunContext

__all__ = ("SPEC", "Convert", "Inputs", "Outputs", "Params", "convert_value")

Target = Literal["text", "int", "float", "bool", "json"]

SPEC = OperatorSpec(
    id="core.convert",
    category="core",
    title="Convert",
    description="Convert a value to text, int, float, bool or JSON.",
    icon="repeat",
    tags=("cast", "parse", "json"),
)

_PORT_TYPES: dict[str, str] = {"text": "Text", "int": "Int", "float": "Float", "bool": "Bool", "json": "Json"}
_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})


class Params(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    to: Annotated[Target, Meta(description="Target type.")] = "text"


class Inputs(msgspec.Struct, frozen=True, kw_only=True):
    value: Annotated[Any, Meta(description="The value to convert.")]


class Outputs(msgspec.Struct, frozen=True, kw_only=True):
    value: Any


def _preview(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _to_int(value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        return int(value.strip())
    raise ValueError("not a whole number")


def _to_float(value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        return float(value.strip())
    raise ValueError("not a number")


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ValueError(f"expected one of {sorted(_TRUE | _FALSE)}")


def _to_text(value: Any) -> str:
    return value if isinstance(value, str) else msgspec.json.encode(value).decode()


def _to_json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return msgspec.json.decode(value)
        except msgspec.DecodeError as exc:
            raise ValueError(f"invalid JSON: {exc}") from exc
    return msgspec.to_builtins(value)


_CONVERTERS = {"text": _to_text, "int": _to_int, "float": _to_float, "bool": _to_bool, "json": _to_json}


def convert_value(value: Any, to: Target) -> Any:
    """Convert ``value``.

    Raises:
        ValueError: It does not convert; the message names the value, its type and the target.
    """
    try:
        return _CONVERTERS[to](value)
    except (ValueError, TypeError, OverflowError) as exc:
        reason = str(exc).replace("invalid literal for int() with base 10", "not an integer")
        raise ValueError(f"cannot convert {type(value).__name__} {_preview(value)} to {to}: {reason}") from exc


class Convert(Operator[Params, Inputs, Outputs]):
    """Convert the input to ``params.to``."""

    spec = SPEC
    params_type = Params
    inputs_type = Inputs
    outputs_type = Outputs
    dynamic_outputs = True

    @classmethod
    def output_ports(cls, params: Params) -> tuple[PortSpec, ...]:
        return (PortSpec(name="value", type=PortType(_PORT_TYPES[params.to]), description="The converted value."),)

    @classmethod
    def output_values(cls, outputs: Outputs) -> dict[str, Any]:
        return {"value": outputs.value}

    async def run(self, ctx: RunContext, params: Params, inputs: Inputs) -> Outputs:
        try:
            return Outputs(value=convert_value(inputs.value, params.to))
        except ValueError as exc:
            raise fail(SPEC, ctx, str(exc)) from exc
