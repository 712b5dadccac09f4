"""Route a value to one of several outputs by the first condition that holds.

Each condition names an output port and a Jinja2 expression over ``value`` (``value.score > 0.8``,
``value.status == "ok"``, ``"refund" in value | lower``). Conditions are tried in order; the value goes out on
the first port whose expression is true, or on ``default`` when none is. Only that port is produced: nodes that
need one of the other ports are skipped, which is how a flow takes one path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Generic, TypeVar

import msgspec
from jinja2 import TemplateError
from msgspec import Meta

from rivulet.sdk import Operator, OperatorSpec, PortSpec, PortType
from rivulet.sdk.templating import uses_chance
from rivulet.sdk.ui import Expression
from rivulet_operators.core._common import compile_expression, evaluate, fail

if TYPE_CHECKING:
    from rivulet.sdk import RunContext

__all__ = ("SPEC", "Branch", "Condition", "Inputs", "Outputs", "Params")

T = TypeVar("T")
DEFAULT_PORT = "default"
RESERVED_PORTS = frozenset({DEFAULT_PORT, "error"})

SPEC = OperatorSpec(
    id="core.branch",
    category="core",
    title="Branch",
    description="Send the value down the first path whose condition holds.",
    icon="git-branch",
    tags=("control", "if", "router"),
)


class Condition(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    port: Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[a-z_][a-z0-9_]*$", description="Output port.")]
    expression: Annotated[Expression, Meta(description="Jinja2 expression over value; true takes this port.")]


class Params(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    conditions: Annotated[list[Condition], Meta(min_length=1, max_length=16, description="Tried in order.")] = (
        msgspec.field(default_factory=lambda: [Condition(port="yes", expression="value")])
    )

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for index, condition in enumerate(self.conditions):
            if condition.port in RESERVED_PORTS or condition.port in seen:
                raise ValueError(f"conditions[{index}].port {condition.port!r} is reserved or used twice")
            seen.add(condition.port)
            compile_expression(condition.expression)


class Inputs(msgspec.Struct, Generic[T], frozen=True, kw_only=True):
    value: Annotated[T, Meta(description="The value to route.")]


class Outputs(msgspec.Struct, frozen=True, kw_only=True):
    port: str
    """The port taken."""
    value: Any


class Branch(Operator[Params, Inputs[Any], Outputs]):
    """Evaluate conditions in order and produce only the taken port."""

    spec = SPEC
    params_type = Params
    inputs_type = Inputs
    outputs_type = Outputs
    dynamic_outputs = True

    @classmethod
    def output_ports(cls, params: Params) -> tuple[PortSpec, ...]:
        generic = PortType("T", var=True)
        ports = [
            PortSpec(name=c.port, type=generic, required=False, description=f"When {c.expression}")
            for c in params.conditions
        ]
        ports.append(PortSpec(name=DEFAULT_PORT, type=generic, required=False, description="When no condition holds."))
        return tuple(ports)

    @classmethod
    def output_values(cls, outputs: Outputs) -> dict[str, Any]:
        return {outputs.port: outputs.value}

    async def run(self, ctx: RunContext, params: Params, inputs: Inputs[Any]) -> Outputs:
        for index, condition in enumerate(params.conditions):
            if uses_chance(condition.expression, expression=True):
                ctx.nondeterministic()  # ``random`` changes the branch from one run to the next: not cached
            try:
                taken = bool(evaluate(condition.expression, value=inputs.value))
            except TemplateError as exc:
                raise fail(SPEC, ctx, f"conditions[{index}] ({condition.port}) failed: {exc.message}") from exc
            if taken:
                return Outputs(port=condition.port, value=inputs.value)
        return Outputs(port=DEFAULT_PORT, value=inputs.value)
