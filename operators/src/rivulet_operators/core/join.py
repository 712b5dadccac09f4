"""Wait for several branches and combine them.

``all`` needs every input (``in_1`` .. ``in_n``) and emits them as a list in port order; if any upstream is
skipped, the join is skipped too. ``any`` treats inputs as optional: it runs once every upstream has either
produced a value or been skipped, and emits the first value present in port order (the usual way to bring the
paths of a ``core.branch`` back together). All inputs share one type ``T``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

import msgspec
from msgspec import Meta

from rivulet.sdk import Operator, OperatorSpec, PortSpec, PortType
from rivulet_operators.core._numbered import NumberedInputs, numbered_ports, port_names

if TYPE_CHECKING:
    from collections.abc import Mapping

    from rivulet.sdk import RunContext

__all__ = ("SPEC", "Join", "Outputs", "Params")

SPEC = OperatorSpec(
    id="core.join",
    category="core",
    title="Join",
    description="Combine branches: all values as a list, or the first value present.",
    icon="git-merge",
    tags=("control", "join", "wait"),
)


class Params(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    mode: Annotated[Literal["all", "any"], Meta(description="all: list of every input; any: first present.")] = "all"
    count: Annotated[int, Meta(ge=2, le=16, description="Number of inputs.")] = 2


class Outputs(msgspec.Struct, frozen=True, kw_only=True):
    value: Any | msgspec.UnsetType = msgspec.UNSET


class Join(Operator[Params, NumberedInputs, Outputs]):
    """Combine ``in_1 .. in_n``."""

    spec = SPEC
    params_type = Params
    inputs_type = NumberedInputs
    outputs_type = Outputs
    dynamic_inputs = True
    dynamic_outputs = True

    @classmethod
    def input_ports(cls, params: Params) -> tuple[PortSpec, ...]:
        return numbered_ports(params.count, PortType("T", var=True), required=params.mode == "all")

    @classmethod
    def output_ports(cls, params: Params) -> tuple[PortSpec, ...]:
        item = PortType("T", var=True)
        if params.mode == "all":
            return (PortSpec(name="value", type=PortType("List", (item,)), description="Every input, in order."),)
        return (PortSpec(name="value", type=item, description="The first input present."),)

    @classmethod
    def build_inputs(cls, values: Mapping[str, Any]) -> NumberedInputs:
        return NumberedInputs.of(values)

    @classmethod
    def output_values(cls, outputs: Outputs) -> dict[str, Any]:
        return {} if outputs.value is msgspec.UNSET else {"value": outputs.value}

    async def run(self, ctx: RunContext, params: Params, inputs: NumberedInputs) -> Outputs:
        present = [inputs.values[name] for name in port_names(params.count) if name in inputs.values]
        if params.mode == "all":
            return Outputs(value=present)
        return Outputs(value=present[0]) if present else Outputs()
