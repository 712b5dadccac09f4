"""Pick values out of JSON with a JSONPath.

Supported paths: ``$.a.b``, ``$.items[0]``, ``$.items[-1]``, ``$.items[*].name``, ``$.items[1:3]``,
``$['key with spaces']``, ``$.*`` and recursive descent ``$..name``. ``first`` emits the first match, ``all``
a list of every match. Without a match the node fails, unless ``required`` is off (then ``default`` is
emitted). ``type`` declares the output's port type and the result is checked against it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

import msgspec
from msgspec import Meta

from rivulet.sdk import Operator, OperatorSpec, PortSpec, ui_hint
from rivulet.sdk.ports import Json
from rivulet.sdk.ui import PortTypeName
from rivulet_operators.core._common import check_value, fail, parse_value_type
from rivulet_operators.core._jsonpath import compile_path, find

if TYPE_CHECKING:
    from rivulet.sdk import RunContext

__all__ = ("SPEC", "ExtractJson", "Inputs", "Outputs", "Params")

SPEC = OperatorSpec(
    id="core.json_extract",
    category="core",
    title="JSON extract",
    description="Pick values out of JSON with a JSONPath.",
    icon="braces",
    tags=("json", "jsonpath", "select"),
)


class Params(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    path: Annotated[str, Meta(min_length=1, max_length=1000, description="JSONPath, e.g. $.items[*].name.")] = "$"
    mode: Annotated[Literal["first", "all"], Meta(description="first match, or a list of all matches.")] = "first"
    type: Annotated[PortTypeName, Meta(description="Port type of the result.")] = "Json"
    required: Annotated[bool, Meta(description="Fail when nothing matches (otherwise emit default).")] = True
    default: Annotated[Any, Meta(description="Result when nothing matches.", extra_json_schema=ui_hint("json"))] = None

    def __post_init__(self) -> None:
        compile_path(self.path)
        parse_value_type(self.type)


class Inputs(msgspec.Struct, frozen=True, kw_only=True):
    value: Annotated[Json, Meta(description="The JSON to search.")]


class Outputs(msgspec.Struct, frozen=True, kw_only=True):
    value: Any


class ExtractJson(Operator[Params, Inputs, Outputs]):
    """Evaluate ``params.path`` against the input."""

    spec = SPEC
    params_type = Params
    inputs_type = Inputs
    outputs_type = Outputs
    dynamic_outputs = True

    @classmethod
    def output_ports(cls, params: Params) -> tuple[PortSpec, ...]:
        return (PortSpec(name="value", type=parse_value_type(params.type), description="The extracted value."),)

    @classmethod
    def output_values(cls, outputs: Outputs) -> dict[str, Any]:
        return {"value": outputs.value}

    async def run(self, ctx: RunContext, params: Params, inputs: Inputs) -> Outputs:
        matches = find(compile_path(params.path), inputs.value)
        if not matches and params.required:
            raise fail(SPEC, ctx, f"{params.path!r} matched nothing")
        result: Any = params.default
        if matches:
            result = matches if params.mode == "all" else matches[0]
        try:
            return Outputs(value=check_value(result, parse_value_type(params.type), f"{params.path!r} result"))
        except ValueError as exc:
            raise fail(SPEC, ctx, str(exc)) from exc
