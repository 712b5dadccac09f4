"""Check a SQL query with the read-only guard against a data source's real schema, without running it.

The guard accepts exactly one read-only query over known tables and columns (no writes, DDL, file or system
functions), rewrites it for the data source's dialect and adds a row limit; anything else fails the node with the
rule it broke. Never cached: the schema changes under the flow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import msgspec
from msgspec import Meta

from rivulet.sdk import Operator, OperatorSpec
from rivulet.sdk.ports import SQLQuery, Text
from rivulet.sdk.ui import DatasourceRef
from rivulet_operators.sql._common import MaxRows, data_call, datasources_of, fail

if TYPE_CHECKING:
    from rivulet.sdk import RunContext

__all__ = ("SPEC", "Inputs", "Outputs", "Params", "Validate")

SPEC = OperatorSpec(
    id="sql.validate",
    category="sql",
    title="Validate SQL",
    description="Check a query with the read-only guard against the data source's schema (adds a row limit).",
    icon="shield-check",
    tags=("sql", "guard", "validate", "database", "security"),
    cacheable=False,
)


class Params(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    datasource: Annotated[DatasourceRef, Meta(description="The data source whose schema the query must fit.")] = "shop"
    max_rows: MaxRows = 1000


class Inputs(msgspec.Struct, frozen=True, kw_only=True):
    query: Annotated[SQLQuery, Meta(description="The query, in its dialect.")]


class Outputs(msgspec.Struct, frozen=True, kw_only=True):
    query: Annotated[SQLQuery, Meta(description="The accepted query in the data source's dialect, with its limit.")]
    tables: Annotated[list[Text], Meta(description="The tables it reads.")]


class Validate(Operator[Params, Inputs, Outputs]):
    spec = SPEC
    params_type = Params
    inputs_type = Inputs
    outputs_type = Outputs

    async def run(self, ctx: RunContext, params: Params, inputs: Inputs) -> Outputs:
        if not inputs.query.sql.strip():
            raise fail(SPEC, ctx, "the query is empty")
        service = datasources_of(SPEC, ctx)
        guarded = await data_call(
            SPEC,
            ctx,
            service.guard(params.datasource, inputs.query.sql, dialect=inputs.query.dialect, max_rows=params.max_rows),
            datasource=params.datasource,
        )
        return Outputs(query=SQLQuery(sql=guarded.sql, dialect=guarded.dialect), tables=list(guarded.tables))
