"""The part of a data source's schema relevant to a question (schema linking), ready for a prompt.

Tables are linked by a search over their embedded descriptions (plus the foreign-key neighbours joins need); a
schema of at most ``top_k_tables`` tables is given whole. ``context`` is the tables as ``CREATE TABLE`` text with
comments, foreign keys and sample values; ``schema`` the same as JSON with the few-shot examples and the linking
scores. Reading a data source is never cached: its schema and data change under the flow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import msgspec
from msgspec import Meta

from rivulet.sdk import Operator, OperatorSpec
from rivulet.sdk.models import origin_of
from rivulet.sdk.ports import Json, Text
from rivulet.sdk.ui import DatasourceRef
from rivulet_operators.sql._common import data_call, datasources_of, fail

if TYPE_CHECKING:
    from rivulet.sdk import RunContext

__all__ = ("SPEC", "Inputs", "Outputs", "Params", "SchemaContextOperator")

SPEC = OperatorSpec(
    id="sql.schema_context",
    category="sql",
    title="Schema context",
    description="The tables of a data source relevant to a question, as CREATE TABLE text for a prompt.",
    icon="table",
    tags=("sql", "schema", "linking", "text2sql", "database"),
    cacheable=False,
)


class Params(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    datasource: Annotated[DatasourceRef, Meta(description="The data source.")] = "shop"
    top_k_tables: Annotated[int, Meta(ge=1, le=200, description="Most tables in the context.")] = 8
    examples: Annotated[int, Meta(ge=0, le=20, description="Few-shot examples picked by similarity.")] = 3
    linking: Annotated[bool, Meta(description="Link the schema; off: every table goes in.")] = True


class Inputs(msgspec.Struct, frozen=True, kw_only=True):
    question: Annotated[Text, Meta(description="The question the tables should answer.")]


class Outputs(msgspec.Struct, frozen=True, kw_only=True):
    context: Annotated[Text, Meta(description="The linked tables as CREATE TABLE statements.")]
    tables: Annotated[list[Text], Meta(description="The linked table names, most relevant first.")]
    schema: Annotated[Json, Meta(description="The linked tables, examples and scores as JSON.")]


class SchemaContextOperator(Operator[Params, Inputs, Outputs]):
    spec = SPEC
    params_type = Params
    inputs_type = Inputs
    outputs_type = Outputs

    async def run(self, ctx: RunContext, params: Params, inputs: Inputs) -> Outputs:
        question = inputs.question.strip()
        if not question:
            raise fail(SPEC, ctx, "the question is empty")
        service = datasources_of(SPEC, ctx)
        context = await data_call(
            SPEC,
            ctx,
            service.schema_context(
                params.datasource,
                question,
                top_k_tables=params.top_k_tables,
                examples=params.examples,
                linking=params.linking,
                origin=origin_of(ctx),
            ),
            datasource=params.datasource,
        )
        schema: dict[str, Any] = msgspec.to_builtins(context)
        schema.pop("text", None)
        return Outputs(context=context.text, tables=[table.name for table in context.tables], schema=schema)
