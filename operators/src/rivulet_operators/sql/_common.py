"""Helpers shared by the SQL operators (internal): the data source service, located errors, limits."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Final, Literal, TypeVar

from msgspec import Meta

from rivulet.lib.exceptions import AppError, MissingDependencyError, NotFoundError, SQLRefusedError
from rivulet.sdk.data import Datasources
from rivulet_operators.llm._common import fail

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from rivulet.sdk import OperatorSpec, RunContext

__all__ = (
    "SQL_DIALECTS",
    "Dialect",
    "MaxRows",
    "TimeoutSeconds",
    "data_call",
    "datasources_of",
    "fail",
)

R = TypeVar("R")

Dialect = Literal["postgres", "mysql", "sqlite", "duckdb"]
"""The sqlglot dialects of the data source kinds (what queries are written in and transpiled to)."""
SQL_DIALECTS: Final[tuple[str, ...]] = Dialect.__args__

MaxRows = Annotated[int, Meta(ge=1, le=1_000_000, description="Most rows returned (a LIMIT is added).")]
TimeoutSeconds = Annotated[float, Meta(gt=0, le=3600, description="The database's statement timeout.")]


def datasources_of(spec: OperatorSpec, ctx: RunContext) -> Datasources:
    """The process's data source service, or a located error saying it is missing."""
    try:
        return ctx.service(Datasources)
    except MissingDependencyError as exc:
        raise fail(spec, ctx, f"no data source service in this process: {exc.detail}") from exc


def _refusal(exc: SQLRefusedError) -> str:
    rule = exc.extra.get("rule")
    return (
        f"the SQL guard refused the query ({rule}): {exc.detail}"
        if rule
        else f"the SQL guard refused the query: {exc.detail}"
    )


async def data_call(spec: OperatorSpec, ctx: RunContext, call: Awaitable[R], *, datasource: str) -> R:
    """Await a data source call, turning its errors into errors located at the node, naming the data source."""
    try:
        return await call
    except SQLRefusedError as exc:
        raise fail(spec, ctx, f"data source {datasource!r}: {_refusal(exc)}") from exc
    except NotFoundError as exc:
        raise fail(spec, ctx, f"data source {datasource!r}: {exc.detail}") from exc
    except AppError as exc:
        raise fail(spec, ctx, f"data source {datasource!r}: {exc.detail}") from exc


def describe(value: Any, limit: int = 300) -> str:
    """A value shortened for an error message."""
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
