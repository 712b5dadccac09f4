"""What operators see of data sources (databases and files): schema, Text2SQL, guarded read-only queries.

A data source is admin-configured (PostgreSQL, MySQL/MariaDB, SQLite, DuckDB) or an uploaded file (CSV, Excel,
Parquet, JSON, queried through DuckDB). Operators name it with a ``DatasourceRef`` param and reach it only
through ``ctx.service(Datasources)``::

    ds = ctx.service(Datasources)
    table = await ds.query("shop", "SELECT name FROM customers", limits=QueryLimits(max_rows=100))

Every SQL that reaches a database passed the guard (sqlglot: one read-only query, columns qualified against the
real schema, no dangerous functions, a row limit added) *and* runs on a read-only connection with a statement
timeout and row and byte caps. The guard raises ``SQLRefusedError``; the database's refusals and failures raise
``DatasourceError``. Connectors, the guard and Text2SQL live in ``rivulet.data``; this module is the contract.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal, Protocol

import msgspec
from msgspec import Meta

from rivulet.sdk.ports import ChartSpec, Message, Table

if TYPE_CHECKING:
    from rivulet.sdk.models import CallOrigin

__all__ = (
    "DIALECTS",
    "ColumnInfo",
    "DatasourceInfo",
    "DatasourceKind",
    "Datasources",
    "GuardedQuery",
    "QueryLimits",
    "ReportChart",
    "Reports",
    "SavedReport",
    "SchemaContext",
    "SchemaInfo",
    "StepCallback",
    "TableInfo",
    "Text2SQLAttempt",
    "Text2SQLExample",
    "Text2SQLRequest",
    "Text2SQLResult",
    "Text2SQLStep",
    "dialect_of",
)

DatasourceKind = Literal["postgres", "mysql", "sqlite", "duckdb", "file"]
"""``file``: CSV, TSV, Excel, Parquet or JSON files, each a table, queried through DuckDB."""

DIALECTS: dict[str, str] = {
    "postgres": "postgres",
    "mysql": "mysql",
    "sqlite": "sqlite",
    "duckdb": "duckdb",
    "file": "duckdb",
}
"""The sqlglot dialect of each kind of data source."""


def dialect_of(kind: str) -> str:
    """The sqlglot dialect a data source of this kind speaks."""
    return DIALECTS[kind]


class ColumnInfo(msgspec.Struct, frozen=True, kw_only=True):
    """One column as introspected from the database."""

    name: str
    type: str
    """The database's own type name (``integer``, ``varchar(40)``, ``DOUBLE``)."""
    nullable: bool = True
    primary_key: bool = False
    references: str | None = None
    """``table.column`` this column is a foreign key to."""
    comment: str = ""
    samples: list[Any] = msgspec.field(default_factory=list[Any])
    """A few distinct values (short texts only; never from columns that look secret)."""


class TableInfo(msgspec.Struct, frozen=True, kw_only=True):
    """A table or view; ``name`` is how SQL names it (``schema.table`` outside the default schema)."""

    name: str
    kind: Literal["table", "view"] = "table"
    comment: str = ""
    columns: list[ColumnInfo] = msgspec.field(default_factory=list[ColumnInfo])
    row_count: int | None = None
    """Exact for small tables, the planner's estimate for large ones; ``None`` when unknown."""


class SchemaInfo(msgspec.Struct, frozen=True, kw_only=True):
    """What a data source holds (cached; refreshed on demand)."""

    datasource: str
    dialect: str
    tables: list[TableInfo] = msgspec.field(default_factory=list[TableInfo])
    refreshed_at: datetime | None = None

    def table(self, name: str) -> TableInfo | None:
        """The table called ``name`` (case-insensitive; a bare name also finds ``schema.name``)."""
        lowered = name.lower()
        for table in self.tables:
            if table.name.lower() == lowered or table.name.lower().rsplit(".", 1)[-1] == lowered:
                return table
        return None


class DatasourceInfo(msgspec.Struct, frozen=True, kw_only=True):
    """A data source as operators and the API show it (no credentials, ever)."""

    id: str
    name: str
    kind: DatasourceKind
    dialect: str
    description: str = ""


class QueryLimits(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Caps every query runs under (the guard adds ``LIMIT max_rows + 1`` to see truncation)."""

    max_rows: Annotated[int, Meta(ge=1, le=1_000_000)] = 1000
    max_bytes: Annotated[int, Meta(ge=1024, le=1 << 30)] = 16 << 20
    """Approximate size of the result (JSON-encoded rows); rows past it are dropped and ``truncated`` set."""
    timeout_s: Annotated[float, Meta(gt=0, le=3600)] = 30.0


class GuardedQuery(msgspec.Struct, frozen=True, kw_only=True):
    """SQL the guard accepted, rewritten for the target dialect, with the limit it added."""

    sql: str
    dialect: str
    tables: list[str] = msgspec.field(default_factory=list[str])
    columns: list[str] = msgspec.field(default_factory=list[str])
    """Qualified ``table.column`` names the query reads."""
    limit: int | None = None
    """The row limit now in force (``None`` for a query that returns one row per group of nothing, e.g. COUNT)."""


class Text2SQLExample(msgspec.Struct, frozen=True, kw_only=True):
    """A question with the SQL that answers it (few-shot examples of a data source)."""

    question: Annotated[str, Meta(min_length=1, max_length=4000)]
    sql: Annotated[str, Meta(min_length=1, max_length=20_000)]


class SchemaContext(msgspec.Struct, frozen=True, kw_only=True):
    """The part of a schema relevant to a question (schema linking), ready for a prompt."""

    datasource: str
    dialect: str
    tables: list[TableInfo]
    """The linked tables, most relevant first (all tables when the schema is small)."""
    text: str
    """The tables as ``CREATE TABLE`` statements with comments, sample values and foreign keys."""
    examples: list[Text2SQLExample] = msgspec.field(default_factory=list[Text2SQLExample])
    """Few-shot examples chosen by similarity to the question."""
    scores: dict[str, float] = msgspec.field(default_factory=dict[str, float])
    """Linking score per table name."""


class Text2SQLRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One question to answer with SQL."""

    question: Annotated[str, Meta(min_length=1, max_length=8000)]
    model: str = "default"
    history: list[Message] = msgspec.field(default_factory=list[Message])
    """Earlier turns of the conversation (follow-up questions)."""
    linking: bool = True
    """Link the schema (only relevant tables reach the prompt); ``False`` puts the whole schema in."""
    top_k_tables: Annotated[int, Meta(ge=1, le=200)] = 8
    examples: Annotated[int, Meta(ge=0, le=20)] = 3
    max_repairs: Annotated[int, Meta(ge=0, le=10)] = 2
    """Times a failing query (parse, guard or database error) goes back to the model with its error."""
    execute: bool = True
    """Run the query (needed for repairs of database errors); ``False`` stops after the guard."""
    prompt_template: str | None = None
    """A jinja2 template replacing the default prompt (variables: ``question``, ``dialect``, ``schema``,
    ``examples``, ``history``)."""
    temperature: Annotated[float, Meta(ge=0, le=2)] = 0.0
    max_tokens: Annotated[int, Meta(ge=16, le=8192)] = 512
    limits: QueryLimits = msgspec.field(default_factory=QueryLimits)


class Text2SQLAttempt(msgspec.Struct, frozen=True, kw_only=True):
    """One model answer and what became of it."""

    attempt: int
    """0 for the first answer, 1.. for repairs."""
    raw: str
    """What the model wrote."""
    sql: str
    """The SQL taken from it (code fences and prose removed)."""
    error: str | None = None
    stage: Literal["extract", "parse", "guard", "execute"] | None = None
    """Where it failed (``None``: it worked)."""
    duration_ms: float = 0.0


class Text2SQLStep(msgspec.Struct, frozen=True, kw_only=True):
    """A step of the pipeline as it happens (node events show these live)."""

    kind: Literal["link", "prompt", "generate", "guard", "execute", "repair", "done"]
    attempt: int = 0
    detail: dict[str, Any] = msgspec.field(default_factory=dict[str, Any])
    """``link``: tables and scores; ``prompt``: the prompt; ``generate``: the SQL; ``guard``/``execute``: the
    error or row count; ``repair``: the error sent back."""
    duration_ms: float = 0.0


StepCallback = Callable[[Text2SQLStep], Awaitable[None]]


class Text2SQLResult(msgspec.Struct, frozen=True, kw_only=True):
    """The answer to a ``Text2SQLRequest``."""

    ok: bool
    question: str
    datasource: str
    dialect: str
    sql: str
    """The last SQL (guarded and limited when ``ok``)."""
    table: Table | None = None
    """The rows (when ``execute`` and ``ok``)."""
    linked_tables: list[str] = msgspec.field(default_factory=list[str])
    prompt: str = ""
    """The first prompt sent to the model."""
    attempts: list[Text2SQLAttempt] = msgspec.field(default_factory=list[Text2SQLAttempt])
    error: str | None = None
    """Why the last attempt failed (when not ``ok``)."""
    model: str = ""


class Datasources(Protocol):
    """Configured data sources, by name or id (``ctx.service(Datasources)``)."""

    async def info(self, datasource: str) -> DatasourceInfo:
        """The data source. Raises ``NotFoundError``."""
        ...

    async def schema(self, datasource: str, *, refresh: bool = False) -> SchemaInfo:
        """Its tables and columns (cached; ``refresh`` introspects again)."""
        ...

    async def schema_context(
        self,
        datasource: str,
        question: str,
        *,
        top_k_tables: int = 8,
        examples: int = 3,
        linking: bool = True,
        origin: CallOrigin | None = None,
    ) -> SchemaContext:
        """The tables relevant to ``question`` (embedded table descriptions in pgvector) and few-shot examples."""
        ...

    async def guard(
        self, datasource: str, sql: str, *, dialect: str | None = None, max_rows: int = 1000
    ) -> GuardedQuery:
        """Check ``sql`` (written in ``dialect``, default the source's) against the guard and the real schema.

        Raises:
            SQLRefusedError: Not exactly one read-only query over known tables and columns, with the rule broken.
        """
        ...

    async def query(
        self,
        datasource: str,
        sql: str,
        *,
        params: dict[str, Any] | None = None,
        dialect: str | None = None,
        limits: QueryLimits | None = None,
    ) -> Table:
        """Guard, then run ``sql`` read-only; ``params`` bind ``:name`` placeholders (never spliced into text).

        Raises:
            SQLRefusedError: The guard refused it.
            DatasourceError: The database refused it, failed, or ran past the timeout.
        """
        ...

    async def text2sql(
        self,
        datasource: str,
        request: Text2SQLRequest,
        *,
        on_step: StepCallback | None = None,
        origin: CallOrigin | None = None,
    ) -> Text2SQLResult:
        """Answer a question with SQL: linked schema, prompt, model, guard, execute; repair failures.

        A failing query goes back to the model with its error up to ``request.max_repairs`` times. A question it
        cannot answer is ``ok=False`` with the error, not a raise (a missing data source or model still raises).
        """
        ...

    def transpile(self, sql: str, *, source: str, target: str, pretty: bool = False) -> str:
        """``sql`` rewritten from one sqlglot dialect to another. Raises ``SQLRefusedError`` when unparsable."""
        ...


class ReportChart(msgspec.Struct, frozen=True, kw_only=True):
    """One chart of a report, with the table and SQL it came from."""

    title: str = ""
    chart: ChartSpec
    table: Table | None = None
    sql: str | None = None


class SavedReport(msgspec.Struct, frozen=True, kw_only=True):
    """A stored report: its id and where the editor shows it (``/reports/{id}``)."""

    id: str
    url: str


class Reports(Protocol):
    """Stores reports made by runs (``ctx.service(Reports)``); the API, UI and HTML export read them."""

    async def save(
        self,
        *,
        title: str,
        summary: str,
        charts: list[ReportChart],
        datasource: str | None = None,
        run_id: str | None = None,
    ) -> SavedReport:
        """Store a report owned by whoever started the run."""
        ...
