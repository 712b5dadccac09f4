"""Make a report of one or more tables: a chart for each, a narrative, stored for the editor and share links.

Each table gets the chart given at the same position in ``charts`` or, where none is, ``chart.recommend``'s; the
narrative is written by the model from the question and the tables (``chart.summarize``'s prompt). With ``save``
the report is stored through ``ctx.service(Reports)``, owned by the owner of the run's flow, and ``report`` is
``{id, url}`` (the editor's ``/reports/<id>``); without it ``report`` is null.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated, Any

import msgspec
from msgspec import Meta

from rivulet.lib.exceptions import MissingDependencyError
from rivulet.sdk import Operator, OperatorSpec
from rivulet.sdk.charts import recommend_chart
from rivulet.sdk.data import ReportChart, Reports
from rivulet.sdk.ports import ChartSpec, Json, Table, Text
from rivulet.sdk.ui import ModelRef
from rivulet_operators.chart.summarize import narrate
from rivulet_operators.llm._common import fail, models_of

if TYPE_CHECKING:
    from rivulet.sdk import RunContext

__all__ = ("SPEC", "Inputs", "Outputs", "Params", "Report")

SPEC = OperatorSpec(
    id="chart.report",
    category="chart",
    title="Report",
    description="Charts for tables plus a narrative, saved as a shareable report.",
    icon="layout-dashboard",
    tags=("chart", "report", "dashboard", "llm", "gbi"),
    cacheable=False,
)

MAX_TABLES = 50


class Params(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    model: Annotated[ModelRef, Meta(description="A configured chat model for the narrative.")] = "default"
    title: Annotated[str, Meta(min_length=1, max_length=300, description="The report's title.")] = "Report"
    save: Annotated[bool, Meta(description="Store the report (it opens at /reports/<id> and can be shared).")] = True


class Inputs(msgspec.Struct, frozen=True, kw_only=True):
    question: Annotated[Text | None, Meta(description="What the report answers.")] = None
    tables: Annotated[list[Table], Meta(description="The tables, one chart each.")]
    charts: Annotated[list[ChartSpec] | None, Meta(description="Charts for the tables, by position.")] = None
    sql: Annotated[list[Text] | None, Meta(description="The SQL behind each table, by position.")] = None


class Outputs(msgspec.Struct, frozen=True, kw_only=True):
    summary: Annotated[Text, Meta(description="The narrative.")]
    report: Annotated[Json, Meta(description="{id, url} of the stored report; null when not saved.")]
    charts: Annotated[list[ChartSpec], Meta(description="The report's charts, one per table.")]


class Report(Operator[Params, Inputs, Outputs]):
    """Charts, a narrative and (with ``save``) a stored report."""

    spec = SPEC
    params_type = Params
    inputs_type = Inputs
    outputs_type = Outputs

    async def run(self, ctx: RunContext, params: Params, inputs: Inputs) -> Outputs:
        if not inputs.tables:
            raise fail(SPEC, ctx, "no tables to report on (connect at least one Table to 'tables')")
        if len(inputs.tables) > MAX_TABLES:
            raise fail(SPEC, ctx, f"a report holds at most {MAX_TABLES} tables ({len(inputs.tables)} given)")
        question = (inputs.question or "").strip()
        given = inputs.charts or []
        queries = inputs.sql or []
        charts = await asyncio.to_thread(  # the chart rules scan every row: off the event loop
            lambda: [
                given[n] if n < len(given) else recommend_chart(table, question=question)
                for n, table in enumerate(inputs.tables)
            ]
        )
        reports: Reports | None = None
        if params.save:
            try:
                reports = ctx.service(Reports)
            except MissingDependencyError as exc:
                raise fail(
                    SPEC, ctx, f"reports cannot be saved in this process (set save to false): {exc.detail}"
                ) from exc
        summary = await narrate(models_of(SPEC, ctx), ctx, params.model, question, inputs.tables, max_tokens=400)
        saved: dict[str, Any] | None = None
        if reports is not None:
            items = [
                ReportChart(
                    title=chart.title,
                    chart=chart,
                    table=table,
                    sql=queries[n] if n < len(queries) and queries[n].strip() else None,
                )
                for n, (chart, table) in enumerate(zip(charts, inputs.tables, strict=True))
            ]
            result = await reports.save(title=params.title, summary=summary, charts=items, run_id=ctx.run_id)
            saved = {"id": result.id, "url": result.url}
        return Outputs(summary=summary, report=saved, charts=charts)
