"""What every connector does: the ``Connector`` protocol, ``open_connector`` and ``normalise_type``.

A connector runs SQL that already passed the guard, but it never trusts that: each one makes the *database*
refuse writes (a read-only transaction, connection or file handle), puts a statement timeout on every query,
and stops reading rows at ``QueryLimits.max_rows`` and ``max_bytes``. See docs/data-connectors.md. The helpers
they share live in ``_common.py`` (re-exported here).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from rivulet.data.connectors._common import (
    EXACT_COUNT_ROWS,
    SAMPLE_SCAN_ROWS,
    RowCollector,
    datasource_error,
    jsonable,
    looks_secret,
    normalise_type,
    redact,
    sample_values,
)
from rivulet.lib.exceptions import ValidationError

if TYPE_CHECKING:
    from rivulet.data.specs import DatasourceTest
    from rivulet.sdk.data import DatasourceKind, QueryLimits, TableInfo
    from rivulet.sdk.ports import Table
    from rivulet.storage.base import DatasourceRecord

__all__ = (
    "EXACT_COUNT_ROWS",
    "SAMPLE_SCAN_ROWS",
    "Connector",
    "RowCollector",
    "datasource_error",
    "jsonable",
    "looks_secret",
    "normalise_type",
    "open_connector",
    "redact",
    "sample_values",
)


class Connector(Protocol):
    """One configured data source, reachable read-only."""

    kind: DatasourceKind
    dialect: str

    async def test(self) -> DatasourceTest:
        """Connect and look around; a bad connection is ``ok=False`` with the error, never a raise."""
        ...

    async def introspect(self, *, samples: int = 3) -> list[TableInfo]:
        """Tables and views with columns, keys, comments, row counts and ``samples`` values per column."""
        ...

    async def execute(self, sql: str, params: dict[str, Any] | None, limits: QueryLimits) -> Table:
        """Run driver-native ``sql`` read-only under ``limits``.

        Raises:
            DatasourceError: The database refused or failed it, or it ran past ``limits.timeout_s``.
        """
        ...

    async def close(self) -> None:
        """Release what the connector holds (idempotent)."""
        ...


def open_connector(record: DatasourceRecord, password: str | None) -> Connector:
    """The connector for ``record`` (nothing is opened until it is used).

    Raises:
        ValidationError: Unknown kind.
    """
    config = dict(record.config)
    if record.kind == "postgres":
        from rivulet.data.connectors.postgres import PostgresConnector

        return PostgresConnector(record.name, config, password)
    if record.kind == "mysql":
        from rivulet.data.connectors.mysql import MySQLConnector

        return MySQLConnector(record.name, config, password)
    if record.kind == "sqlite":
        from rivulet.data.connectors.sqlite import SQLiteConnector

        return SQLiteConnector(record.name, config)
    if record.kind == "duckdb":
        from rivulet.data.connectors.duckdb import DuckDBConnector

        return DuckDBConnector(record.name, config)
    if record.kind == "file":
        from rivulet.data.connectors.files import FileConnector

        return FileConnector(record.name, config)
    raise ValidationError(f"data source {record.name!r}: unknown kind {record.kind!r}")
