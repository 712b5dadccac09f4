"""Write a short narrative of a table: what it says about the question, with its numbers (a model call).

The model sees the question and a compact form of the table (column types, number stats, the first rows) and is
asked for two to four plain sentences using only those numbers. An empty table gets a fixed sentence, without a
model call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import msgspec
from msgspec import Meta

from rivulet.sdk import Operator, OperatorSpec
from rivulet.sdk.models import ChatRequest, origin_of
from rivulet.sdk.ports import Message, Table, Text
from rivulet.sdk.ui import ModelRef
from rivulet_operators.chart._common import describe_table
from rivulet_operators.llm._common import models_of

if TYPE_CHECKING:
    from rivulet.sdk import RunContext
    from rivulet.sdk.models import ModelRegistry

__all__ = ("EMPTY_TABLE", "SPEC", "SYSTEM_PROMPT", "Inputs", "Outputs", "Params", "Summarize", "narrate")

SPEC = OperatorSpec(
    id="chart.summarize",
    category="chart",
    title="Summarize table",
    description="A short narrative of a table's numbers, answering the question (a model call).",
    icon="file-text",
    tags=("chart", "summary", "narrative", "llm", "gbi"),
    cacheable=False,
)

SYSTEM_PROMPT = (
    "You are a data analyst. Answer the question from the query result in two to four plain sentences: state "
    "the main finding with its numbers, then one notable detail (largest, smallest, trend or share). Use only the "
    "numbers given; do not invent data; no preamble, no markdown tables."
)
EMPTY_TABLE = "The query returned no rows, so there is nothing to summarize."


class Params(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    model: Annotated[ModelRef, Meta(description="A configured chat model; 'default' is the default chat model.")] = (
        "default"
    )


class Inputs(msgspec.Struct, frozen=True, kw_only=True):
    question: Annotated[Text | None, Meta(description="The question the table answers.")] = None
    table: Annotated[Table, Meta(description="The rows to describe.")]


class Outputs(msgspec.Struct, frozen=True, kw_only=True):
    text: Annotated[Text, Meta(description="A short narrative of the table.")]


async def narrate(
    models: ModelRegistry, ctx: RunContext, model: str, question: str, tables: list[Table], *, max_tokens: int = 300
) -> str:
    """The model's narrative of ``tables`` for ``question`` (``EMPTY_TABLE`` when none has rows)."""
    filled = [t for t in tables if t.rows]
    if not filled:
        return EMPTY_TABLE
    parts = [
        f"Table {n}:\n{describe_table(t, rows=10)}" if len(filled) > 1 else describe_table(t, rows=10)
        for n, t in enumerate(filled, start=1)
    ]
    asked = question or "(none: describe what the data shows)"
    prompt = f"Question: {asked}\n\nQuery result:\n" + "\n\n".join(parts)
    request = ChatRequest(
        messages=[Message(role="system", content=SYSTEM_PROMPT), Message(role="user", content=prompt)],
        temperature=0.2,
        max_tokens=max_tokens,
    )
    return (await models.chat(model, request, origin=origin_of(ctx))).text.strip()


class Summarize(Operator[Params, Inputs, Outputs]):
    """A narrative of the table."""

    spec = SPEC
    params_type = Params
    inputs_type = Inputs
    outputs_type = Outputs

    async def run(self, ctx: RunContext, params: Params, inputs: Inputs) -> Outputs:
        if not inputs.table.rows:
            return Outputs(text=EMPTY_TABLE)
        text = await narrate(models_of(SPEC, ctx), ctx, params.model, (inputs.question or "").strip(), [inputs.table])
        return Outputs(text=text)
