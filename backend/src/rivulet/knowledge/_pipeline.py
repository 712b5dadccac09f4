"""The ingestion pipeline (internal; ``rivulet.knowledge.ingest`` is the entry point and explains the stages)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Final

from rivulet.knowledge._sources import IngestOptions, IngestSource, content_hash
from rivulet.knowledge.chunkers import ChunkDraft
from rivulet.knowledge.loaders import LoadedPart, load_path
from rivulet.lib.exceptions import AppError, NotFoundError, ValidationError
from rivulet.lib.ids import random_id
from rivulet.lib.log import get_logger
from rivulet.sdk.knowledge import ChunkingConfig, IngestItem, IngestProgress
from rivulet.storage.base import ChunkRow, DocumentRecord

if TYPE_CHECKING:
    from rivulet.sdk.knowledge import ProgressCallback
    from rivulet.sdk.models import CallOrigin, ModelRegistry
    from rivulet.storage.base import KnowledgeStore, SpaceRecord

__all__ = ("Chunker", "Ingestion")

_log = get_logger("rivulet.knowledge")

Chunker = Callable[[Sequence[LoadedPart], ChunkingConfig], list[ChunkDraft]]
"""Splits a document's parts (``rivulet.knowledge.chunkers.chunk_parts``); called in a worker thread."""

_HASH_INLINE_CHARS: Final = 1_000_000
"""Texts up to this size are hashed on the event loop (a thread hop costs more); longer ones in a thread."""


@dataclass(slots=True, eq=False)
class _Pending:
    """A document between chunking and storage."""

    index: int
    name: str
    record: DocumentRecord
    replaces: bool
    digest: str
    chunks: list[ChunkDraft]
    vectors: list[list[float]] = field(default_factory=list[list[float]])
    remaining: int = 0
    counted: int = 0
    """Chunks already counted in the progress (embedded, or all of them once failed)."""
    failed: bool = False

    def __post_init__(self) -> None:
        self.vectors = [[] for _ in self.chunks]
        self.remaining = len(self.chunks)


@dataclass(frozen=True, slots=True)
class _Slice:
    """Chunks ``start:end`` of a document, in a batch."""

    pending: _Pending
    start: int
    end: int


class _DocumentError(Exception):
    """A document cannot be ingested; the message says why (shown to people)."""


class _DimensionError(Exception):
    """The vectors do not fit the space (their size): every document of the batch fails, without a retry."""


class _Progress:
    """Counters of an ingestion and the callback they go to (serialised: every report is a later state)."""

    def __init__(self, total: int, callback: ProgressCallback | None) -> None:
        self.documents_total = total
        self.documents_done = 0
        self.chunks_total = 0
        self.chunks_done = 0
        self._callback = callback
        self._lock = asyncio.Lock()

    async def emit(self, document: str | None) -> None:
        if self._callback is None:
            return
        async with self._lock:
            await self._callback(
                IngestProgress(
                    documents_done=self.documents_done,
                    documents_total=self.documents_total,
                    chunks_done=self.chunks_done,
                    chunks_total=self.chunks_total,
                    document=document,
                )
            )


def _message(exc: BaseException) -> str:
    if isinstance(exc, AppError):
        return exc.detail
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class Ingestion:
    """One ingestion run: the producer, the batcher and the embedding and storing tasks (see the module doc)."""

    def __init__(
        self,
        store: KnowledgeStore,
        models: ModelRegistry,
        space: SpaceRecord,
        sources: Sequence[IngestSource],
        *,
        chunker: Chunker,
        options: IngestOptions,
        on_progress: ProgressCallback | None,
        origin: CallOrigin | None,
        chunking: ChunkingConfig | None = None,
    ) -> None:
        self.store, self.models, self.space, self.sources = store, models, space, sources
        self.chunking = chunking or space.chunking
        """How these documents are split (the space's chunking unless the caller overrides it)."""
        self.chunker, self.options, self.origin = chunker, options, origin
        self.items: list[IngestItem | None] = [None] * len(sources)
        self.progress = _Progress(len(sources), on_progress)
        self.queue: asyncio.Queue[_Pending | None] = asyncio.Queue(maxsize=options.queue_documents)
        self.slots = asyncio.Semaphore(options.max_in_flight)
        self.store_slots = asyncio.Semaphore(options.max_in_flight)
        self.in_flight = 0
        self.idle = asyncio.Event()
        self.idle.set()
        self.dimensions = space.dimensions
        self.dimensions_lock = asyncio.Lock()
        self.stored_chunks = 0
        self.open: dict[int, _Pending] = {}
        """Documents begun and not yet stored or failed (failed on cancellation)."""
        self.tasks: asyncio.TaskGroup | None = None

    async def run(self) -> list[IngestItem]:
        try:
            async with asyncio.TaskGroup() as tasks:
                self.tasks = tasks
                tasks.create_task(self._produce())
                await self._batch()
        except BaseExceptionGroup as group:
            await self._abandon()
            if len(group.exceptions) == 1:
                raise group.exceptions[0] from None
            raise
        except BaseException:
            await self._abandon()
            raise
        return [item for item in self.items if item is not None]

    # -- producer: load, hash, skip or chunk, begin --------------------------------------------------------------

    async def _produce(self) -> None:
        for index, source in enumerate(self.sources):
            prepared = await self._prepare(index, source)
            if isinstance(prepared, IngestItem):
                await self._finish(index, prepared)
                continue
            self.open[index] = prepared
            self.progress.chunks_total += len(prepared.chunks)
            await self.progress.emit(source.name)
            await self.queue.put(prepared)
        await self.queue.put(None)

    async def _prepare(self, index: int, source: IngestSource) -> _Pending | IngestItem:
        record: DocumentRecord | None = None
        try:
            parts, size = await self._load(source)
            digest = await self._digest(parts)
            existing = await self.store.get_document(self.space.id, source.name)
            if existing is not None and existing.status == "ready" and existing.content_hash == digest:
                return IngestItem(
                    name=source.name, status="unchanged", document_id=existing.id, chunks=existing.chunk_count
                )
            chunks = await asyncio.to_thread(self.chunker, parts, self.chunking)
            record = await self.store.begin_document(
                self.space.id, name=source.name, source=source.label, size_bytes=size, metadata=_document_meta(parts)
            )
            if not chunks:
                raise _DocumentError("no text to index (an empty document, or a scanned PDF without a text layer)")
        except Exception as exc:  # noqa: BLE001 - a failing document is reported and the others go on
            message = _message(exc)
            document_id = await self._mark_failed(source, record, message)
            return IngestItem(name=source.name, status="failed", document_id=document_id, error=message)
        replaces = existing is not None and existing.content_hash is not None
        return _Pending(index=index, name=source.name, record=record, replaces=replaces, digest=digest, chunks=chunks)

    @staticmethod
    async def _load(source: IngestSource) -> tuple[Sequence[LoadedPart], int]:
        if source.path is None:
            return source.parts, sum(len(part.text) for part in source.parts)
        parts = await load_path(source.path, name=source.name)
        return parts, await asyncio.to_thread(_file_size, source.path)

    async def _digest(self, parts: Sequence[LoadedPart]) -> str:
        model, chunking = self.space.embedding_model, self.chunking
        if sum(len(part.text) for part in parts) <= _HASH_INLINE_CHARS:
            return content_hash(parts, chunking, model)
        return await asyncio.to_thread(content_hash, parts, chunking, model)

    # -- batcher: chunks of consecutive documents into batches ---------------------------------------------------

    async def _batch(self) -> None:
        batch: list[_Slice] = []
        size = 0
        while True:
            pending = await self._next(holding=bool(batch))
            if pending is _IDLE:
                await self._dispatch(batch)
                batch, size = [], 0
                continue
            if pending is None:
                break
            assert isinstance(pending, _Pending)
            start = 0
            while start < len(pending.chunks):
                end = min(len(pending.chunks), start + self.options.batch_size - size)
                batch.append(_Slice(pending, start, end))
                size, start = size + end - start, end
                if size == self.options.batch_size:
                    await self._dispatch(batch)
                    batch, size = [], 0
        if batch:
            await self._dispatch(batch)

    async def _next(self, *, holding: bool) -> _Pending | object | None:
        """The next chunked document; ``_IDLE`` instead when a partial batch is held and the model has gone idle."""
        if not holding:
            return await self.queue.get()
        if self.queue.empty() and self.idle.is_set():
            return _IDLE
        getter = asyncio.ensure_future(self.queue.get())
        idle = asyncio.ensure_future(self.idle.wait())
        try:
            done, _ = await asyncio.wait({getter, idle}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            idle.cancel()
            if not getter.done():
                getter.cancel()  # a cancelled Queue.get leaves its item in the queue
        return getter.result() if getter in done else _IDLE

    async def _dispatch(self, batch: list[_Slice]) -> None:
        live = [part for part in batch if not part.pending.failed]
        if not live:
            return
        await self.slots.acquire()
        self.in_flight += 1
        self.idle.clear()
        assert self.tasks is not None
        self.tasks.create_task(self._embed(live))

    # -- embedding -------------------------------------------------------------------------------------------------

    async def _embed(self, batch: list[_Slice]) -> None:
        try:
            await self._embed_batch(batch)
        finally:
            self.slots.release()
            self.in_flight -= 1
            if self.in_flight == 0:
                self.idle.set()

    async def _embed_batch(self, batch: list[_Slice]) -> None:
        texts = [chunk.text for part in batch for chunk in part.pending.chunks[part.start : part.end]]
        try:
            vectors = await self._vectors(texts)
        except (_DimensionError, NotFoundError) as exc:  # the space's or model's fault: no document does better alone
            message = str(exc) if isinstance(exc, _DimensionError) else f"embedding failed: {exc.detail}"
            for pending in _documents(batch):
                await self._fail(pending, message)
            return
        except Exception as exc:  # noqa: BLE001 - one bad document must not fail the others: retry one by one
            pendings = _documents(batch)
            if len(pendings) == 1:
                await self._fail(pendings[0], f"embedding failed: {_message(exc)}")
                return
            for pending in pendings:
                await self._embed_batch([part for part in batch if part.pending is pending])
            return
        await self._accept(batch, vectors)

    async def _vectors(self, texts: list[str]) -> list[list[float]]:
        model = self.space.embedding_model
        result = await self.models.embed(model, texts, origin=self.origin)
        vectors = result.vectors
        if len(vectors) != len(texts):
            raise _DocumentError(
                f"the embedding model {model!r} returned {len(vectors)} vectors for {len(texts)} texts"
            )
        width = len(vectors[0]) if vectors else 0
        if width == 0 or any(len(vector) != width for vector in vectors):
            raise _DimensionError(f"the embedding model {model!r} returned empty or ragged vectors")
        await self._check_dimensions(width)
        return vectors

    async def _check_dimensions(self, width: int) -> None:
        if self.dimensions is None:
            async with self.dimensions_lock:
                if self.dimensions is None:
                    try:
                        record = await self.store.set_dimensions(self.space.id, width)
                    except ValidationError as exc:
                        raise _DimensionError(exc.detail) from exc
                    self.dimensions = record.dimensions
        if self.dimensions != width:
            raise _DimensionError(
                f"the embedding model {self.space.embedding_model!r} returned {width}-dimensional vectors but space "
                f"{self.space.name!r} holds {self.dimensions}-dimensional ones"
            )

    async def _accept(self, batch: list[_Slice], vectors: list[list[float]]) -> None:
        offset = 0
        for part in batch:
            pending, count = part.pending, part.end - part.start
            if not pending.failed:
                pending.vectors[part.start : part.end] = vectors[offset : offset + count]
                pending.remaining -= count
                pending.counted += count
                self.progress.chunks_done += count
                if pending.remaining == 0:
                    assert self.tasks is not None
                    self.tasks.create_task(self._store(pending))
            offset += count
        await self.progress.emit(batch[-1].pending.name)

    # -- storing and finishing --------------------------------------------------------------------------------------

    async def _store(self, pending: _Pending) -> None:
        rows = [
            ChunkRow(id=_chunk_id(), ordinal=ordinal, text=chunk.text, embedding=vector, metadata=chunk.metadata)
            for ordinal, (chunk, vector) in enumerate(zip(pending.chunks, pending.vectors, strict=True))
        ]
        try:
            async with self.store_slots:
                record = await self.store.replace_document(
                    self.space.id, pending.record.id, content_hash=pending.digest, chunks=rows
                )
        except Exception as exc:  # noqa: BLE001 - a failing document is reported and the others go on
            await self._fail(pending, f"storing the chunks failed: {_message(exc)}")
            return
        self.open.pop(pending.index, None)
        self.stored_chunks += len(rows)
        status = "replaced" if pending.replaces else "added"
        await self._finish(
            pending.index, IngestItem(name=pending.name, status=status, document_id=record.id, chunks=len(rows))
        )

    async def _finish(self, index: int, item: IngestItem) -> None:
        self.items[index] = item
        self.progress.documents_done += 1
        await self.progress.emit(item.name)

    async def _fail(self, pending: _Pending, message: str) -> None:
        if pending.failed:
            return
        pending.failed = True
        pending.vectors = []
        self.open.pop(pending.index, None)
        self.progress.chunks_done += len(pending.chunks) - pending.counted
        pending.counted = len(pending.chunks)
        await self._mark_failed(None, pending.record, message)
        item = IngestItem(name=pending.name, status="failed", document_id=pending.record.id, error=message)
        await self._finish(pending.index, item)

    async def _mark_failed(
        self, source: IngestSource | None, record: DocumentRecord | None, message: str
    ) -> str | None:
        """Record the failure on the document (created first if need be); the document's id, if it has one."""
        try:
            if record is None:
                assert source is not None
                record = await self.store.begin_document(self.space.id, name=source.name, source=source.label)
            await self.store.fail_document(self.space.id, record.id, message)
        except Exception:  # noqa: BLE001 - the report still says why; the store's trouble is logged
            _log.warning("could not record a failed document", exc_info=True, extra={"space": self.space.name})
        return record.id if record is not None else None

    async def _abandon(self) -> None:
        """Mark the documents begun and not finished as failed (the ingestion stopped: cancelled or broken)."""
        for pending in list(self.open.values()):
            await self._mark_failed(None, pending.record, "the ingestion stopped before this document was stored")
        self.open.clear()


_IDLE: Final = object()


def _documents(batch: Sequence[_Slice]) -> list[_Pending]:
    return list({id(part.pending): part.pending for part in batch}.values())


def _file_size(path: str) -> int:
    return Path(path).stat().st_size


def _chunk_id() -> str:
    """A chunk id: short enough for a small model to copy into a citation, 64 random bits."""
    return f"c_{random_id()[:16]}"


_PER_PART: Final = frozenset({"page", "sheet", "record", "part", "start", "end", "heading_path"})


def _document_meta(parts: Sequence[LoadedPart]) -> dict[str, object]:
    """The document's metadata: what its first part says of the whole (format, url, ...), and how many parts."""
    if not parts:
        return {}
    meta = {key: value for key, value in parts[0].metadata.items() if key not in _PER_PART}
    return {**meta, "parts": len(parts)} if len(parts) > 1 else meta
