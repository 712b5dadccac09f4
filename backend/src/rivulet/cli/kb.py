"""``rivulet kb create|add|list|search|delete``: knowledge spaces from the command line (same database as serve).

Like ``rivulet models``, the commands open the database themselves (the embedded one unless
``RIVULET_DATABASE_URL``) and run the knowledge service in this process: ``add`` parses and embeds here, with the
local embedding model, showing a progress bar of documents and chunks on stderr. Its result is one line per document
(``added: guide.md (12 chunks)``, ``replaced:``, ``unchanged:``, ``failed: bad.pdf: <why>``); when any failed it
says so on stderr and exits 1. Spaces created here belong to nobody: in the API only administrators may change or
delete them.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
    from collections.abc import Awaitable, Callable, Sequence

    from rich.progress import Progress, TaskID

    from rivulet.knowledge.ingest import SourceFile
    from rivulet.knowledge.service import KnowledgeService
    from rivulet.lib.settings import Settings
    from rivulet.sdk.knowledge import IngestItem, IngestProgress, IngestReport
    from rivulet.sdk.ports import Chunk, Document

__all__ = ("add_kb_parser", "collect_sources")


class _Rank(msgspec.Struct):
    """Where a retriever ranked a hit (``metadata["retrievers"][name]``)."""

    rank: int | None = None


async def _with_service(settings: Settings, url: str, action: Callable[[KnowledgeService], Awaitable[int]]) -> int:
    async with knowledge_stack(settings, url) as stack:
        return await action(stack.knowledge)


def collect_sources(paths: Sequence[str]) -> tuple[list[SourceFile], list[str]]:
    """Files (a directory: every file under it, hidden ones left out) and URLs named on the command line.

    A file is named by its file name, a file found in a directory by its path relative to that directory.

    Raises:
        ValidationError: A path that does not exist, or two files that would get the same name.
    """
    from rivulet.knowledge.ingest import SourceFile

    files: list[SourceFile] = []
    urls: list[str] = []
    for index, given in enumerate(paths):
        if given.startswith(("http://", "https://")):
            urls.append(given)
            continue
        path = Path(given)
        if path.is_file():
            files.append(SourceFile(name=path.name, path=str(path)))
        elif path.is_dir():
            for found in sorted(path.rglob("*")):
                relative = found.relative_to(path)
                if found.is_file() and not any(part.startswith(".") for part in relative.parts):
                    files.append(SourceFile(name=relative.as_posix(), path=str(found)))
        else:
            raise ValidationError(
                f"{given}: no such file or directory (nor an http(s) URL)",
                extra={"errors": [{"path": f"$[{index}]", "message": "not found", "got": given}]},
            )
    seen: dict[str, str] = {}
    for file in files:
        if file.name in seen:
            raise ValidationError(f"two files would both be named {file.name!r}: {seen[file.name]} and {file.path}")
        seen[file.name] = file.path
    return files, urls


def _create(args: argparse.Namespace) -> Callable[[KnowledgeService], Awaitable[int]]:
    from rivulet.sdk.knowledge import ChunkingConfig

    try:  # an invalid config is refused before any database
        chunking = ChunkingConfig(
            strategy=args.strategy,
            chunk_size=args.chunk_size,
            chunk_overlap=args.chunk_overlap,
        )
        chunking = msgspec.convert(msgspec.to_builtins(chunking), ChunkingConfig)
    except (ValueError, msgspec.ValidationError) as exc:
        raise ValidationError(f"space {args.name!r}: {exc}") from exc

    async def create(service: KnowledgeService) -> int:
        space = await service.create_space(
            name=args.name,
            embedding_model=args.embedding_model,
            description=args.description,
            chunking=chunking,
            language=args.language,
        )
        if args.json:
            print_json(space)
        else:
            c = space.chunking
            chunks = f"{c.strategy} chunks of {c.chunk_size} tokens, overlap {c.chunk_overlap}"
            out(f"created: space {space.name!r} ({space.embedding_model}; {chunks})")
        return 0

    return create


class _Bars:
    """Two progress bars on stderr: documents and chunks (chunks known so far)."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.documents: TaskID = progress.add_task("documents", total=None)
        self.chunks: TaskID = progress.add_task("chunks", total=None)
        self.base_documents = 0
        self.base_chunks = 0
        self.total_documents = 0

    async def update(self, state: IngestProgress) -> None:
        documents = self.base_documents + state.documents_done
        self.progress.update(
            self.documents,
            completed=documents,
            total=max(self.total_documents, documents),
            description=f"documents {state.document or ''}"[:60],
        )
        chunks = self.base_chunks + state.chunks_done
        self.progress.update(self.chunks, completed=chunks, total=max(self.base_chunks + state.chunks_total, chunks))

    def phase_done(self, report: IngestReport) -> None:
        self.base_documents += len(report.items)
        self.base_chunks += sum(item.chunks for item in report.items if item.status != "unchanged")


async def _ingest_all(
    service: KnowledgeService, space: str, files: list[SourceFile], urls: list[str], bars: _Bars
) -> list[IngestItem]:
    from rivulet.lib.exceptions import AppError
    from rivulet.sdk.knowledge import IngestItem
    from rivulet.sdk.models import CallOrigin

    origin = CallOrigin(kind="cli")
    items: list[IngestItem] = []
    if files:
        report = await service.ingest_files(space, files, on_progress=bars.update, origin=origin)
        bars.phase_done(report)
        items.extend(report.items)
    loaded: list[Document] = []
    for url in urls:
        try:
            loaded.extend(await service.load_url(url))
        except AppError as exc:
            items.append(IngestItem(name=url, status="failed", error=exc.detail))
    if loaded:
        report = await service.ingest(space, loaded, on_progress=bars.update, origin=origin)
        bars.phase_done(report)
        items.extend(report.items)
    return items


def _add(args: argparse.Namespace) -> Callable[[KnowledgeService], Awaitable[int]]:
    files, urls = collect_sources(args.sources)  # missing paths: refused before any database

    async def add(service: KnowledgeService) -> int:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        space = await service.get_space(args.space)
        columns = (TextColumn("{task.description:<40}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=Console(stderr=True), transient=args.json) as progress:
            bars = _Bars(progress)
            bars.total_documents = len(files) + len(urls)
            items = await _ingest_all(service, space.id, files, urls, bars)
        return _report_items(items, as_json=args.json)

    return add


def _item_line(item: IngestItem) -> str:
    if item.status == "failed":
        error = item.error or "failed"
        return f"failed: {item.name}: {error.removeprefix(f'{item.name}: ')}"
    if item.status == "unchanged":
        return f"unchanged: {item.name}"
    return f"{item.status}: {item.name} ({item.chunks} chunk{'' if item.chunks == 1 else 's'})"


def _report_items(items: Sequence[IngestItem], *, as_json: bool) -> int:
    bad = [item for item in items if item.status == "failed"]
    if as_json:
        print_json(items)
    else:
        for item in items:
            out(_item_line(item))
    if not items:
        note("nothing to add")
    if bad:
        return failed("ingestion", f"{len(bad)} of {len(items)} documents failed")
    return 0


def _list(args: argparse.Namespace) -> Callable[[KnowledgeService], Awaitable[int]]:
    async def show(service: KnowledgeService) -> int:
        if args.space is None:
            spaces = await service.list_spaces()
            if args.json:
                print_json(spaces)
                return 0
            rows = [(s.name, s.embedding_model, s.document_count, s.chunk_count, s.description) for s in spaces]
            print_table(("name", "model", "documents", "chunks", "description"), rows, empty="no knowledge spaces")
            return 0
        documents = await service.list_documents(args.space)
        if args.json:
            print_json(documents)
            return 0
        rows = [(d.name, d.status, d.chunk_count, d.size_bytes, d.error or "") for d in documents]
        print_table(("name", "status", "chunks", "bytes", "error"), rows, empty="no documents")
        return 0

    return show


def _retrievers(chunk: Chunk) -> str:
    """``vector#1 keyword#3``: the retrievers that found a hit, with their ranks."""
    try:
        found = msgspec.convert(chunk.metadata.get("retrievers") or {}, dict[str, _Rank])
    except msgspec.ValidationError:
        return ""
    return " ".join(f"{name}#{hit.rank}" if hit.rank is not None else name for name, hit in sorted(found.items()))


def _search(args: argparse.Namespace) -> Callable[[KnowledgeService], Awaitable[int]]:
    from rivulet.sdk.knowledge import SearchRequest

    try:
        request = msgspec.convert({"query": args.query, "mode": args.mode, "top_k": args.top_k}, SearchRequest)
    except msgspec.ValidationError as exc:
        raise ValidationError(f"search: {exc}") from exc

    async def search(service: KnowledgeService) -> int:
        from rivulet.sdk.models import CallOrigin

        hits = await service.search(args.space, request, origin=CallOrigin(kind="cli"))
        if args.json:
            print_json(hits)
            return 0
        rows = [
            (
                rank,
                f"{hit.score:.4f}" if hit.score is not None else "",
                _retrievers(hit),
                hit.metadata.get("document") or hit.source,
                " ".join(hit.text.split())[:100],
            )
            for rank, hit in enumerate(hits, start=1)
        ]
        print_table(("#", "score", "retrievers", "document", "text"), rows, empty="no hits")
        return 0

    return search


def _delete(args: argparse.Namespace) -> Callable[[KnowledgeService], Awaitable[int]]:
    async def remove(service: KnowledgeService) -> int:
        space = await service.get_space(args.space)
        if args.document is None:
            await service.delete_space(space.id)
            result = {"deleted": "space", "space": space.name}
            line = f"deleted: space {space.name!r}"
        else:
            await service.delete_document(space.id, args.document)
            result = {"deleted": "document", "space": space.name, "document": args.document}
            line = f"deleted: document {args.document!r} (space {space.name!r})"
        if args.json:
            print_json(result)
        else:
            out(line)
        return 0

    return remove


_ACTIONS = {"create": _create, "add": _add, "list": _list, "search": _search, "delete": _delete}


def _handle(args: argparse.Namespace) -> int:
    settings = settings_for(args)
    action = _ACTIONS[args.kb_command](args)  # bad arguments: refused before any database
    with database(settings) as url:
        return asyncio.run(_with_service(settings, url, action))


def add_kb_parser(sub: Any) -> None:
    """Register ``rivulet kb ...`` on the top-level subparsers."""
    kb = sub.add_parser("kb", help="knowledge spaces: create, add documents, list, search, delete")
    commands = kb.add_subparsers(dest="kb_command", required=True)
    create = commands.add_parser("create", help="create a knowledge space")
    create.add_argument("name")
    create.add_argument("--description", default="")
    create.add_argument("--embedding-model", dest="embedding_model", default="default-embedding")
    create.add_argument("--strategy", choices=["tokens", "recursive", "markdown", "sentence"], default="recursive")
    create.add_argument("--chunk-size", dest="chunk_size", type=int, default=200, metavar="TOKENS")
    create.add_argument("--chunk-overlap", dest="chunk_overlap", type=int, default=30, metavar="TOKENS")
    create.add_argument("--language", default="english", help="text search configuration of the keyword index")
    add = commands.add_parser("add", help="add files, directories or URLs to a space (unchanged ones are skipped)")
    add.add_argument("space", help="the space's name or id")
    add.add_argument("sources", nargs="+", metavar="PATH_OR_URL")
    listing = commands.add_parser("list", help="the spaces, or one space's documents")
    listing.add_argument("space", nargs="?", help="list this space's documents")
    search = commands.add_parser("search", help="search a space: hits with scores and the retrievers that found them")
    search.add_argument("space")
    search.add_argument("query")
    search.add_argument("--mode", choices=["vector", "keyword", "hybrid"], default="hybrid")
    search.add_argument("--top-k", dest="top_k", type=int, default=5)
    remove = commands.add_parser("delete", help="delete a space with its documents, or one document")
    remove.add_argument("space")
    remove.add_argument("document", nargs="?", help="delete only this document (name or id)")
    for parser in (create, add, listing, search, remove):
        add_home_arg(parser)
        add_json_arg(parser)
    kb.set_defaults(handler=_handle)
