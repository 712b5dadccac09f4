"""Ask a model which chart answers the question best, check its pick against the table, else use the rules.

The model sees the question, the columns (type, role, distinct values, number stats) and a few rows, and answers
JSON ``{kind, x, y, title, reason}`` (constrained by a JSON Schema where the provider supports it). The pick is
checked against the table: a known kind, an ``x`` column that exists, ``y`` columns that hold numbers. A pick
that fails (or an answer that is not JSON, or a model that fails) falls back to ``chart.recommend``'s rules, and
``reason`` says why.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated, Any

import msgspec
from msgspec import Meta

from rivulet.lib.exceptions import ModelError, ValidationError
from rivulet.sdk import Operator, OperatorSpec
from rivulet.sdk.charts import recommend_chart
from rivulet.sdk.models import ChatRequest, origin_of
from rivulet.sdk.ports import ChartSpec, Message, Table, Text
from rivulet.sdk.ui import ModelRef
from rivulet_operators.chart._common import describe_table
from rivulet_operators.llm._common import models_of
from rivulet_operators.llm.structured_output import parse_answer

if TYPE_CHECKING:
    from rivulet.sdk import RunContext

__all__ = ("PICK_SCHEMA", "SPEC", "Generate", "Inputs", "Outputs", "Params", "check_pick")

SPEC = OperatorSpec(
    id="chart.generate",
    category="chart",
    title="Generate chart",
    description="Have a model pick the chart for a question and table; checked, with the rules as fallback.",
    icon="bar-chart",
    tags=("chart", "visualize", "echarts", "llm", "gbi"),
    cacheable=False,
)

PICKABLE = ("line", "bar", "pie", "scatter", "number", "table")
PICK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "kind": {"type": "string", "enum": list(PICKABLE)},
        "x": {"type": ["string", "null"]},
        "y": {"type": "array", "items": {"type": "string"}},
        "title": {"type": "string"},
        "reason": {"type": "string"},
    },
    "required": ["kind", "x", "y", "title"],
    "additionalProperties": False,
}
"""What the model answers."""

SYSTEM_PROMPT = (
    "You choose the chart that best answers a question about a table. Answer only with a JSON object: "
    '{"kind": one of line|bar|pie|scatter|number|table, "x": the column along the x axis (a category or date '
    'column; the first number for scatter; null for number/table), "y": the columns of numbers to draw, "title": '
    'a short chart title, "reason": one sentence}. Use only column names from the table. Line charts are for '
    "values over time, bar charts compare categories, pie charts show parts of a whole (few slices), scatter "
    "plots relate two numbers, number shows a single value."
)


class Params(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    model: Annotated[ModelRef, Meta(description="A configured chat model; 'default' is the default chat model.")] = (
        "default"
    )
    title: Annotated[str, Meta(max_length=300, description="The chart's title (default: the model's).")] = ""


class Inputs(msgspec.Struct, frozen=True, kw_only=True):
    table: Annotated[Table, Meta(description="The rows to chart.")]
    question: Annotated[Text | None, Meta(description="What the chart should answer.")] = None


class Outputs(msgspec.Struct, frozen=True, kw_only=True):
    chart: Annotated[ChartSpec, Meta(description="An ECharts option with its kind and title.")]
    reason: Annotated[Text, Meta(description="Why this chart (the model's reason, or why the rules decided).")]


class _Pick(msgspec.Struct, frozen=True, kw_only=True):
    kind: str
    x: str | None = None
    y: list[str] = msgspec.field(default_factory=list[str])
    title: str = ""
    reason: str = ""


def check_pick(table: Table, answer: str, *, title: str, question: str) -> tuple[ChartSpec, str]:
    """The chart a model's answer picks. Raises ``ValueError`` (not JSON, wrong shape) or ``ValidationError``."""
    try:
        pick = msgspec.convert(parse_answer(answer), _Pick)
    except msgspec.ValidationError as exc:
        raise ValueError(f"the answer does not have the expected shape: {exc}") from exc
    if pick.kind not in PICKABLE:
        raise ValueError(f"unknown chart kind {pick.kind!r}")
    x = pick.x or None
    chart = recommend_chart(table, kind=pick.kind, title=title or pick.title, x=x, y=pick.y or None, question=question)
    return chart, pick.reason.strip() or f"the model picked a {pick.kind} chart"


def _prompt(table: Table, question: str) -> str:
    asked = question or "(no question: show what the table says best)"
    return f"Question: {asked}\n\nTable:\n{describe_table(table, rows=5)}\n\nAnswer with the JSON object."


class Generate(Operator[Params, Inputs, Outputs]):
    """The model's chart for the question, or the rules' when the pick does not fit the table."""

    spec = SPEC
    params_type = Params
    inputs_type = Inputs
    outputs_type = Outputs

    async def run(self, ctx: RunContext, params: Params, inputs: Inputs) -> Outputs:
        question = (inputs.question or "").strip()
        table = inputs.table
        if not table.rows or not table.columns:
            chart = recommend_chart(table, title=params.title, question=question)
            return Outputs(chart=chart, reason="the table has no rows: nothing to ask a model about")
        models = models_of(SPEC, ctx)
        request = ChatRequest(
            messages=[
                Message(role="system", content=SYSTEM_PROMPT),
                Message(role="user", content=_prompt(table, question)),
            ],
            temperature=0.0,
            max_tokens=256,
            json_schema=PICK_SCHEMA,
        )
        try:
            answer = (await models.chat(params.model, request, origin=origin_of(ctx))).text
        except ModelError as exc:  # the chart rules scan every row: in a worker thread, off the event loop
            return await asyncio.to_thread(self._fallback, table, params, question, f"the model failed ({exc.detail})")
        try:
            chart, reason = await asyncio.to_thread(check_pick, table, answer, title=params.title, question=question)
        except (ValueError, ValidationError) as exc:
            detail = exc.detail if isinstance(exc, ValidationError) else str(exc)
            why = f"the model's pick was not usable: {detail}"
            return await asyncio.to_thread(self._fallback, table, params, question, why)
        return Outputs(chart=chart, reason=reason)

    def _fallback(self, table: Table, params: Params, question: str, why: str) -> Outputs:
        chart = recommend_chart(table, title=params.title, question=question)  # "auto" without columns never raises
        return Outputs(chart=chart, reason=f"{why}; the rules chose a {chart.kind} chart")
