"""A flow output: the value on ``value`` becomes the run output called ``name``.

The runtime collects the ``value`` output of every ``core.output`` node into the run's outputs (the
``run.finished`` event, a published endpoint's JSON response). The value also passes through unchanged, so a
downstream node can still use it. If the upstream is skipped (an untaken branch), so is the output.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Generic, TypeVar

import msgspec
from msgspec import Meta

from rivulet.sdk import Operator, OperatorSpec

if TYPE_CHECKING:
    from rivulet.sdk import RunContext

__all__ = ("SPEC", "FlowOutput", "Inputs", "Outputs", "Params")

T = TypeVar("T")

SPEC = OperatorSpec(
    id="core.output",
    category="core",
    title="Output",
    description="Record a value as a named run output.",
    icon="log-out",
    tags=("output", "result"),
)


class Params(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[
        str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="Run output name.")
    ] = "result"
    description: Annotated[str, Meta(max_length=2000, description="Shown in endpoint docs.")] = ""


class Inputs(msgspec.Struct, Generic[T], frozen=True, kw_only=True):
    value: Annotated[T, Meta(description="The value to record.")]


class Outputs(msgspec.Struct, Generic[T], frozen=True, kw_only=True):
    value: Annotated[T, Meta(description="The same value, passed through.")]


class FlowOutput(Operator[Params, Inputs[Any], Outputs[Any]]):
    """Pass ``value`` through; the runtime records it as run output ``params.name``."""

    spec = SPEC
    params_type = Params
    inputs_type = Inputs
    outputs_type = Outputs

    async def run(self, ctx: RunContext, params: Params, inputs: Inputs[Any]) -> Outputs[Any]:
        return Outputs(value=inputs.value)
