"""The bodies of ``/api/datasources`` beyond the data layer's own structs: a data source's view, query, question.

``DatasourceSpec``, ``DatasourceUpdate``, ``SchemaInfo``, ``Table`` and ``Text2SQLResult`` are used as they are.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from rivulet.sdk.data import DatasourceKind, Text2SQLExample, Text2SQLResult
from rivulet.sdk.ports import ChartSpec, Message, Table

__all__ = (
    "ASK_HISTORY_TURNS",
    "AskRequest",
    "AskResult",
    "AskTurn",
    "DatasourceList",
    "DatasourceView",
    "QueryRequest",
    "QueryResult",
)

ASK_HISTORY_TURNS = 10
"""Most earlier turns of a conversation that reach the prompt (the last ones)."""


class DatasourceView(msgspec.Struct, frozen=True, kw_only=True):
    """A data source as the API shows it: never a credential.

    ``has_password`` and ``password_secret`` (the name of the secret holding it) are shown to administrators only
    (``null`` for others); a file data source's files show only their file names to others than administrators.
    """

    id: str
    name: str
    kind: DatasourceKind
    dialect: str
    description: str = ""
    config: dict[str, Any] = msgspec.field(default_factory=dict[str, Any])
    """Connection settings without credentials (``host``, ``port``, ``database``, ``user``; ``path``; ``files``)."""
    has_password: bool | None = None
    password_secret: str | None = None
    examples: int = 0
    """How many few-shot question/SQL examples it has."""
    example_pairs: list[Text2SQLExample] | None = None
    """The few-shot examples themselves, for administrators (who edit them); ``null`` for others."""
    owner_id: str | None = None
    """Who uploaded a file data source (``null``: administrators' data sources)."""
    created_at: datetime
    updated_at: datetime
    schema_refreshed_at: datetime | None = None
    table_count: int | None = None
    """Tables in the cached schema (``null`` before the first introspection)."""


class DatasourceList(msgspec.Struct, frozen=True, kw_only=True):
    items: list[DatasourceView]


class QueryRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A query of the playground: it passes the same guard as generated SQL, and runs read-only."""

    sql: Annotated[str, Meta(min_length=1, max_length=100_000)]
    params: dict[str, Any] | None = None
    """Values of ``:name`` placeholders (bound by the driver, never spliced into the text)."""
    max_rows: Annotated[int, Meta(ge=1, le=100_000)] = 1000
    timeout_s: Annotated[float, Meta(gt=0, le=300)] = 30.0
    dialect: str | None = None
    """The dialect ``sql`` is written in (sqlglot names; default: the data source's); it is transpiled."""


class QueryResult(msgspec.Struct, frozen=True, kw_only=True):
    """The playground's answer: the rows and the chart recommended for them (the same rules as ``ask``)."""

    table: Table
    chart: ChartSpec | None = None
    """``null`` when there are no rows or no chart fits the columns (a ``table`` recommendation)."""


class AskTurn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An earlier turn of the conversation: the question and the SQL that answered it (empty: none did)."""

    question: Annotated[str, Meta(min_length=1, max_length=8000)]
    sql: Annotated[str, Meta(max_length=100_000)] = ""


class AskRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A question in words, answered with SQL by a model (Text2SQL), its rows and a recommended chart."""

    question: Annotated[str, Meta(min_length=1, max_length=8000)]
    model: Annotated[str, Meta(min_length=1, max_length=200)] = "default"
    max_repairs: Annotated[int, Meta(ge=0, le=10)] = 2
    max_rows: Annotated[int, Meta(ge=1, le=100_000)] = 1000
    history: Annotated[list[AskTurn], Meta(max_length=100)] = msgspec.field(default_factory=list[AskTurn])
    """Earlier turns, oldest first, so a follow-up ("and only in 2024?") can refer to them; the last
    ``ASK_HISTORY_TURNS`` (10) reach the prompt."""

    def messages(self) -> list[Message]:
        """The last turns of ``history`` as chat messages: the question (user) and its SQL (assistant)."""
        messages: list[Message] = []
        for turn in self.history[-ASK_HISTORY_TURNS:]:
            messages.append(Message(role="user", content=turn.question))
            if turn.sql.strip():
                messages.append(Message(role="assistant", content=turn.sql))
        return messages


class AskResult(msgspec.Struct, frozen=True, kw_only=True):
    result: Text2SQLResult
    chart: ChartSpec | None = None
    """The chart recommended for the rows (``null`` when the question failed or returned no rows)."""
