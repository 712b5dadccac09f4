"""SQL operators: schema linking, Text2SQL with repair, guarded read-only queries, validation, transpiling.

They reach data sources only through ``ctx.service(Datasources)`` (``rivulet.sdk.data``), named by a
``DatasourceRef`` param. Every query passes the read-only guard against the real schema and runs on a read-only
connection with a timeout and row caps; reading a data source is never cached.
"""

from rivulet_operators.sql import generate, run_query, schema_context, table_preview, transpile, validate

__all__ = ("OPERATORS",)

OPERATORS = (
    schema_context.SchemaContextOperator,
    generate.Generate,
    validate.Validate,
    run_query.RunQuery,
    transpile.Transpile,
    table_preview.TablePreview,
)
