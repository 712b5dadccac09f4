"""``rivulet template list|search|show|import|import-dbgpt|export|sources``."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rivulet.cli.common import (
    add_home_arg,
    add_json_arg,
    database,
    out,
    parse_assignments,
    print_json,
    print_table,
    settings_for,
)
from rivulet.lib.exceptions import ValidationError

if TYPE_CHECKING:
    import argparse
    from collections.abc import Awaitable, Callable

    from psycopg_pool import AsyncConnectionPool

    from rivulet.lib.settings import Settings
    from rivulet.storage.base import FlowStore

__all__ = ("add_template_parser",)


def _sources(settings: Settings) -> Any:
    from rivulet.app.wiring import network_policy
    from rivulet.templates.sources import TemplateSources

    return TemplateSources(settings, network_policy(settings))


async def _with_pool(settings: Settings, body: Callable[[AsyncConnectionPool], Awaitable[int]]) -> int:
    from rivulet.storage.postgres.migrate import apply_migrations
    from rivulet.storage.postgres.pool import open_pool

    with database(settings) as url:
        pool = await open_pool(url, min_size=1, max_size=2)
        try:
            await apply_migrations(pool)
            return await body(pool)
        finally:
            await pool.close()


async def _with_store(settings: Settings, body: Callable[[FlowStore], Awaitable[int]]) -> int:
    from rivulet.storage.postgres.flows import PostgresFlowStore

    return await _with_pool(settings, lambda pool: body(PostgresFlowStore(pool)))


def _list(settings: Settings, args: argparse.Namespace) -> int:
    items = asyncio.run(_sources(settings).catalog().list(query=getattr(args, "query", None), tag=args.tag))
    if args.json:
        print_json(items)
        return 0
    rows = [(item.name, item.version, item.title, ", ".join(item.tags)) for item in items]
    print_table(("name", "version", "title", "tags"), rows, empty="no templates match")
    return 0


def _show(settings: Settings, args: argparse.Namespace) -> int:
    package = asyncio.run(_sources(settings).catalog().open(args.name, args.version))
    print_json({"manifest": package.manifest, "flows": package.flows, "data": sorted(package.data)})
    return 0


async def _load(settings: Settings, args: argparse.Namespace) -> Any:
    from rivulet.templates.package import load_package

    source = args.source
    path = Path(source)
    if path.exists():  # noqa: ASYNC240 - a CLI reading its own argument
        return load_package(path, expected_sha256=args.sha256)
    if "://" in source:
        if args.sha256 is None:
            raise ValidationError("importing an archive by URL needs --sha256")
        from rivulet.templates.package import read_package_bytes

        data = await _sources(settings).fetcher.fetch(source)
        return read_package_bytes(data, origin=source, expected_sha256=args.sha256)
    return await _sources(settings).catalog().open(source, args.version)


def _import(settings: Settings, args: argparse.Namespace) -> int:
    if args.format == "dbgpt":
        return _import_dbgpt(settings, args)
    from rivulet.registry.loader import default_registry
    from rivulet.templates.importer import import_package

    variables = parse_assignments(args.var, "--var")  # bad input: refused before any database

    async def body(store: FlowStore) -> int:
        package = await _load(settings, args)
        report = await import_package(
            package, store=store, registry=default_registry(), variables=variables, on_conflict=args.on_conflict
        )
        if args.json:
            print_json(report)
        else:
            for flow in report.flows:
                out(f"{flow.action}: {flow.name} ({flow.flow_id}, version {flow.version}) from {report.template}")
        return 0

    return asyncio.run(_with_store(settings, body))


def _import_dbgpt(settings: Settings, args: argparse.Namespace) -> int:
    from rivulet.compiler import analyze_flow
    from rivulet.providers.service import ModelService
    from rivulet.registry.loader import default_registry
    from rivulet.storage.postgres.flows import PostgresFlowStore
    from rivulet.storage.postgres.model_configs import PostgresModelStore
    from rivulet.templates.dbgpt import convert_dbgpt_flow

    path = Path(args.source)
    if not path.is_file():
        raise ValidationError(f"{path}: no such file")
    registry = default_registry()
    data = path.read_bytes()
    max_nodes, max_edges = settings.max_flow_nodes, settings.max_flow_edges
    convert_dbgpt_flow(data, registry, max_nodes=max_nodes, max_edges=max_edges)  # bad input: before any database

    async def body(pool: AsyncConnectionPool) -> int:
        models = await ModelService(PostgresModelStore(pool)).list_models()
        chat_models = [m.name for m in models if m.kind == "chat"]
        result = convert_dbgpt_flow(data, registry, models=chat_models, max_nodes=max_nodes, max_edges=max_edges)
        diagnostics = analyze_flow(result.document, registry).diagnostics
        record = await PostgresFlowStore(pool).create(result.document, message=f"imported from DB-GPT {path.name}")
        report = {
            "flow_id": record.summary.id,
            "nodes": result.nodes,
            "dropped_edges": result.dropped_edges,
            "diagnostics": diagnostics,
        }
        if args.json:
            print_json(report)
        else:
            out(f"created: {record.summary.name} ({record.summary.id})")
            rows = [(n.status, n.dbgpt_class, n.node_id or "-", n.operator or n.reason or "") for n in result.nodes]
            print_table(("status", "db-gpt class", "node", "operator"), rows, empty="no nodes")
        return 0

    return asyncio.run(_with_pool(settings, body))


def _export(settings: Settings, args: argparse.Namespace) -> int:
    from rivulet.compiler.flow import decode_flow
    from rivulet.templates.export import export_flow
    from rivulet.templates.package import package_archive, sha256_hex, write_package_dir

    async def body(store: FlowStore) -> int:
        return await finish((await store.get(args.flow)).document)

    async def finish(document: Any) -> int:
        package = export_flow(document, name=args.name, version=args.version, title=args.title)
        target = Path(args.out)
        digest = None
        if target.name.endswith((".tar.gz", ".zip")):
            archive = package_archive(package, "zip" if target.name.endswith(".zip") else "tar.gz")
            target.write_bytes(archive)  # noqa: ASYNC240 - the CLI's output file
            digest = sha256_hex(archive)
        else:
            write_package_dir(package, target)
        if args.json:
            print_json({"path": str(target), "sha256": digest})
        else:
            out(f"exported: {target}" + (f" (sha256 {digest})" if digest else ""))
        return 0

    flow_file = Path(args.flow)
    if flow_file.is_file():
        return asyncio.run(finish(decode_flow(flow_file.read_bytes())))
    return asyncio.run(_with_store(settings, body))


def _sources_cmd(settings: Settings, args: argparse.Namespace) -> int:
    sources = _sources(settings)
    if args.add:
        sources.add(args.add)
    if args.remove:
        sources.remove(args.remove)
    listed = sources.list()
    if args.json:
        print_json(listed)
        return 0
    print_table(("origin", "location"), [(s.origin, s.location) for s in listed], empty="no template sources")
    return 0


def add_template_parser(sub: Any) -> None:
    """Register ``rivulet template ...`` on the top-level subparsers."""
    template = sub.add_parser("template", help="template gallery: list, search, show, import, export")
    add_home_arg(template)
    cmds = template.add_subparsers(dest="template_command", required=True)

    def command(name: str, handler: Callable[[Settings, argparse.Namespace], int], help_text: str) -> Any:
        parser = cmds.add_parser(name, help=help_text)

        def run(args: argparse.Namespace) -> int:
            return handler(settings_for(args), args)

        parser.set_defaults(handler=run)
        add_json_arg(parser)
        return parser

    listing = command("list", _list, "templates of every source")
    listing.add_argument("--tag")
    search = command("search", _list, "templates matching words")
    search.add_argument("query")
    search.add_argument("--tag")
    show = command("show", _show, "a template's manifest and flows")
    show.add_argument("name")
    show.add_argument("--version")
    imp = command("import", _import, "validate and import a template (runs nothing)")
    imp.add_argument("source", help="a gallery name, a package directory or archive, or an archive URL")
    imp.add_argument("--version")
    imp.add_argument("--sha256", help="expected sha256 of the archive")
    imp.add_argument("--var", action="append", default=[], metavar="NAME=VALUE", help="a template variable")
    imp.add_argument("--on-conflict", choices=["ask", "new", "upgrade", "skip"], default="ask")
    imp.add_argument("--format", choices=["rivulet", "dbgpt"], default="rivulet")
    dbgpt = command("import-dbgpt", _import_dbgpt, "convert and import a DB-GPT AWEL flow export")
    dbgpt.add_argument("source", help="the DB-GPT flow JSON file")
    export = command("export", _export, "export a flow (id or flow file) as a template package")
    export.add_argument("flow", help="a flow id or a rivulet.flow/v1 file")
    export.add_argument("--name", required=True)
    export.add_argument("--version", default="1.0.0")
    export.add_argument("--title")
    export.add_argument("--out", required=True, help="a directory, or a .tar.gz / .zip file")
    sources = command("sources", _sources_cmd, "list, add or remove template sources")
    sources.add_argument("--add", metavar="LOCATION")
    sources.add_argument("--remove", metavar="LOCATION")
