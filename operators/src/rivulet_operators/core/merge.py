"""Merge objects or concatenate lists from several inputs.

Objects merge left to right (``in_2`` wins over ``in_1``); with ``deep`` nested objects merge too, otherwise
a later value replaces the whole key. Lists are concatenated in port order. Inputs are optional: a skipped or
unconnected input is left out; at least one must be connected (a compile error otherwise), and a merge whose
inputs were all skipped fails. Mixing objects and lists is an error naming the ports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import msgspec
from msgspec import Meta

from rivulet.sdk import Operator, OperatorSpec, PortSpec, PortType
from rivulet.sdk.ports import Json
from rivulet.sdk.rules import InputRule, requires_one_of
from rivulet_operators.core._common import fail
from rivulet_operators.core._numbered import NumberedInputs, numbered_ports, port_names

if TYPE_CHECKING:
    from collections.abc import Mapping

    from rivulet.sdk import RunContext

__all__ = ("SPEC", "Merge", "Outputs", "Params", "deep_merge")

SPEC = OperatorSpec(
    id="core.merge",
    category="core",
    title="Merge",
    description="Merge objects or concatenate lists.",
    icon="combine",
    tags=("json", "object", "list"),
)


class Params(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    count: Annotated[int, Meta(ge=2, le=16, description="Number of inputs.")] = 2
    deep: Annotated[bool, Meta(description="Merge nested objects instead of replacing them.")] = True


class Outputs(msgspec.Struct, frozen=True, kw_only=True):
    value: Annotated[Json, Meta(description="The merged object or concatenated list.")]


def deep_merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """A new dict: ``update`` merged into ``base`` recursively (non-dict values replace)."""
    merged = dict(base)
    for key, value in update.items():
        current = merged.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            merged[key] = deep_merge(current, value)  # pyright: ignore[reportUnknownArgumentType]
        else:
            merged[key] = value
    return merged


def _kind(value: Any) -> str:
    return "object" if isinstance(value, dict) else "list" if isinstance(value, list) else type(value).__name__


class Merge(Operator[Params, NumberedInputs, Outputs]):
    """Merge ``in_1 .. in_n``."""

    spec = SPEC
    params_type = Params
    inputs_type = NumberedInputs
    outputs_type = Outputs
    dynamic_inputs = True

    @classmethod
    def input_ports(cls, params: Params) -> tuple[PortSpec, ...]:
        return numbered_ports(params.count, PortType("Json"), required=False)

    @classmethod
    def input_rules(cls, params: Params) -> tuple[InputRule, ...]:
        return (requires_one_of(*port_names(params.count), hint="a merge needs a value"),)

    @classmethod
    def build_inputs(cls, values: Mapping[str, Any]) -> NumberedInputs:
        return NumberedInputs.of(values)

    async def run(self, ctx: RunContext, params: Params, inputs: NumberedInputs) -> Outputs:
        named = [(n, msgspec.to_builtins(inputs.values[n])) for n in port_names(params.count) if n in inputs.values]
        if not named:
            raise fail(SPEC, ctx, "no input has a value to merge")
        kinds = {name: _kind(value) for name, value in named}
        if set(kinds.values()) == {"list"}:
            return Outputs(value=[item for _, value in named for item in value])
        if set(kinds.values()) != {"object"}:
            listed = ", ".join(f"{name}={kind}" for name, kind in kinds.items())
            raise fail(SPEC, ctx, f"inputs must be all objects or all lists, got {listed}")
        merged: dict[str, Any] = {}
        for _, value in named:
            merged = deep_merge(merged, value) if params.deep else {**merged, **value}
        return Outputs(value=merged)
