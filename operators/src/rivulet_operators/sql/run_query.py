"""Run a read-only SQL query on a data source: the ``query`` input or the ``sql`` param, with bound params.

The query passes the guard (one read-only query over known tables and columns, a row limit added) and runs on a
read-only connection with a statement timeout; ``:name`` placeholders are bound from the ``params`` input (never
spliced into the text). ``row_count`` is the number of rows returned (``table.truncated`` says a cap cut them).
Never cached: the data changes under the flow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, cast

import msgspec
from msgspec import Meta

from rivulet.sdk import Operator, OperatorSpec
from rivulet.sdk.data import QueryLimits
from rivulet.sdk.ports import Int, Json, SQLQuery, Table
from rivulet.sdk.rules import exactly_one_of
from rivulet.sdk.ui import CodeText, DatasourceRef
from rivulet_operators.sql._common import MaxRows, TimeoutSeconds, data_call, datasources_of, fail

if TYPE_CHECKING:
    from rivulet.sdk import RunContext

__all__ = ("SPEC", "Inputs", "Outputs", "Params", "RunQuery")

SPEC = OperatorSpec(
    id="sql.run_query",
    category="sql",
    title="Run SQL",
    description="Run a guarded, read-only SQL query on a data source; :name placeholders bind the params input.",
    icon="play",
    tags=("sql", "query", "database", "select", "table"),
    cacheable=False,
    input_rules=(exactly_one_of("query", params=("sql",), hint="the query comes from the input or the sql param"),),
)


class Params(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    datasource: Annotated[DatasourceRef, Meta(description="The data source to query.")] = "shop"
    sql: Annotated[
        Annotated[CodeText, Meta(max_length=100_000)] | None,
        Meta(description="The query, in the data source's dialect (:name binds params.name)."),
    ] = None
    max_rows: MaxRows = 1000
    timeout_s: TimeoutSeconds = 30.0


class Inputs(msgspec.Struct, frozen=True, kw_only=True):
    query: Annotated[SQLQuery | None, Meta(description="The query (instead of the sql param).")] = None
    params: Annotated[Json | None, Meta(description='Values of the :name placeholders, e.g. {"city": "Paris"}.')] = None


class Outputs(msgspec.Struct, frozen=True, kw_only=True):
    table: Annotated[Table, Meta(description="The rows.")]
    row_count: Annotated[Int, Meta(description="How many rows came back.")]


class RunQuery(Operator[Params, Inputs, Outputs]):
    spec = SPEC
    params_type = Params
    inputs_type = Inputs
    outputs_type = Outputs

    async def run(self, ctx: RunContext, params: Params, inputs: Inputs) -> Outputs:
        sql, dialect = (inputs.query.sql, inputs.query.dialect) if inputs.query is not None else (params.sql, None)
        if not sql or not sql.strip():
            raise fail(SPEC, ctx, "the query is empty: connect 'query' or write the sql param")
        bound: dict[str, Any] | None = None
        if inputs.params is not None:
            raw: object = inputs.params
            if not isinstance(raw, dict):
                kind = type(raw).__name__
                raise fail(SPEC, ctx, f"params must be a JSON object of placeholder values, got {kind}")
            bound = {str(key): value for key, value in cast("dict[Any, Any]", raw).items()}
        service = datasources_of(SPEC, ctx)
        limits = QueryLimits(max_rows=params.max_rows, timeout_s=params.timeout_s)
        table = await data_call(
            SPEC,
            ctx,
            service.query(params.datasource, sql, params=bound, dialect=dialect, limits=limits),
            datasource=params.datasource,
        )
        return Outputs(table=table, row_count=len(table.rows))
