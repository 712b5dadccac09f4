"""``DataService``: data sources for operators (``Datasources``), the HTTP API and the CLI.

One object over a ``DatasourceStore`` (records and cached schemas), the ``SecretStore`` (passwords), the connectors
(``rivulet.data.connectors``), the guard (``rivulet.data.guard``), schema linking (``rivulet.data.linking``, through
the knowledge service) and Text2SQL (``rivulet.data.text2sql``). Data sources are named by name or id everywhere.

    service = DataService(store, secrets, models, knowledge, options=DataOptions(files_dir=home / "datasources"))
    await service.create(DatasourceSpec(name="shop", kind="sqlite", path="/srv/shop.sqlite"), owner_id=None)
    table = await service.query("shop", "SELECT name FROM customers")
    answer = await service.ask("shop", "Which customer spent the most?", model="default")

A password is write-only: it goes to the secret store as ``datasource.<name>.password`` and the record keeps only
the secret's name (deleted with the data source). Every query passes the guard against the cached schema (in a
worker thread) and runs on the connector's read-only connection under ``QueryLimits``. Open connectors are kept per
data source (a ``file`` source loads its files once) and closed when the source changes or the service closes.
"""

from __future__ import annotations

import asyncio
import re
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import msgspec

from rivulet.data.connectors.base import open_connector
from rivulet.data.guard import extract_sql, guard_sql, render_params
from rivulet.data.guard import transpile as guard_transpile
from rivulet.data.linking import SchemaLinker
from rivulet.data.specs import DATASOURCE_NAME_PATTERN, FILE_FORMATS
from rivulet.data.text2sql import Text2SQLTools, run_text2sql
from rivulet.lib.exceptions import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from rivulet.lib.log import get_logger
from rivulet.sdk.data import QueryLimits, SchemaInfo, Text2SQLRequest, dialect_of

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from rivulet.data.connectors.base import Connector
    from rivulet.data.specs import DatasourceSpec, DatasourceTest, DatasourceUpdate, FileTable
    from rivulet.knowledge.service import KnowledgeService
    from rivulet.sdk.data import (
        DatasourceInfo,
        Datasources,
        GuardedQuery,
        SchemaContext,
        StepCallback,
        Text2SQLExample,
        Text2SQLResult,
    )
    from rivulet.sdk.models import CallOrigin, ModelRegistry
    from rivulet.sdk.ports import Table
    from rivulet.storage.base import DatasourceRecord, DatasourceStore, SecretStore

__all__ = ("DataOptions", "DataService", "RunDatasources", "password_secret_name", "usable_by")

SERVER_KINDS: Final = frozenset({"postgres", "mysql"})
FILE_DB_KINDS: Final = frozenset({"sqlite", "duckdb"})
_NAME = re.compile(DATASOURCE_NAME_PATTERN)
_TABLE_CHARS = re.compile(r"[^A-Za-z0-9_]+")
_EXTENSIONS: Final[dict[str, str]] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".xlsx": "xlsx",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}

_log = get_logger("rivulet.data")


def usable_by(record: DatasourceRecord, user_id: str | None, *, admin: bool = False) -> bool:
    """Whether ``user_id`` may use a data source: administrators' sources serve everybody, an upload its owner.

    An uploaded (``file``) data source with an owner is usable by that owner (and, through the API, by
    administrators: ``admin``); every other data source is managed by administrators and usable by all.
    """
    if admin or record.kind != "file" or record.owner_id is None:
        return True
    return user_id is not None and record.owner_id == user_id


def password_secret_name(datasource: str) -> str:
    """The secret holding a data source's password (written by the service, deleted with the source)."""
    return f"datasource.{datasource}.password"


SECRET_PREFIX = "datasource."  # noqa: S105 - a name prefix, not a password
"""A data source may only use secrets named like this: any other secret (a model's API key) would be sent as a
database password to whatever host the data source names."""


async def _check_secret_name(secrets: SecretStore, name: str) -> None:
    if not name.startswith(SECRET_PREFIX):
        raise _error(
            "$.password_secret",
            f"name a secret whose name starts with {SECRET_PREFIX!r} (other secrets are never sent to a database)",
        )
    await secrets.reveal(name)  # NotFoundError when it does not exist


@dataclass(frozen=True, slots=True, kw_only=True)
class DataOptions:
    """Settings of the data service.

    Attributes:
        files_dir: Where uploaded files live, one folder per data source id.
        limits: The limits of a query that names none.
        samples: Distinct sample values introspected per column (they reach prompts).
    """

    files_dir: Path
    limits: QueryLimits = field(default_factory=QueryLimits)
    samples: int = 3


def _error(path: str, message: str) -> ValidationError:
    return ValidationError(
        f"{path.removeprefix('$.')}: {message}", extra={"errors": [{"path": path, "message": message}]}
    )


def _format_of(path: str, declared: str | None) -> str:
    if declared is not None:
        return declared
    fmt = _EXTENSIONS.get(Path(path).suffix.lower())
    if fmt is None:
        raise ValueError(
            f"cannot tell the format of {Path(path).name!r} from its extension: use one of {', '.join(FILE_FORMATS)}"
        )
    return fmt


def table_name_of(filename: str) -> str:
    """A SQL table name from a file name (``Sales 2024.csv`` -> ``sales_2024``)."""
    stem = _TABLE_CHARS.sub("_", Path(filename).stem).strip("_").lower()[:60] or "data"
    return f"t_{stem}" if stem[0].isdigit() else stem


def _source_name_of(filename: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(filename).stem).strip("-._")[:48] or "upload"
    return stem if stem[0].isalnum() else f"u{stem}"


def _file_entries(files: list[FileTable], base: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    tables: set[str] = set()
    for i, item in enumerate(files):
        where = f"{base}[{i}]"
        path = Path(item.path).expanduser()
        if not path.is_file():
            raise _error(f"{where}.path", f"no such file: {item.path}")
        try:
            fmt = _format_of(item.path, item.format)
        except ValueError as exc:
            raise _error(f"{where}.format", str(exc)) from None
        table = item.table or (None if fmt == "xlsx" and item.sheet is None else table_name_of(item.sheet or path.name))
        if table is not None:
            if table.lower() in tables:
                raise _error(f"{where}.table", f"table {table!r} is named twice: give one of the files another name")
            tables.add(table.lower())
        entry: dict[str, Any] = {"table": table, "path": str(path.resolve()), "format": fmt}
        if item.sheet is not None:
            entry["sheet"] = item.sheet
        entries.append(entry)
    return entries


def _validate_server(kind: str, values: dict[str, Any]) -> dict[str, Any]:
    for key in ("host", "database", "user"):
        if not str(values.get(key) or "").strip():
            raise _error(f"$.{key}", f"a {kind} data source needs {key}")
    for key in ("path", "files"):
        if values.get(key):
            raise _error(f"$.{key}", f"a {kind} data source has no {key} (it is a server)")
    config = {key: values.get(key) for key in ("host", "port", "database", "user", "sslmode")}
    return {key: value for key, value in config.items() if value is not None}


def _validate_database_file(kind: str, values: dict[str, Any]) -> dict[str, Any]:
    raw = str(values.get("path") or "").strip()
    if not raw:
        raise _error("$.path", f"a {kind} data source needs path (the database file)")
    path = Path(raw).expanduser()
    if not path.is_file():
        raise _error("$.path", f"no such file: {raw}")
    if values.get("files"):
        raise _error("$.files", f"a {kind} data source has no files (use kind 'file')")
    return {"path": str(path.resolve())}


def _validate(kind: str, values: dict[str, Any], *, has_password: bool) -> dict[str, Any]:
    """The record's ``config`` for ``values`` of a data source of ``kind``; located ``ValidationError`` otherwise."""
    if kind in SERVER_KINDS:
        return _validate_server(kind, values)
    if has_password:
        raise _error("$.password", f"a {kind} data source has no password")
    for key in ("host", "port", "database", "user", "sslmode"):
        if values.get(key) is not None:
            raise _error(f"$.{key}", f"a {kind} data source has no {key}")
    if kind in FILE_DB_KINDS:
        return _validate_database_file(kind, values)
    files: list[FileTable] = values.get("files") or []
    if not files:
        raise _error("$.files", "a file data source needs at least one file")
    if values.get("path"):
        raise _error("$.path", "a file data source lists its files in 'files'")
    return {"files": _file_entries(files, "$.files")}


def _spec_values(spec: DatasourceSpec | DatasourceUpdate) -> dict[str, Any]:
    return {key: getattr(spec, key) for key in ("host", "port", "database", "user", "sslmode", "path", "files")}


def _config_values(record: DatasourceRecord) -> dict[str, Any]:
    from rivulet.data.specs import FileTable

    values: dict[str, Any] = {key: record.config.get(key) for key in ("host", "port", "database", "user", "sslmode")}
    values["path"] = record.config.get("path")
    entries: list[dict[str, Any]] = list(record.config.get("files") or [])
    values["files"] = [msgspec.convert(entry, FileTable) for entry in entries]
    return values


class _Connection:
    __slots__ = ("connector", "lock", "stamp")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.connector: Connector | None = None
        self.stamp: datetime | None = None


class DataService:
    """Data sources: implements ``rivulet.sdk.data.Datasources`` plus management for the API and CLI.

    Args:
        store: Records and cached schemas.
        secrets: Passwords.
        models: Chat models for Text2SQL.
        knowledge: Embeds table descriptions for schema linking (``None``: tables ranked by shared words).
        options: Where uploads live, default limits.
        connect: Opens a connector (default ``rivulet.data.connectors.open_connector``; tests swap it).
    """

    def __init__(
        self,
        store: DatasourceStore,
        secrets: SecretStore,
        models: ModelRegistry,
        knowledge: KnowledgeService | None,
        *,
        options: DataOptions,
        connect: Callable[[DatasourceRecord, str | None], Connector] = open_connector,
    ) -> None:
        self.store = store
        self.secrets = secrets
        self.models = models
        self.linker = SchemaLinker(knowledge)
        self.options = options
        self.connect = connect
        self._connections: dict[str, _Connection] = {}
        self._run_owner: Callable[[str], Awaitable[str | None]] | None = None

    # -- runs ------------------------------------------------------------------------------------------------------

    def bind_run_owner(self, lookup: Callable[[str], Awaitable[str | None]]) -> None:
        """How to find whose a run is (the owner of its flow; ``None``: nobody's): ``for_run`` scopes by it."""
        self._run_owner = lookup

    def for_run(self, run_id: str) -> Datasources:
        """What the nodes of run ``run_id`` get from ``ctx.service(Datasources)`` (the runtime calls this).

        With a run owner lookup bound (the server), a run uses the administrators' data sources and the uploads of
        its flow's owner only: another user's upload is "not found", exactly like a missing one. Without one (the
        headless ``rivulet run`` of a local user), every data source.
        """
        if self._run_owner is None:
            return self
        return RunDatasources(self, run_id, self._run_owner)

    # -- records ---------------------------------------------------------------------------------------------------

    async def list(self) -> list[DatasourceRecord]:
        """Every data source, by name."""
        return await self.store.list()

    async def get(self, name: str) -> DatasourceRecord:
        """A data source by name or id. Raises ``NotFoundError``."""
        return await self.store.get(name)

    async def info(self, datasource: str) -> DatasourceInfo:
        return (await self.store.get(datasource)).info()

    async def create(self, spec: DatasourceSpec, *, owner_id: str | None) -> DatasourceRecord:
        """Create a data source (its schema is introspected on first use or ``refresh_schema``).

        Raises:
            ValidationError: A setting is missing or wrong for the kind (located at the field).
            ConflictError: The name is taken.
        """
        if not _NAME.match(spec.name):
            raise _error("$.name", "use letters, digits, '_', '.', '-' (at most 64, starting with a letter or digit)")
        if spec.password is not None and spec.password_secret is not None:
            raise _error("$.password_secret", "give password or password_secret, not both")
        has_password = spec.password is not None or spec.password_secret is not None
        config = await asyncio.to_thread(_validate, spec.kind, _spec_values(spec), has_password=has_password)
        try:
            await self.store.get(spec.name)
        except NotFoundError:
            pass
        else:
            raise ConflictError(f"a data source named {spec.name!r} exists", extra={"name": spec.name})
        secret_name = spec.password_secret
        if spec.password_secret is not None:
            await _check_secret_name(self.secrets, spec.password_secret)
        if spec.password is not None:
            secret_name = password_secret_name(spec.name)
            await self.secrets.set(secret_name, spec.password)
        try:
            return await self.store.create(
                name=spec.name,
                kind=spec.kind,
                description=spec.description,
                config=config,
                secret_name=secret_name,
                examples=spec.examples,
                owner_id=owner_id,
            )
        except BaseException:
            if spec.password is not None and secret_name is not None:
                await self._forget_secret(secret_name)
            raise

    async def update(self, name: str, changes: DatasourceUpdate) -> DatasourceRecord:
        """Change a data source; a new connection drops the cached schema and reconnects.

        Raises:
            ValidationError: The merged settings are wrong for the kind.
        """
        record = await self.store.get(name)
        if changes.password is not None and changes.password_secret is not None:
            raise _error("$.password_secret", "give password or password_secret, not both")
        values = _config_values(record)
        values.update({key: value for key, value in _spec_values(changes).items() if value is not None})
        has_password = (
            record.secret_name is not None or changes.password is not None or changes.password_secret is not None
        )
        config = await asyncio.to_thread(_validate, record.kind, values, has_password=has_password)
        secret_name: str | None = None
        if changes.password_secret is not None:
            await _check_secret_name(self.secrets, changes.password_secret)
            secret_name = changes.password_secret
        if changes.password is not None:
            secret_name = password_secret_name(record.name)
            await self.secrets.set(secret_name, changes.password)
        updated = await self.store.update(
            record.id,
            description=changes.description,
            config=config if config != record.config else None,
            secret_name=secret_name,
            examples=changes.examples,
        )
        if config != record.config or secret_name is not None:
            await self._disconnect(record.id)
        return updated

    async def delete(self, name: str) -> None:
        """Delete a data source with its cached schema, linking index, password secret and uploaded files."""
        record = await self.store.get(name)
        await self._disconnect(record.id)
        await self.linker.drop(record.id)
        await self.store.delete(record.id)
        if record.secret_name is not None and record.secret_name == password_secret_name(record.name):
            await self._forget_secret(record.secret_name)
        folder = self.options.files_dir / record.id
        if folder.is_dir():
            await asyncio.to_thread(shutil.rmtree, folder, True)

    async def _forget_secret(self, secret: str) -> None:
        try:
            await self.secrets.delete(secret)
        except NotFoundError:
            return

    # -- connections -----------------------------------------------------------------------------------------------

    async def _password(self, record: DatasourceRecord) -> str | None:
        return None if record.secret_name is None else await self.secrets.reveal(record.secret_name)

    async def _connector(self, record: DatasourceRecord) -> Connector:
        slot = self._connections.setdefault(record.id, _Connection())
        async with slot.lock:
            if slot.connector is not None and slot.stamp == record.updated_at:
                return slot.connector
            if slot.connector is not None:
                await slot.connector.close()
                slot.connector = None
            slot.connector = self.connect(record, await self._password(record))
            slot.stamp = record.updated_at
            return slot.connector

    async def _disconnect(self, datasource_id: str) -> None:
        slot = self._connections.pop(datasource_id, None)
        if slot is None:
            return
        async with slot.lock:
            if slot.connector is not None:
                await slot.connector.close()
                slot.connector = None

    async def close(self) -> None:
        """Close every open connector."""
        for datasource_id in list(self._connections):
            try:
                await self._disconnect(datasource_id)
            except Exception:  # noqa: BLE001 - closing the rest matters more than one failure
                _log.warning("closing a data source connection failed", extra={"datasource": datasource_id})

    async def test(self, name: str) -> DatasourceTest:
        """Connect with a fresh connector and report (never raises for a bad connection)."""
        record = await self.store.get(name)
        connector = self.connect(record, await self._password(record))
        try:
            return await connector.test()
        finally:
            await connector.close()

    # -- schema ----------------------------------------------------------------------------------------------------

    async def refresh_schema(self, name: str) -> SchemaInfo:
        """Introspect the source, cache the schema and re-embed its table descriptions for linking."""
        record = await self.store.get(name)
        connector = await self._connector(record)
        tables = await connector.introspect(samples=self.options.samples)
        schema = SchemaInfo(
            datasource=record.name, dialect=dialect_of(record.kind), tables=tables, refreshed_at=datetime.now(UTC)
        )
        await self.store.set_schema(record.id, schema)
        try:
            await self.linker.index(record.id, schema, record.examples)
        except Exception as exc:  # noqa: BLE001 - linking falls back to shared words; the schema is cached
            _log.warning(
                "indexing the schema for linking failed", extra={"datasource": record.name, "error": str(exc)[:500]}
            )
        return schema

    async def schema(self, datasource: str, *, refresh: bool = False) -> SchemaInfo:
        record = await self.store.get(datasource)
        if not refresh:
            cached = await self.store.get_schema(record.id)
            if cached is not None:
                return cached
        return await self.refresh_schema(record.id)

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
        record = await self.store.get(datasource)
        schema = await self.schema(record.id)
        return await self._link(
            record, schema, question, top_k_tables=top_k_tables, examples=examples, linking=linking, origin=origin
        )

    async def _link(
        self,
        record: DatasourceRecord,
        schema: SchemaInfo,
        question: str,
        *,
        top_k_tables: int,
        examples: int,
        linking: bool,
        origin: CallOrigin | None,
    ) -> SchemaContext:
        return await self.linker.link(
            record.id,
            schema,
            question,
            all_examples=record.examples,
            top_k_tables=top_k_tables,
            examples=examples,
            linking=linking,
            origin=origin,
        )

    # -- queries ---------------------------------------------------------------------------------------------------

    async def guard(
        self, datasource: str, sql: str, *, dialect: str | None = None, max_rows: int = 1000
    ) -> GuardedQuery:
        record = await self.store.get(datasource)
        schema = await self.schema(record.id)
        return await self._guard(record, schema, sql, dialect, max_rows)

    async def _guard(
        self, record: DatasourceRecord, schema: SchemaInfo, sql: str, dialect: str | None, max_rows: int | None
    ) -> GuardedQuery:
        target = dialect_of(record.kind)
        return await asyncio.to_thread(
            guard_sql, sql, dialect=target, schema=schema, max_rows=max_rows, source_dialect=dialect or target
        )

    async def query(
        self,
        datasource: str,
        sql: str,
        *,
        params: dict[str, Any] | None = None,
        dialect: str | None = None,
        limits: QueryLimits | None = None,
    ) -> Table:
        limits = limits or self.options.limits
        record = await self.store.get(datasource)
        schema = await self.schema(record.id)
        guarded = await self._guard(record, schema, sql, dialect, limits.max_rows)
        return await self._execute(record, guarded, params, limits)

    async def _execute(
        self, record: DatasourceRecord, guarded: GuardedQuery, params: dict[str, Any] | None, limits: QueryLimits
    ) -> Table:
        native, bound = render_params(guarded.sql, guarded.dialect, params)
        connector = await self._connector(record)
        return await connector.execute(native, bound, limits)

    def transpile(self, sql: str, *, source: str, target: str, pretty: bool = False) -> str:
        return guard_transpile(sql, source=source, target=target, pretty=pretty)

    # -- Text2SQL --------------------------------------------------------------------------------------------------

    async def text2sql(
        self,
        datasource: str,
        request: Text2SQLRequest,
        *,
        on_step: StepCallback | None = None,
        origin: CallOrigin | None = None,
    ) -> Text2SQLResult:
        record = await self.store.get(datasource)
        schema = await self.schema(record.id)

        async def link(question: str, linking: bool, top_k: int, examples: int) -> SchemaContext:
            return await self._link(
                record, schema, question, top_k_tables=top_k, examples=examples, linking=linking, origin=origin
            )

        async def guard(sql: str) -> GuardedQuery:
            return await self._guard(record, schema, sql, None, request.limits.max_rows)

        async def execute(guarded: GuardedQuery) -> Table:
            return await self._execute(record, guarded, None, request.limits)

        tools = Text2SQLTools(link=link, guard=guard, execute=execute, extract=extract_sql)
        return await run_text2sql(
            request, datasource=record.info(), models=self.models, tools=tools, on_step=on_step, origin=origin
        )

    async def ask(
        self, name: str, question: str, *, model: str = "default", origin: CallOrigin | None = None
    ) -> Text2SQLResult:
        """Answer ``question`` with the default Text2SQL settings (linking, 3 examples, 2 repairs)."""
        return await self.text2sql(name, Text2SQLRequest(question=question, model=model), origin=origin)

    # -- uploads (ChatExcel) ---------------------------------------------------------------------------------------

    async def add_upload(
        self, path: Path, filename: str, *, owner_id: str | None, name: str | None = None
    ) -> DatasourceRecord:
        """Make an uploaded file queryable (ChatExcel).

        A new ``file`` data source owned by the uploader, or another table of the uploader's ``file`` source
        ``name``. The file is moved into ``<files_dir>/<datasource id>/`` and the schema introspected at once (a
        file that cannot be read is refused and removed again).

        Raises:
            ValidationError: Not a csv, tsv, xlsx, parquet or json(l) file, or unreadable.
            PermissionDeniedError: ``name`` is someone else's data source, or not a file source.
        """
        try:
            fmt = _format_of(filename, None)
        except ValueError as exc:
            raise _error("$.file", str(exc)) from None
        record: DatasourceRecord | None = None
        if name is not None:
            try:
                record = await self.store.get(name)
            except NotFoundError:
                record = None
            if record is not None and (record.kind != "file" or record.owner_id != owner_id):
                raise PermissionDeniedError(
                    f"data source {record.name!r} is not your spreadsheet data source: choose another name",
                    extra={"datasource": record.name},
                )
        created = record is None
        if record is None:
            wanted = name or _source_name_of(filename)
            if not _NAME.match(wanted):
                raise _error(
                    "$.name", "use letters, digits, '_', '.', '-' (at most 64, starting with a letter or digit)"
                )
            record = await self._create_unique(wanted, filename, owner_id)
        folder = self.options.files_dir / record.id
        target = await asyncio.to_thread(_place, path, folder, filename)
        entries: list[dict[str, Any]] = list(record.config.get("files") or [])
        taken = {str(entry.get("table") or "").lower() for entry in entries}
        table = None if fmt == "xlsx" else _unique_table(table_name_of(filename), taken)
        entries.append({"table": table, "path": str(target), "format": fmt})
        try:
            record = await self.store.update(record.id, config={"files": entries})
            await self._disconnect(record.id)
            await self.refresh_schema(record.id)
        except Exception:
            await asyncio.to_thread(target.unlink, True)
            if created:
                await self.delete(record.id)
            else:
                await self.store.update(record.id, config={"files": entries[:-1]})
                await self._disconnect(record.id)
            raise
        return await self.store.get(record.id)

    async def _create_unique(self, wanted: str, filename: str, owner_id: str | None) -> DatasourceRecord:
        for n in range(1, 1000):
            candidate = wanted if n == 1 else f"{wanted[:58]}-{n}"
            try:
                return await self.store.create(
                    name=candidate,
                    kind="file",
                    description=f"Uploaded {Path(filename).name}",
                    config={"files": []},
                    owner_id=owner_id,
                )
            except ConflictError:
                continue
        raise ConflictError(f"no free data source name like {wanted!r}")

    async def examples(self, name: str) -> list[Text2SQLExample]:
        """The few-shot examples of a data source."""
        return list((await self.store.get(name)).examples)


class RunDatasources:
    """``Datasources`` for the nodes of one run: only the data sources its flow's owner may use (``usable_by``)."""

    __slots__ = ("_data", "_lookup", "_owner", "_run_id")

    def __init__(self, data: DataService, run_id: str, lookup: Callable[[str], Awaitable[str | None]]) -> None:
        self._data = data
        self._run_id = run_id
        self._lookup = lookup
        self._owner: tuple[str | None] | None = None

    async def _allowed(self, datasource: str) -> str:
        """The data source's id when the run may use it; ``NotFoundError`` (like a missing one) otherwise."""
        record = await self._data.store.get(datasource)
        if record.kind == "file" and record.owner_id is not None:
            if self._owner is None:
                self._owner = (await self._lookup(self._run_id),)
            if not usable_by(record, self._owner[0]):
                raise NotFoundError(f"data source {datasource!r} not found", extra={"datasource": datasource})
        return record.id

    async def info(self, datasource: str) -> DatasourceInfo:
        return await self._data.info(await self._allowed(datasource))

    async def schema(self, datasource: str, *, refresh: bool = False) -> SchemaInfo:
        return await self._data.schema(await self._allowed(datasource), refresh=refresh)

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
        return await self._data.schema_context(
            await self._allowed(datasource),
            question,
            top_k_tables=top_k_tables,
            examples=examples,
            linking=linking,
            origin=origin,
        )

    async def guard(
        self, datasource: str, sql: str, *, dialect: str | None = None, max_rows: int = 1000
    ) -> GuardedQuery:
        return await self._data.guard(await self._allowed(datasource), sql, dialect=dialect, max_rows=max_rows)

    async def query(
        self,
        datasource: str,
        sql: str,
        *,
        params: dict[str, Any] | None = None,
        dialect: str | None = None,
        limits: QueryLimits | None = None,
    ) -> Table:
        return await self._data.query(
            await self._allowed(datasource), sql, params=params, dialect=dialect, limits=limits
        )

    async def text2sql(
        self,
        datasource: str,
        request: Text2SQLRequest,
        *,
        on_step: StepCallback | None = None,
        origin: CallOrigin | None = None,
    ) -> Text2SQLResult:
        return await self._data.text2sql(await self._allowed(datasource), request, on_step=on_step, origin=origin)

    def transpile(self, sql: str, *, source: str, target: str, pretty: bool = False) -> str:
        return self._data.transpile(sql, source=source, target=target, pretty=pretty)


def _unique_table(name: str, taken: set[str]) -> str:
    candidate = name
    n = 2
    while candidate.lower() in taken:
        candidate = f"{name[:56]}_{n}"
        n += 1
    return candidate


def _place(source: Path, folder: Path, filename: str) -> Path:
    """Move an uploaded file into ``folder`` under a safe, unused name (blocking: run in a thread)."""
    folder.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(filename).name).lstrip(".") or "upload"
    target = folder / safe
    n = 2
    while target.exists():
        target = folder / f"{Path(safe).stem}-{n}{Path(safe).suffix}"
        n += 1
    shutil.move(str(source), target)
    return target
