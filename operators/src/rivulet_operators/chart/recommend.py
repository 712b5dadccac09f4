"""Pick a chart for a table from its columns' types and cardinality (no model), as an ECharts option.

The rules (``rivulet.sdk.charts``): a date/time column with numbers is a line chart, a category with a number a
bar chart (a pie for a small breakdown of parts of a whole), several numbers per category a grouped bar chart,
two numbers a scatter chart, one number a number card, more than 12 categories the top 20; anything else a
table. ``kind``, ``x`` and ``y`` override the choice; a column they name must exist.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated, Literal

import msgspec
from msgspec import Meta

from rivulet.lib.exceptions import ValidationError
from rivulet.sdk import Operator, OperatorSpec
from rivulet.sdk.charts import recommend_chart
from rivulet.sdk.ports import ChartSpec, Table
from rivulet_operators.llm._common import fail

if TYPE_CHECKING:
    from rivulet.sdk import RunContext

__all__ = ("SPEC", "ChartKind", "Inputs", "Outputs", "Params", "Recommend")

SPEC = OperatorSpec(
    id="chart.recommend",
    category="chart",
    title="Recommend chart",
    description="Turn a table into the chart its columns call for (line, bar, pie, scatter, number, table).",
    icon="bar-chart",
    tags=("chart", "visualize", "echarts", "table", "gbi"),
)

ChartKind = Literal["auto", "line", "bar", "pie", "scatter", "number", "table"]


class Params(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    kind: Annotated[ChartKind, Meta(description="'auto' picks from the columns; otherwise this kind of chart.")] = (
        "auto"
    )
    title: Annotated[str, Meta(max_length=300, description="The chart's title (default: from the columns).")] = ""
    x: Annotated[str, Meta(max_length=200, description="The column along the x axis (category or time).")] | None = None
    y: Annotated[list[str], Meta(max_length=20, description="The columns of numbers to draw.")] | None = None


class Inputs(msgspec.Struct, frozen=True, kw_only=True):
    table: Annotated[Table, Meta(description="The rows to chart (e.g. sql.generate's table).")]


class Outputs(msgspec.Struct, frozen=True, kw_only=True):
    chart: Annotated[ChartSpec, Meta(description="An ECharts option with its kind and title.")]


class Recommend(Operator[Params, Inputs, Outputs]):
    """A chart for the table, by the rules (deterministic)."""

    spec = SPEC
    params_type = Params
    inputs_type = Inputs
    outputs_type = Outputs

    async def run(self, ctx: RunContext, params: Params, inputs: Inputs) -> Outputs:
        try:
            chart = await asyncio.to_thread(  # column roles scan every row: off the event loop
                recommend_chart, inputs.table, kind=params.kind, title=params.title, x=params.x, y=params.y
            )
        except ValidationError as exc:
            raise fail(SPEC, ctx, exc.detail) from exc
        return Outputs(chart=chart)
