"""Transform each item of a list with a Jinja2 expression or a JSONPath.

In ``expression`` mode the expression sees ``item`` and ``index`` (``item.title | upper``,
``{"id": item.id, "n": index}``). In ``jsonpath`` mode the path is applied to each item and its first match is
kept (``$.user.name``); ``on_missing`` decides what happens to items without a match. The result is checked
against ``List[output_type]``.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Annotated, Any, Literal

import msgspec
from jinja2 import TemplateError
from msgspec import Meta

from rivulet.sdk import Operator, OperatorSpec, PortSpec, PortType
from rivulet.sdk.templating import TemplateTimeoutError, run_sandboxed, uses_chance
from rivulet.sdk.ui import Expression, PortTypeName
from rivulet_operators.core._common import check_value, compile_expression, evaluate, fail, parse_value_type
from rivulet_operators.core._jsonpath import compile_path, find

if TYPE_CHECKING:
    from rivulet.sdk import RunContext

__all__ = ("SPEC", "Inputs", "MapItems", "Outputs", "Params")

SPEC = OperatorSpec(
    id="core.map",
    category="core",
    title="Map",
    description="Apply an expression or a JSONPath to every item of a list.",
    icon="list-tree",
    tags=("list", "transform", "jsonpath"),
)


class Params(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    expression: Annotated[Expression, Meta(description="Jinja2 expression over item/index, or a JSONPath.")] = "item"
    mode: Annotated[Literal["expression", "jsonpath"], Meta(description="How to read the expression.")] = "expression"
    output_type: Annotated[PortTypeName, Meta(description="Type of each result item.")] = "Any"
    on_missing: Annotated[
        Literal["error", "null", "skip"], Meta(description="JSONPath mode: an item without a match.")
    ] = "error"

    def __post_init__(self) -> None:
        parse_value_type(self.output_type)
        if self.mode == "jsonpath":
            compile_path(self.expression)
        else:
            compile_expression(self.expression)


class Inputs(msgspec.Struct, frozen=True, kw_only=True):
    items: Annotated[list[Any], Meta(description="The list to transform.")]


class Outputs(msgspec.Struct, frozen=True, kw_only=True):
    items: list[Any]


class _ItemError(Exception):
    def __init__(self, index: int, error: TemplateError) -> None:
        super().__init__(index)
        self.index = index
        self.error = error


def _evaluate_all(expression: str, items: list[Any]) -> list[Any]:
    results: list[Any] = []
    for index, item in enumerate(items):
        try:
            results.append(evaluate(expression, item=item, index=index))
        except TemplateTimeoutError:
            raise
        except TemplateError as exc:
            raise _ItemError(index, exc) from exc
    return results


class MapItems(Operator[Params, Inputs, Outputs]):
    """Apply ``params.expression`` to every item."""

    spec = SPEC
    params_type = Params
    inputs_type = Inputs
    outputs_type = Outputs
    dynamic_outputs = True

    @classmethod
    def output_ports(cls, params: Params) -> tuple[PortSpec, ...]:
        item_type = parse_value_type(params.output_type)
        return (PortSpec(name="items", type=PortType("List", (item_type,)), description="The transformed items."),)

    @classmethod
    def output_values(cls, outputs: Outputs) -> dict[str, Any]:
        return {"items": outputs.items}

    async def run(self, ctx: RunContext, params: Params, inputs: Inputs) -> Outputs:
        results = self._by_path(ctx, params, inputs.items) if params.mode == "jsonpath" else []
        if params.mode == "expression":
            if uses_chance(params.expression, expression=True):
                ctx.nondeterministic()  # ``random`` changes the result from one run to the next: not cached
            try:  # a long list or a heavy expression moves to a worker thread, under the node's timeout
                results = await run_sandboxed(functools.partial(_evaluate_all, params.expression, inputs.items))
            except _ItemError as exc:
                raise fail(SPEC, ctx, f"expression failed on item {exc.index}: {exc.error.message}") from exc.error
            except TemplateError as exc:  # RENDER_TIME_LIMIT_S
                raise fail(SPEC, ctx, f"expression failed: {exc.message}") from exc
        list_type = PortType("List", (parse_value_type(params.output_type),))
        try:
            return Outputs(items=check_value(results, list_type, "result"))
        except ValueError as exc:
            raise fail(SPEC, ctx, str(exc)) from exc

    @staticmethod
    def _by_path(ctx: RunContext, params: Params, items: list[Any]) -> list[Any]:
        steps = compile_path(params.expression)
        results: list[Any] = []
        for index, item in enumerate(items):
            matches = find(steps, item)
            if matches:
                results.append(matches[0])
            elif params.on_missing == "null":
                results.append(None)
            elif params.on_missing == "error":
                raise fail(SPEC, ctx, f"item {index} has no match for {params.expression!r}")
        return results
