"""What callers send to create and change data sources (the API, the CLI and the app's sample source).

A password is write-only: the service stores it in the secret store and keeps only the secret's name with the
data source; no read ever returns it. ``password_secret`` names a secret that already exists instead.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from rivulet.sdk.data import DatasourceKind, Text2SQLExample

__all__ = (
    "DATASOURCE_NAME_PATTERN",
    "FILE_FORMATS",
    "DatasourceSpec",
    "DatasourceTest",
    "DatasourceUpdate",
    "FileFormat",
    "FileTable",
)

DATASOURCE_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
FileFormat = Literal["csv", "tsv", "xlsx", "parquet", "json", "jsonl"]
FILE_FORMATS: tuple[str, ...] = FileFormat.__args__


class FileTable(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One file of a ``file`` data source, queried as a table (an Excel file gives one table per sheet)."""

    table: Annotated[str, Meta(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")] | None = None
    """The table name (default: from the file name, or the sheet name for a workbook)."""
    path: Annotated[str, Meta(min_length=1, max_length=4096)]
    """A file on the server (admins) or an uploaded file (kept under the server's home)."""
    format: FileFormat | None = None
    """Default: from the extension."""
    sheet: str | None = None
    """Excel: only this sheet."""


class DatasourceSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A new data source."""

    name: Annotated[str, Meta(pattern=DATASOURCE_NAME_PATTERN)]
    kind: DatasourceKind
    description: Annotated[str, Meta(max_length=4000)] = ""
    host: str | None = None
    port: Annotated[int, Meta(ge=1, le=65535)] | None = None
    database: str | None = None
    user: str | None = None
    password: str | None = None
    """Write-only; stored as a secret."""
    password_secret: str | None = None
    """The name of an existing secret holding the password."""
    sslmode: str | None = None
    path: str | None = None
    """sqlite, duckdb: the database file."""
    files: list[FileTable] = msgspec.field(default_factory=list[FileTable])
    """file: the files, one table each."""
    examples: list[Text2SQLExample] = msgspec.field(default_factory=list[Text2SQLExample])


class DatasourceUpdate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Changes to a data source (``None`` keeps a value); changing the connection drops the cached schema."""

    description: Annotated[str, Meta(max_length=4000)] | None = None
    host: str | None = None
    port: Annotated[int, Meta(ge=1, le=65535)] | None = None
    database: str | None = None
    user: str | None = None
    password: str | None = None
    password_secret: str | None = None
    sslmode: str | None = None
    path: str | None = None
    files: list[FileTable] | None = None
    examples: list[Text2SQLExample] | None = None


class DatasourceTest(msgspec.Struct, frozen=True, kw_only=True):
    """The result of a connection test."""

    ok: bool
    latency_ms: float = 0.0
    server: str = ""
    """The server's version string."""
    tables: int = 0
    error: str | None = None
