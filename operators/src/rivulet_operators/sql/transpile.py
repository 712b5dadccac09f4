"""Rewrite a SQL query from one dialect to another (sqlglot): PostgreSQL to MySQL, SQLite to DuckDB, ...

Pure text work (no data source is read): the same input always gives the same output, so it is cached like any
deterministic node.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated

import msgspec
from msgspec import Meta

from rivulet.lib.exceptions import AppError
from rivulet.sdk import Operator, OperatorSpec
from rivulet.sdk.ports import SQLQuery, Text
from rivulet_operators.sql._common import Dialect, datasources_of, fail

if TYPE_CHECKING:
    from rivulet.sdk import RunContext

__all__ = ("SPEC", "Inputs", "Outputs", "Params", "Transpile")

SPEC = OperatorSpec(
    id="sql.transpile",
    category="sql",
    title="Transpile SQL",
    description="Rewrite a SQL query from one dialect to another.",
    icon="languages",
    tags=("sql", "transpile", "dialect", "sqlglot", "convert"),
)


class Params(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    source: Annotated[Dialect, Meta(description="The dialect the query is written in.")] = "postgres"
    target: Annotated[Dialect, Meta(description="The dialect to write it in.")] = "mysql"
    pretty: Annotated[bool, Meta(description="Format the result over several lines.")] = False


class Inputs(msgspec.Struct, frozen=True, kw_only=True):
    query: Annotated[SQLQuery, Meta(description="The query.")]


class Outputs(msgspec.Struct, frozen=True, kw_only=True):
    query: Annotated[SQLQuery, Meta(description="The query in the target dialect.")]
    sql: Annotated[Text, Meta(description="Its text.")]


class Transpile(Operator[Params, Inputs, Outputs]):
    spec = SPEC
    params_type = Params
    inputs_type = Inputs
    outputs_type = Outputs

    async def run(self, ctx: RunContext, params: Params, inputs: Inputs) -> Outputs:
        if not inputs.query.sql.strip():
            raise fail(SPEC, ctx, "the query is empty")
        service = datasources_of(SPEC, ctx)
        try:
            sql = await asyncio.to_thread(  # sqlglot on a long query is CPU work: off the event loop
                service.transpile, inputs.query.sql, source=params.source, target=params.target, pretty=params.pretty
            )
        except AppError as exc:
            raise fail(SPEC, ctx, f"cannot transpile from {params.source} to {params.target}: {exc.detail}") from exc
        return Outputs(query=SQLQuery(sql=sql, dialect=params.target), sql=sql)
