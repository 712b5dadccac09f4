"""A schedule trigger: once published, the flow runs by itself on a cron expression or an interval.

Every scheduled run starts with the schedule's ``inputs`` plus ``scheduled_at`` (the ISO time of the fire it
belongs to). This node emits both; ``core.input`` nodes can read the same inputs by name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import msgspec
from msgspec import Meta

from rivulet.sdk import NoInputs, Operator, OperatorSpec
from rivulet.sdk.ports import Json, Text
from rivulet.sdk.triggers import ScheduleTriggerParams

if TYPE_CHECKING:
    from rivulet.sdk import RunContext

__all__ = ("SCHEDULED_AT", "SPEC", "Outputs", "ScheduleTrigger")

SCHEDULED_AT = "scheduled_at"

SPEC = OperatorSpec(
    id="trigger.schedule",
    category="trigger",
    title="Schedule",
    description="Run the flow on a cron expression or an interval once published.",
    icon="clock",
    tags=("schedule", "cron", "interval", "publish"),
    cacheable=False,
)


class Outputs(msgspec.Struct, frozen=True, kw_only=True):
    inputs: Annotated[Json, Meta(description="The schedule's inputs.")]
    scheduled_at: Annotated[Text, Meta(description="ISO 8601 time of the fire (empty outside a schedule).")]


class ScheduleTrigger(Operator[ScheduleTriggerParams, NoInputs, Outputs]):
    """Emit the schedule's inputs and fire time."""

    spec = SPEC
    params_type = ScheduleTriggerParams
    inputs_type = NoInputs
    outputs_type = Outputs

    async def run(self, ctx: RunContext, params: ScheduleTriggerParams, inputs: NoInputs) -> Outputs:
        scheduled_at = str(ctx.run_inputs.get(SCHEDULED_AT, ""))
        values = {k: v for k, v in ctx.run_inputs.items() if k != SCHEDULED_AT} or dict(params.inputs)
        return Outputs(inputs=values, scheduled_at=scheduled_at)
