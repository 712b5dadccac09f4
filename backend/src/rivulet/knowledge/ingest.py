"""Ingestion: documents (or files) → chunks → embeddings → a space, as one pipeline with progress.

Per document: load (files, in a worker thread) → content hash (text, chunking config, embedding model) → skip when
the stored document is ``ready`` with that hash → chunk (worker thread) → ``begin_document`` → embed → store
(``replace_document``: one transaction). Three stages overlap, so the embedding model never waits for the CPU work
around it:

- a producer loads, hashes and chunks the documents one after the other (bounded queue ahead of the embedder);
- the batcher packs chunks of consecutive documents into batches of ``batch_size`` texts and keeps up to
  ``max_in_flight`` embedding calls running (a partial batch goes out only while the model would otherwise idle);
- each document whose vectors are all back is stored while the next batches embed.

A document that fails (parse error, no text, embedding error, dimension mismatch, store error) is marked
``failed`` with the reason (its previous chunks, if any, stay searchable) and reported; the others go on. A batch
mixing documents that fails is retried document by document, so one bad document fails alone.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import msgspec

from rivulet.knowledge._pipeline import Chunker, Ingestion
from rivulet.knowledge._sources import PIPELINE_VERSION, IngestOptions, IngestSource, content_hash
from rivulet.knowledge.chunkers import chunk_parts
from rivulet.lib.exceptions import ValidationError
from rivulet.sdk.knowledge import IngestReport

if TYPE_CHECKING:
    from collections.abc import Sequence

    from rivulet.sdk.knowledge import ChunkingConfig, ProgressCallback
    from rivulet.sdk.models import CallOrigin, ModelRegistry
    from rivulet.storage.base import KnowledgeStore, SpaceRecord

__all__ = (
    "PIPELINE_VERSION",
    "Chunker",
    "IngestOptions",
    "IngestSource",
    "SourceFile",
    "content_hash",
    "ingest_sources",
)


class SourceFile(msgspec.Struct, frozen=True, kw_only=True):
    """A file on disk to ingest (e.g. a streamed upload); ``name`` is the document's name in the space."""

    name: str
    path: str

    def as_source(self) -> IngestSource:
        return IngestSource(name=self.name, path=self.path, source=self.name)


async def ingest_sources(
    store: KnowledgeStore,
    models: ModelRegistry,
    space: SpaceRecord,
    sources: Sequence[IngestSource],
    *,
    chunker: Chunker = chunk_parts,
    chunking: ChunkingConfig | None = None,
    options: IngestOptions | None = None,
    on_progress: ProgressCallback | None = None,
    origin: CallOrigin | None = None,
) -> IngestReport:
    """Ingest ``sources`` into ``space`` (see the module doc); each document's outcome is in the report, in order.

    Args:
        store: Where the space lives.
        models: Embeds with the space's embedding model.
        space: The space (its chunking, embedding model and dimensions).
        sources: The documents, each once by name.
        chunker: Splits a document's parts (called in a worker thread).
        chunking: How to split these documents (default: the space's chunking); part of each content hash, so a
            document ingested before with another chunking is re-chunked and replaced.
        options: Batching.
        on_progress: Awaited with every change (documents and chunks done of total, monotonic; the last one
            reports everything done).
        origin: Recorded with the embedding calls.

    Raises:
        ValidationError: Two sources have the same name.
    """
    names = [source.name for source in sources]
    if len(set(names)) != len(names):
        twice = sorted({name for name in names if names.count(name) > 1})
        raise ValidationError(f"documents must have distinct names; given more than once: {', '.join(twice[:5])}")
    started = time.perf_counter()
    ingestion = Ingestion(
        store,
        models,
        space,
        sources,
        chunker=chunker,
        chunking=chunking,
        options=options or IngestOptions(),
        on_progress=on_progress,
        origin=origin,
    )
    if sources:
        await ingestion.progress.emit(None)
    items = await ingestion.run()
    return IngestReport(
        space=space.name,
        items=items,
        chunks_added=ingestion.stored_chunks,
        duration_ms=(time.perf_counter() - started) * 1000,
    )
