"""A fixed value of a chosen port type.

``type`` is a port type such as ``Text``, ``Int``, ``List[Text]`` or ``Message``; ``value`` is written as JSON and
checked against it when the flow compiles, so ``{"type": "Int", "value": "three"}`` is a params error that names
the node. The ``value`` output carries that type.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import msgspec
from msgspec import Meta

from rivulet.sdk import NoInputs, Operator, OperatorSpec, PortSpec, ui_hint
from rivulet.sdk.ui import PortTypeName
from rivulet_operators.core._common import check_value, parse_value_type

if TYPE_CHECKING:
    from rivulet.sdk import RunContext

__all__ = ("SPEC", "Constant", "Outputs", "Params")

SPEC = OperatorSpec(
    id="core.constant",
    category="core",
    title="Constant",
    description="A fixed value of a chosen type.",
    icon="pin",
    tags=("value", "literal"),
)


class Params(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    value: Annotated[Any, Meta(description="The value, as JSON.", extra_json_schema=ui_hint("json"))] = None
    type: Annotated[PortTypeName, Meta(description="Port type of the value, e.g. Text, Int, List[Text].")] = "Json"

    def __post_init__(self) -> None:
        check_value(self.value, parse_value_type(self.type), "value")


class Outputs(msgspec.Struct, frozen=True, kw_only=True):
    value: Annotated[Any, Meta(description="The value, typed by the type param.")]


class Constant(Operator[Params, NoInputs, Outputs]):
    """Emit ``params.value`` on the ``value`` port."""

    spec = SPEC
    params_type = Params
    inputs_type = NoInputs
    outputs_type = Outputs
    dynamic_outputs = True

    @classmethod
    def output_ports(cls, params: Params) -> tuple[PortSpec, ...]:
        return (PortSpec(name="value", type=parse_value_type(params.type), description="The value."),)

    @classmethod
    def output_values(cls, outputs: Outputs) -> dict[str, Any]:
        return {"value": outputs.value}

    async def run(self, ctx: RunContext, params: Params, inputs: NoInputs) -> Outputs:
        return Outputs(value=check_value(params.value, parse_value_type(params.type), "value"))
