"""A flow input: where a value from the run's inputs enters the flow.

The run's inputs (the editor's run form, a published endpoint's body, a schedule's payload) are a mapping of
names to values; this node reads ``name`` from it, checks the value against ``type`` and emits it on ``value``.
An optional input (``required: false``) falls back to ``default``, which must fit the type.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import msgspec
from msgspec import Meta

from rivulet.sdk import NoInputs, Operator, OperatorSpec, PortSpec, ui_hint
from rivulet.sdk.ui import PortTypeName
from rivulet_operators.core._common import check_value, fail, parse_value_type

if TYPE_CHECKING:
    from rivulet.sdk import RunContext

__all__ = ("SPEC", "FlowInput", "Outputs", "Params")

SPEC = OperatorSpec(
    id="core.input",
    category="core",
    title="Input",
    description="A named value the run starts with.",
    icon="log-in",
    tags=("input", "parameter"),
)


class Params(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[
        str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="Run input name.")
    ] = "input"
    type: Annotated[PortTypeName, Meta(description="Port type of the value, e.g. Text, Int, Json.")] = "Text"
    required: Annotated[bool, Meta(description="Fail the run when the input is missing.")] = True
    default: Annotated[
        Any, Meta(description="Value when the input is missing (optional inputs).", extra_json_schema=ui_hint("json"))
    ] = None
    description: Annotated[str, Meta(max_length=2000, description="Shown in run forms and endpoint docs.")] = ""

    def __post_init__(self) -> None:
        port_type = parse_value_type(self.type)
        if not self.required:
            check_value(self.default, port_type, "default")


class Outputs(msgspec.Struct, frozen=True, kw_only=True):
    value: Annotated[Any, Meta(description="The input value, typed by the type param.")]


class FlowInput(Operator[Params, NoInputs, Outputs]):
    """Emit the run input ``params.name``."""

    spec = SPEC
    params_type = Params
    inputs_type = NoInputs
    outputs_type = Outputs
    dynamic_outputs = True

    @classmethod
    def output_ports(cls, params: Params) -> tuple[PortSpec, ...]:
        port = PortSpec(name="value", type=parse_value_type(params.type), description=params.description)
        return (port,)

    @classmethod
    def output_values(cls, outputs: Outputs) -> dict[str, Any]:
        return {"value": outputs.value}

    async def run(self, ctx: RunContext, params: Params, inputs: NoInputs) -> Outputs:
        port_type = parse_value_type(params.type)
        if params.name in ctx.run_inputs:
            try:
                return Outputs(value=check_value(ctx.run_inputs[params.name], port_type, f"run input {params.name!r}"))
            except ValueError as exc:
                raise fail(SPEC, ctx, str(exc)) from exc
        if params.required:
            raise fail(SPEC, ctx, f"run input {params.name!r} ({port_type}) is required but was not provided")
        return Outputs(value=check_value(params.default, port_type, "default"))
