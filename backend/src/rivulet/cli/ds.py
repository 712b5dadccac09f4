"""``rivulet ds add|list|test|schema|query|delete``: data sources from the command line (same database as serve).

Like ``rivulet kb``, the commands open the database themselves (the embedded one unless ``RIVULET_DATABASE_URL``)
and run the data service in this process: ``test``, ``schema --refresh`` and ``query`` connect to the data source
from here. A password never goes on the command line: ``--password-env VAR`` reads it from an environment variable,
``--password-stdin`` from the first line of standard input; it is kept in the secret store like one set in the API.
Data sources added here belong to nobody (administrators manage them in the API).

Output (docs/cli.md): ``created: data source 'shop' (sqlite)``, ``deleted: data source 'shop'``; ``list``, ``schema``
and ``query`` print tables (``--json``: one JSON document). A connection test that fails prints
``rivulet: test failed: <why>`` on stderr and exits 1; refused SQL and unknown data sources exit 2.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import msgspec

from rivulet.cli.common import (
    add_home_arg,
    add_json_arg,
    database,
    failed,
    knowledge_stack,
    note,
    out,
    print_json,
    print_table,
    settings_for,
)
from rivulet.lib.exceptions import ValidationError

if TYPE_CHECKING:
    import argparse
    from collections.abc import Awaitable, Callable

    from rivulet.data.service import DataService
    from rivulet.data.specs import DatasourceSpec
    from rivulet.lib.settings import Settings
    from rivulet.sdk.data import SchemaInfo
    from rivulet.storage.base import DatasourceRecord

__all__ = ("add_ds_parser", "read_password")

_KINDS = ("postgres", "mysql", "sqlite", "duckdb", "file")
_SERVER_OPTIONS = ("db_host", "db_port", "database", "user", "sslmode")


async def _with_service(settings: Settings, url: str, action: Callable[[DataService], Awaitable[int]]) -> int:
    from rivulet.app.wiring import data_options
    from rivulet.data.service import DataService
    from rivulet.storage.postgres.data import PostgresDatasourceStore

    async with knowledge_stack(settings, url) as stack:
        store = PostgresDatasourceStore(stack.pool)
        service = DataService(store, stack.secrets, stack.models, stack.knowledge, options=data_options(settings))
        try:
            return await action(service)
        finally:
            await service.close()


def read_password(args: argparse.Namespace) -> str | None:
    """The password from ``--password-env VAR`` or ``--password-stdin`` (never from the command line itself).

    Raises:
        ValidationError: The variable is not set, or standard input is empty.
    """
    if args.password_env is not None:
        value = os.environ.get(args.password_env)
        if not value:
            raise ValidationError(
                f"--password-env: the environment variable {args.password_env!r} is not set",
                extra={"errors": [{"path": "--password-env", "message": "not set", "got": args.password_env}]},
            )
        return value
    if args.password_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise ValidationError(
                "--password-stdin: standard input gave no password",
                extra={"errors": [{"path": "--password-stdin", "message": "empty"}]},
            )
        return line
    return None


def _spec(args: argparse.Namespace) -> DatasourceSpec:
    """The data source the arguments describe (checked before any database is started)."""
    from rivulet.data.specs import DatasourceSpec, FileTable

    server = args.kind in {"postgres", "mysql"}
    given = [f"--{option.removeprefix('db_')}" for option in _SERVER_OPTIONS if getattr(args, option) is not None]
    if not server and (given or args.password_env is not None or args.password_stdin):
        raise ValidationError(f"--kind {args.kind}: {', '.join(given) or 'a password'} is only for postgres or mysql")
    if args.path is not None and args.kind not in {"sqlite", "duckdb"}:
        raise ValidationError(f"--kind {args.kind}: --path is only for sqlite or duckdb (a file source takes --file)")
    if args.files and args.kind != "file":
        raise ValidationError(f"--kind {args.kind}: --file is only for --kind file")
    files: list[FileTable] = []
    for index, given_path in enumerate(args.files):
        path = Path(given_path)
        if not path.is_file():
            raise ValidationError(
                f"--file {given_path}: no such file",
                extra={"errors": [{"path": f"--file[{index}]", "message": "not found", "got": given_path}]},
            )
        files.append(FileTable(path=str(path.resolve())))
    path = str(Path(args.path).resolve()) if args.path is not None else None
    raw: dict[str, Any] = {
        "name": args.name,
        "kind": args.kind,
        "description": args.description,
        "host": args.db_host,
        "port": args.db_port,
        "database": args.database,
        "user": args.user,
        "sslmode": args.sslmode,
        "path": path,
        "files": [msgspec.to_builtins(f) for f in files],
        "password": read_password(args),
    }
    try:
        return msgspec.convert({k: v for k, v in raw.items() if v is not None}, DatasourceSpec)
    except msgspec.ValidationError as exc:
        raise ValidationError(f"data source {args.name!r}: {exc}") from None


def _where(record: DatasourceRecord) -> str:
    config = record.config
    if record.kind in {"postgres", "mysql"}:
        host = f"{config.get('host') or 'localhost'}:{config.get('port') or ''}".rstrip(":")
        return f"{config.get('user') or ''}@{host}/{config.get('database') or ''}".lstrip("@")
    if record.kind == "file":
        listed = cast("list[object]", config.get("files") or [])
        files = [cast("dict[str, Any]", f) for f in listed if isinstance(f, dict)]
        return ", ".join(str(f.get("table") or Path(str(f.get("path", ""))).name) for f in files)
    return str(config.get("path") or "")


def _add(args: argparse.Namespace) -> Callable[[DataService], Awaitable[int]]:
    spec = _spec(args)

    async def add(service: DataService) -> int:
        record = await service.create(spec, owner_id=None)
        if args.json:
            print_json(record)
        else:
            secret = f"; password in secret {record.secret_name!r}" if record.secret_name else ""
            out(f"created: data source {record.name!r} ({record.kind}: {_where(record)}{secret})")
        return 0

    return add


def _list(args: argparse.Namespace) -> Callable[[DataService], Awaitable[int]]:
    async def show(service: DataService) -> int:
        records = await service.list()
        if args.json:
            print_json(records)
            return 0
        rows = [
            (
                r.name,
                r.kind,
                _where(r),
                r.schema_refreshed_at.isoformat(timespec="seconds") if r.schema_refreshed_at else "",
                r.description,
            )
            for r in records
        ]
        print_table(("name", "kind", "where", "schema refreshed", "description"), rows, empty="no data sources")
        return 0

    return show


def _test(args: argparse.Namespace) -> Callable[[DataService], Awaitable[int]]:
    async def test(service: DataService) -> int:
        result = await service.test(args.name)
        if args.json:
            print_json(result)
        elif result.ok:
            tables = f"{result.tables} table{'' if result.tables == 1 else 's'}"
            out(f"ok: {args.name} ({result.server}; {tables}; {result.latency_ms:.0f} ms)")
        if not result.ok:
            return failed("test", result.error or "the connection failed")
        return 0

    return test


def _schema_rows(schema: SchemaInfo) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for table in schema.tables:
        for column in table.columns:
            key = "PK" if column.primary_key else ""
            rows.append((table.name, column.name, column.type, key, column.references or "", column.comment))
    return rows


def _schema(args: argparse.Namespace) -> Callable[[DataService], Awaitable[int]]:
    async def show(service: DataService) -> int:
        schema = await (service.refresh_schema(args.name) if args.refresh else service.schema(args.name))
        if args.json:
            print_json(schema)
            return 0
        headers = ("table", "column", "type", "key", "references", "comment")
        print_table(headers, _schema_rows(schema), empty="no tables")
        return 0

    return show


def _cell(value: object) -> str:
    if value is None:
        return "NULL"
    text = (
        value
        if isinstance(value, str)
        else msgspec.json.encode(value).decode()
        if isinstance(value, (dict, list))
        else str(value)
    )
    return " ".join(text.split())[:200]


def _query(args: argparse.Namespace) -> Callable[[DataService], Awaitable[int]]:
    from rivulet.sdk.data import QueryLimits

    try:
        limits = msgspec.convert({"max_rows": args.max_rows, "timeout_s": args.timeout}, QueryLimits)
    except msgspec.ValidationError as exc:
        raise ValidationError(f"query: {exc}") from None

    async def run(service: DataService) -> int:
        table = await service.query(args.name, args.sql, limits=limits)
        if args.json:
            print_json(table)
            return 0
        print_table(table.columns, [[_cell(v) for v in row] for row in table.rows], empty="no rows")
        if table.truncated:
            note(f"(truncated: more than {len(table.rows)} rows; raise --max-rows to see more)")
        return 0

    return run


def _delete(args: argparse.Namespace) -> Callable[[DataService], Awaitable[int]]:
    async def remove(service: DataService) -> int:
        record = await service.get(args.name)
        await service.delete(record.name)
        if args.json:
            print_json({"deleted": "datasource", "datasource": record.name})
        else:
            out(f"deleted: data source {record.name!r}")
        return 0

    return remove


_ACTIONS = {"add": _add, "list": _list, "test": _test, "schema": _schema, "query": _query, "delete": _delete}


def _handle(args: argparse.Namespace) -> int:
    settings = settings_for(args)
    action = _ACTIONS[args.ds_command](args)  # bad arguments: refused before any database
    with database(settings) as url:
        return asyncio.run(_with_service(settings, url, action))


def add_ds_parser(sub: Any) -> None:
    """Register ``rivulet ds ...`` on the top-level subparsers."""
    ds = sub.add_parser("ds", help="data sources: add, list, test, schema, query, delete")
    commands = ds.add_subparsers(dest="ds_command", required=True)
    add = commands.add_parser("add", help="add a data source (a database server, a database file or files)")
    add.add_argument("name")
    add.add_argument("--kind", choices=_KINDS, required=True)
    add.add_argument("--description", default="")
    add.add_argument("--host", dest="db_host", metavar="HOST", help="postgres, mysql: the server's host")
    add.add_argument("--port", dest="db_port", type=int, metavar="PORT", help="postgres, mysql: the server's port")
    add.add_argument("--database", help="postgres, mysql: the database")
    add.add_argument("--user", help="postgres, mysql: the user")
    add.add_argument("--sslmode", help="postgres: libpq sslmode")
    password = add.add_mutually_exclusive_group()
    password.add_argument("--password-env", dest="password_env", metavar="VAR", help="read the password from $VAR")
    password.add_argument(
        "--password-stdin", dest="password_stdin", action="store_true", help="read the password from standard input"
    )
    add.add_argument("--path", help="sqlite, duckdb: the database file")
    add.add_argument(
        "--file",
        dest="files",
        action="append",
        default=[],
        metavar="PATH",
        help="file: a csv/tsv/xlsx/parquet/json file, one table each (repeat)",
    )
    listing = commands.add_parser("list", help="the data sources")
    test = commands.add_parser("test", help="connect to a data source and report its version and table count")
    test.add_argument("name")
    schema = commands.add_parser("schema", help="a data source's tables and columns (cached)")
    schema.add_argument("name")
    schema.add_argument("--refresh", action="store_true", help="introspect the database again")
    query = commands.add_parser("query", help="run a read-only query (guarded like generated SQL)")
    query.add_argument("name")
    query.add_argument("sql")
    query.add_argument("--max-rows", dest="max_rows", type=int, default=1000)
    query.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS")
    remove = commands.add_parser("delete", help="delete a data source (its password's secret too)")
    remove.add_argument("name")
    for parser in (add, listing, test, schema, query, remove):
        add_home_arg(parser)
        add_json_arg(parser)
    ds.set_defaults(handler=_handle)
