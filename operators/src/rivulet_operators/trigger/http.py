"""An HTTP trigger: the flow is callable as ``METHOD /f/{slug}`` once published.

The request body (validated by the server against ``fields`` before the run starts) becomes the run's inputs;
this node emits each field on its own port and the whole body on ``body``. Without an HTTP call (a run from the
editor) the fields come from the run form, with the declared defaults for optional ones.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Annotated, Any

import msgspec
from msgspec import Meta

from rivulet.sdk import NoInputs, Operator, OperatorError, OperatorSpec, PortSpec, parse_port_type, python_type_of
from rivulet.sdk.ports import Json, port_type_of
from rivulet.sdk.triggers import HttpTriggerParams

if TYPE_CHECKING:
    from rivulet.sdk import RunContext

__all__ = ("SPEC", "HttpTrigger", "Outputs")

SPEC = OperatorSpec(
    id="trigger.http",
    category="trigger",
    title="HTTP endpoint",
    description="Start the flow from an HTTP call to /f/{slug} once published.",
    icon="globe",
    tags=("http", "endpoint", "api", "publish"),
    cacheable=False,
)


@functools.lru_cache(maxsize=1024)
def _python_type(port_type: str) -> Any:
    """The Python type values of a request field declared as ``port_type`` convert to."""
    return python_type_of(parse_port_type(port_type))


class Outputs(msgspec.Struct, frozen=True, kw_only=True):
    body: Annotated[Json, Meta(description="The whole request body.")]
    values: dict[str, Any] = msgspec.field(default_factory=dict[str, Any])


class HttpTrigger(Operator[HttpTriggerParams, NoInputs, Outputs]):
    """Emit the request body's fields."""

    spec = SPEC
    params_type = HttpTriggerParams
    inputs_type = NoInputs
    outputs_type = Outputs
    dynamic_outputs = True

    @classmethod
    def output_ports(cls, params: HttpTriggerParams) -> tuple[PortSpec, ...]:
        body = PortSpec(name="body", type=port_type_of(Json), description="The whole request body.")
        fields = tuple(
            PortSpec(name=f.name, type=parse_port_type(f.type), description=f.description) for f in params.fields
        )
        return (*fields, body)

    @classmethod
    def output_values(cls, outputs: Outputs) -> dict[str, Any]:
        return {**outputs.values, "body": outputs.body}

    async def run(self, ctx: RunContext, params: HttpTriggerParams, inputs: NoInputs) -> Outputs:
        values: dict[str, Any] = {}
        for field in params.fields:
            if field.name not in ctx.run_inputs:
                if field.required:
                    raise OperatorError(
                        f"request field {field.name!r} ({field.type}) is required but was not provided",
                        operator_id=SPEC.id,
                        node_id=ctx.node_id,
                    )
                values[field.name] = field.default
                continue
            try:
                python_type = _python_type(field.type)
                values[field.name] = msgspec.convert(ctx.run_inputs[field.name], python_type, strict=False)
            except msgspec.ValidationError as exc:
                raise OperatorError(
                    f"request field {field.name!r} is not a valid {field.type}: {exc}",
                    operator_id=SPEC.id,
                    node_id=ctx.node_id,
                ) from exc
        return Outputs(body=dict(ctx.run_inputs), values=values)
