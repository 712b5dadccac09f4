"""``/api/datasources``: data sources, schemas, the query playground, questions (Text2SQL) and spreadsheet uploads.

Every signed-in role lists and reads data sources and their schemas (``data:read``); editors and administrators
query them and ask questions (``data:query``: the same guard and read-only connection as generated SQL) and upload
spreadsheets (ChatExcel: a ``file`` data source owned by the uploader). Connections are administrators' (``admin``):
creating, changing and deleting server databases and server files. A data source uploaded by a user is seen only by
its owner and administrators (404 for others), and deleted or tested by them. No answer ever carries a credential:
a password is write-only, and whether there is one (and the secret's name) is shown to administrators only.
docs/data-api.md has the shapes.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Annotated, Any, cast

from litestar import Controller, Request, delete, get, patch, post
from litestar.openapi.spec import OpenAPIMediaType, Operation, RequestBody, Schema
from litestar.openapi.spec.enums import OpenAPIFormat, OpenAPIType
from litestar.params import FromPath, JSONBody, QueryParameter

from rivulet.data.charts import recommend_chart
from rivulet.data.specs import FILE_FORMATS, DatasourceSpec, DatasourceTest, DatasourceUpdate
from rivulet.domain.access import principal_of
from rivulet.domain.datasources.deps import DatasourcesDeps
from rivulet.domain.datasources.schemas import (
    AskRequest,
    AskResult,
    DatasourceList,
    DatasourceView,
    QueryRequest,
    QueryResult,
)
from rivulet.lib.exceptions import DatasourceError, NotFoundError, PermissionDeniedError, ValidationError
from rivulet.sdk.data import QueryLimits, SchemaInfo, Text2SQLRequest, dialect_of
from rivulet.sdk.models import CallOrigin
from rivulet.security.permissions import ROLE_PERMISSIONS, Permission, owns_or_administers, requires
from rivulet.server.deps import Injected
from rivulet.server.uploads import stage_upload

if TYPE_CHECKING:
    from rivulet.knowledge.ingest import SourceFile
    from rivulet.sdk.ports import ChartSpec, Table
    from rivulet.security import Principal
    from rivulet.storage.base import DatasourceRecord

__all__ = ("RESERVED_NAMES", "DatasourceUploadsController", "DatasourcesController", "datasource_view")

_READ = requires(Permission.DATA_READ)
_QUERY = requires(Permission.DATA_QUERY)
_ADMIN = requires(Permission.ADMIN)
_API = CallOrigin(kind="api")
UPLOAD_SUFFIXES = frozenset(f".{fmt}" for fmt in FILE_FORMATS)
"""The file types a spreadsheet upload takes (``.csv``, ``.tsv``, ``.xlsx``, ``.parquet``, ``.json``, ``.jsonl``)."""
RESERVED_NAMES = frozenset({"uploads"})
"""Names the API refuses for a data source: ``/api/datasources/uploads`` is the upload route."""
_SECRET_WORDS = ("password", "passwd", "secret", "token", "credential")


def _visible(principal: Principal, record: DatasourceRecord) -> bool:
    """Administrators see every data source; a file uploaded by a user is seen by its owner alone."""
    if principal.is_admin or record.kind != "file" or record.owner_id is None:
        return True
    return record.owner_id == principal.user_id


async def _readable(deps: DatasourcesDeps, request: Request[Any, Any, Any], name: str) -> DatasourceRecord:
    """The data source, when the caller may see it (404 otherwise, exactly like a missing one)."""
    record = await deps.data.get(name)
    if not _visible(principal_of(request), record):
        raise NotFoundError(f"data source {name!r} not found", extra={"datasource": name})
    return record


async def _managed(deps: DatasourcesDeps, request: Request[Any, Any, Any], name: str, what: str) -> DatasourceRecord:
    """The data source, when the caller administers it or uploaded it (403 for a visible one, else 404)."""
    record = await _readable(deps, request, name)
    principal = principal_of(request)
    owned = record.kind == "file" and record.owner_id is not None
    if not principal.is_admin and not (owned and owns_or_administers(principal, record.owner_id)):
        raise PermissionDeniedError(
            f"only an administrator (or the owner of an uploaded data source) may {what} data source {record.name!r}",
            extra={"datasource": record.name},
        )
    return record


def _reserved(name: str | None, path: str) -> None:
    if name is not None and name.lower() in RESERVED_NAMES:
        message = f"{name!r} is reserved (it is the path of the upload route)"
        raise ValidationError(f"data source name {message}", extra={"errors": [{"path": path, "message": message}]})


def _public_config(config: dict[str, Any], *, admin: bool) -> dict[str, Any]:
    """The config without anything that looks like a credential; others than administrators see file names only."""
    shown: dict[str, Any] = {}
    for key, value in config.items():
        if any(word in key.lower() for word in _SECRET_WORDS):
            continue
        if key == "path" and isinstance(value, str) and not admin:
            shown[key] = PurePosixPath(value.replace("\\", "/")).name
        elif key == "files" and isinstance(value, list):
            shown[key] = [_public_file(item, admin=admin) for item in cast("list[object]", value)]
        else:
            shown[key] = value
    return shown


def _public_file(item: object, *, admin: bool) -> object:
    if not isinstance(item, dict):
        return item
    entry: dict[str, Any] = {str(k): v for k, v in cast("dict[object, Any]", item).items()}
    path = entry.get("path")
    if isinstance(path, str) and not admin:
        entry["path"] = PurePosixPath(path.replace("\\", "/")).name
    return entry


def datasource_view(record: DatasourceRecord, principal: Principal, schema: SchemaInfo | None) -> DatasourceView:
    """What the caller may see of a data source (``schema``: its cached schema, for the table count)."""
    admin = principal.is_admin
    return DatasourceView(
        id=record.id,
        name=record.name,
        kind=record.kind,
        dialect=dialect_of(record.kind),
        description=record.description,
        config=_public_config(record.config, admin=admin),
        has_password=(record.secret_name is not None) if admin else None,
        password_secret=record.secret_name if admin else None,
        examples=len(record.examples),
        example_pairs=list(record.examples) if admin else None,
        owner_id=record.owner_id,
        created_at=record.created_at,
        updated_at=record.updated_at,
        schema_refreshed_at=record.schema_refreshed_at,
        table_count=len(schema.tables) if schema is not None else None,
    )


async def _view(deps: DatasourcesDeps, request: Request[Any, Any, Any], record: DatasourceRecord) -> DatasourceView:
    schema = await deps.data.store.get_schema(record.id)
    return datasource_view(record, principal_of(request), schema)


class DatasourcesController(Controller):
    path = "/api/datasources"
    tags = ["datasources"]

    @get("", summary="Data sources the caller may see, by name (never a credential)", opt=_READ)
    async def list_datasources(
        self, deps: Injected[DatasourcesDeps], request: Request[Any, Any, Any]
    ) -> DatasourceList:
        principal = principal_of(request)
        records = [record for record in await deps.data.list() if _visible(principal, record)]
        return DatasourceList(items=[await _view(deps, request, record) for record in records])

    @post(
        "",
        summary="Add a data source (administrators): a database server, a database file or server files",
        description="A `password` is write-only: it is kept in the secret store (or name an existing secret with "
        "`password_secret`) and never shown again.",
        opt=_ADMIN,
    )
    async def create_datasource(
        self, deps: Injected[DatasourcesDeps], request: Request[Any, Any, Any], data: JSONBody[DatasourceSpec]
    ) -> DatasourceView:
        _reserved(data.name, "$.name")
        record = await deps.data.create(data, owner_id=None)
        return await _view(deps, request, record)

    @get("/{name:str}", summary="One data source (by name or id)", opt=_READ)
    async def get_datasource(
        self, deps: Injected[DatasourcesDeps], request: Request[Any, Any, Any], name: FromPath[str]
    ) -> DatasourceView:
        return await _view(deps, request, await _readable(deps, request, name))

    @patch(
        "/{name:str}", summary="Change a data source (administrators); a new connection drops its schema", opt=_ADMIN
    )
    async def update_datasource(
        self,
        deps: Injected[DatasourcesDeps],
        request: Request[Any, Any, Any],
        name: FromPath[str],
        data: JSONBody[DatasourceUpdate],
    ) -> DatasourceView:
        record = await deps.data.update(name, data)
        return await _view(deps, request, record)

    @delete(
        "/{name:str}",
        summary="Delete a data source (administrators; an uploaded one also by its owner)",
        opt=_QUERY,
    )
    async def delete_datasource(
        self, deps: Injected[DatasourcesDeps], request: Request[Any, Any, Any], name: FromPath[str]
    ) -> None:
        record = await _managed(deps, request, name, "delete")
        await deps.data.delete(record.name)

    @post(
        "/{name:str}/test",
        status_code=200,
        summary="Connect and report the server's version and table count (administrators; an upload's owner)",
        description="A failed connection is `ok: false` with the error (without credentials), not an error answer.",
        opt=_QUERY,
    )
    async def test_datasource(
        self, deps: Injected[DatasourcesDeps], request: Request[Any, Any, Any], name: FromPath[str]
    ) -> DatasourceTest:
        record = await _managed(deps, request, name, "test")
        return await deps.data.test(record.name)

    @get(
        "/{name:str}/schema", summary="A data source's tables and columns (cached; refresh=true introspects)", opt=_READ
    )
    async def get_schema(
        self,
        deps: Injected[DatasourcesDeps],
        request: Request[Any, Any, Any],
        name: FromPath[str],
        refresh: Annotated[bool, QueryParameter(required=False, description="introspect the database again")] = False,
    ) -> SchemaInfo:
        record = await _readable(deps, request, name)
        if refresh:
            principal = principal_of(request)
            if principal.role is None or Permission.DATA_QUERY not in ROLE_PERMISSIONS[principal.role]:
                # introspection scans the database and re-embeds every table: not for read-only roles
                raise PermissionDeniedError(
                    "refreshing a schema needs the data:query permission (editors and administrators)",
                    extra={"datasource": record.name, "permission": Permission.DATA_QUERY.value},
                )
            return await deps.data.refresh_schema(record.name)
        return await deps.data.schema(record.name)

    @post(
        "/{name:str}/query",
        status_code=200,
        summary="Run a read-only query (the playground): guarded like generated SQL, capped in rows and time",
        description="The answer is the rows (`table`) and the chart recommended for them (`chart`, `null` without rows "
        "or when only a table fits). Refused SQL is a 422 `sql_refused` with the `rule` and `reason`; a database "
        "failure a 502 `datasource_error` with its `reason` (connect, timeout, query, row_cap, byte_cap).",
        opt=_QUERY,
    )
    async def query(
        self,
        deps: Injected[DatasourcesDeps],
        request: Request[Any, Any, Any],
        name: FromPath[str],
        data: JSONBody[QueryRequest],
    ) -> QueryResult:
        record = await _readable(deps, request, name)
        limits = QueryLimits(max_rows=data.max_rows, timeout_s=data.timeout_s)
        table = await deps.data.query(record.name, data.sql, params=data.params, dialect=data.dialect, limits=limits)
        return QueryResult(table=table, chart=await _chart_for(table))

    @post(
        "/{name:str}/ask",
        status_code=200,
        summary="Answer a question with SQL (Text2SQL with repairs), its rows and a recommended chart",
        description="A question the model cannot answer is `result.ok: false` with the error and every attempt; "
        "a missing model is a 404.",
        opt=_QUERY,
    )
    async def ask(
        self,
        deps: Injected[DatasourcesDeps],
        request: Request[Any, Any, Any],
        name: FromPath[str],
        data: JSONBody[AskRequest],
    ) -> AskResult:
        record = await _readable(deps, request, name)
        question = Text2SQLRequest(
            question=data.question,
            model=data.model,
            history=data.messages(),
            max_repairs=data.max_repairs,
            limits=QueryLimits(max_rows=data.max_rows),
        )
        result = await deps.data.text2sql(record.name, question, origin=_API)
        chart = None
        if result.ok and result.table is not None and result.table.rows:
            chart = await asyncio.to_thread(recommend_chart, result.table, title=data.question)  # scans every row
        return AskResult(result=result, chart=chart)


async def _chart_for(table: Table) -> ChartSpec | None:
    """The chart recommended for a query's rows, or ``None`` (no rows, or only a table fits the columns)."""
    if not table.rows:
        return None
    chart = await asyncio.to_thread(recommend_chart, table)  # scans every row: off the event loop
    return None if chart.kind == "table" else chart


@dataclass
class _SpreadsheetUpload(Operation):
    """The OpenAPI operation of the upload: its body is read by the handler itself (streamed to disk)."""

    def __post_init__(self) -> None:
        files = Schema(type=OpenAPIType.ARRAY, items=Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY))
        name = Schema(type=OpenAPIType.STRING, description="the data source to create or extend")
        form = Schema(
            type=OpenAPIType.OBJECT,
            properties={"files": files, "name": name},
            required=["files"],
            description="One part named `files` (or `file`) per file: csv, tsv, xlsx, parquet, json or jsonl; an "
            "optional field `name`: the data source (default: from the first file's name).",
        )
        self.request_body = RequestBody(content={"multipart/form-data": OpenAPIMediaType(schema=form)}, required=True)


class DatasourceUploadsController(Controller):
    """``/api/datasources/uploads``: mounted with the upload body limit (``max_upload_bytes`` and the framing)."""

    path = "/api/datasources"
    tags = ["datasources"]

    @post(
        "/uploads",
        status_code=201,
        summary="Upload spreadsheets (ChatExcel): a file data source owned by the caller, one table per file or sheet",
        description="Each file is streamed to disk as it arrives; a file over `max_upload_file_bytes` or an upload "
        "over `max_upload_bytes` is a 413 `upload_too_large` naming the file; a file of another type is a 422 "
        "naming it. With `name` naming an uploaded data source of the caller's, the files are added to it (another's, "
        "or a data source that is not an upload, is a 403).",
        operation_class=_SpreadsheetUpload,
        opt=_QUERY,
    )
    async def upload(self, deps: Injected[DatasourcesDeps], request: Request[Any, Any, Any]) -> DatasourceView:
        principal = principal_of(request)
        staged = await stage_upload(request, deps.uploads, fields=frozenset({"name"}), suffixes=UPLOAD_SUFFIXES)
        try:
            name = staged.fields.get("name", "").strip() or None
            _reserved(name, "name")
            record = await _add_files(deps, staged.files, owner_id=principal.user_id, name=name)
        finally:
            await staged.remove()
        return await _view(deps, request, record)


async def _add_files(
    deps: DatasourcesDeps, files: list[SourceFile], *, owner_id: str | None, name: str | None
) -> DatasourceRecord:
    """Add the files one by one; when one is refused, a data source this upload created is deleted again."""
    created: str | None = None
    if name is not None:
        try:
            await deps.data.get(name)
        except NotFoundError:
            created = name
    record: DatasourceRecord | None = None
    try:
        for index, file in enumerate(files):
            try:
                record = await deps.data.add_upload(Path(file.path), file.name, owner_id=owner_id, name=name)
            except DatasourceError as exc:  # the file cannot be read as a table: the client's file, not a server fault
                detail = exc.detail.replace(str(deps.data.options.files_dir), "<uploads>")  # no server paths
                message = f"cannot be read as a table: {detail}"
                raise ValidationError(
                    f"files[{index}] ({file.name!r}) {message}",
                    extra={"errors": [{"path": f"files[{index}]", "file": file.name, "message": message}]},
                ) from None
            if name is None:
                created = record.name
            name = record.name
    except BaseException:
        if created is not None and record is not None:
            with contextlib.suppress(NotFoundError):
                await deps.data.delete(created)
        raise
    assert record is not None  # stage_upload refuses an upload without files
    return record
