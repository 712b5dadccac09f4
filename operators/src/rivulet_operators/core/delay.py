"""Wait, then pass the value through unchanged.

The wait ends early when the run is cancelled (the node then stops as cancelled). Useful for pacing calls to
rate-limited services and for demonstrating concurrency in the editor. Never cached: the wait is the point.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Annotated, Any, Generic, TypeVar

import msgspec
from msgspec import Meta

from rivulet.sdk import Operator, OperatorSpec

if TYPE_CHECKING:
    from rivulet.sdk import RunContext

__all__ = ("SPEC", "Delay", "Inputs", "Outputs", "Params")

T = TypeVar("T")

SPEC = OperatorSpec(
    id="core.delay",
    category="core",
    title="Delay",
    description="Wait a number of seconds, then pass the value on.",
    icon="timer",
    tags=("control", "wait", "sleep"),
    cacheable=False,
)


class Params(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    seconds: Annotated[float, Meta(ge=0, le=3600, description="How long to wait.")] = 1.0


class Inputs(msgspec.Struct, Generic[T], frozen=True, kw_only=True):
    value: Annotated[T, Meta(description="Passed through after the wait.")]


class Outputs(msgspec.Struct, Generic[T], frozen=True, kw_only=True):
    value: Annotated[T, Meta(description="The input value.")]


class Delay(Operator[Params, Inputs[Any], Outputs[Any]]):
    """Sleep ``params.seconds`` unless the run is cancelled first."""

    spec = SPEC
    params_type = Params
    inputs_type = Inputs
    outputs_type = Outputs

    async def run(self, ctx: RunContext, params: Params, inputs: Inputs[Any]) -> Outputs[Any]:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ctx.cancelled.wait(), timeout=params.seconds)
        if ctx.cancelled.is_set():
            raise asyncio.CancelledError(f"run cancelled during a {params.seconds}s delay")
        return Outputs(value=inputs.value)
