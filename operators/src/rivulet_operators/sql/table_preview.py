"""The first rows of one table of a data source (``SELECT * FROM table``, guarded, read-only).

The table must exist in the data source's schema (the error lists the tables that do). Never cached: the data
changes under the flow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import msgspec
from msgspec import Meta

from rivulet.sdk import NoInputs, Operator, OperatorSpec
from rivulet.sdk.data import QueryLimits
from rivulet.sdk.ports import Table
from rivulet.sdk.ui import DatasourceRef
from rivulet_operators.sql._common import data_call, datasources_of, describe, fail

if TYPE_CHECKING:
    from rivulet.sdk import RunContext

__all__ = ("SPEC", "Outputs", "Params", "TablePreview", "quote_table")

SPEC = OperatorSpec(
    id="sql.table_preview",
    category="sql",
    title="Table preview",
    description="The first rows of a table of a data source.",
    icon="table-2",
    tags=("sql", "table", "preview", "database", "sample"),
    cacheable=False,
)


class Params(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    datasource: Annotated[DatasourceRef, Meta(description="The data source.")] = "shop"
    table: Annotated[str, Meta(min_length=1, max_length=300, description="The table (schema.table elsewhere).")]
    limit: Annotated[int, Meta(ge=1, le=10_000, description="How many rows.")] = 20


class Outputs(msgspec.Struct, frozen=True, kw_only=True):
    table: Annotated[Table, Meta(description="The first rows.")]


def quote_table(name: str, dialect: str) -> str:
    """``name`` (``table`` or ``schema.table``) as quoted identifiers of ``dialect``."""
    quote = "`" if dialect == "mysql" else '"'
    return ".".join(f"{quote}{part.replace(quote, quote * 2)}{quote}" for part in name.split("."))


class TablePreview(Operator[Params, NoInputs, Outputs]):
    spec = SPEC
    params_type = Params
    inputs_type = NoInputs
    outputs_type = Outputs

    async def run(self, ctx: RunContext, params: Params, inputs: NoInputs) -> Outputs:
        service = datasources_of(SPEC, ctx)
        schema = await data_call(SPEC, ctx, service.schema(params.datasource), datasource=params.datasource)
        found = schema.table(params.table)
        if found is None:
            names = describe(", ".join(t.name for t in schema.tables) or "none", 500)
            raise fail(SPEC, ctx, f"data source {params.datasource!r} has no table {params.table!r} (tables: {names})")
        sql = f"SELECT * FROM {quote_table(found.name, schema.dialect)}"
        table = await data_call(
            SPEC,
            ctx,
            service.query(params.datasource, sql, limits=QueryLimits(max_rows=params.limit)),
            datasource=params.datasource,
        )
        return Outputs(table=table)
