"""What ingestion takes in (internal): the documents to ingest, the batching options and the content hash."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import msgspec

from rivulet.knowledge.loaders import LoadedPart

if TYPE_CHECKING:
    from rivulet.sdk.knowledge import ChunkingConfig
    from rivulet.sdk.ports import Document

__all__ = ("PIPELINE_VERSION", "IngestOptions", "IngestSource", "content_hash")

PIPELINE_VERSION: Final = "1"
"""Part of every content hash: bump it when chunk texts or metadata change for the same input."""


@dataclass(frozen=True, slots=True)
class IngestOptions:
    """How ingestion batches its embedding calls."""

    batch_size: int = 64
    """Texts per embedding call (chunks of consecutive documents share a batch)."""
    max_in_flight: int = 2
    """Embedding calls running at once (two keep the model busy while a finished batch is handed on)."""
    queue_documents: int = 8
    """Chunked documents the producer may hold ready ahead of the embedder."""

    def __post_init__(self) -> None:
        if self.batch_size < 1 or self.max_in_flight < 1 or self.queue_documents < 1:
            raise ValueError("batch_size, max_in_flight and queue_documents must be at least 1")


@dataclass(frozen=True, slots=True)
class IngestSource:
    """One document to ingest: its loaded ``parts`` (pages, sheets, or the whole text) or a file ``path``."""

    name: str
    """The document's name in the space (unique there)."""
    parts: Sequence[LoadedPart] = ()
    path: str | None = None
    """A file to load (in a worker thread) instead of ``parts``."""
    source: str = ""
    """File name or URL (default: ``name``)."""

    @property
    def label(self) -> str:
        return self.source or self.name

    @classmethod
    def of_documents(cls, documents: Sequence[Document]) -> list[IngestSource]:
        """One source per document id, in order of first appearance; documents sharing an id are its parts.

        A document's ``metadata["source"]`` (file name or URL) becomes the source; NUL characters, which
        PostgreSQL text cannot hold, are dropped.
        """
        grouped: dict[str, list[Document]] = {}
        for document in documents:
            grouped.setdefault(document.id, []).append(document)
        return [
            cls(
                name=name,
                parts=[LoadedPart(text=d.text.replace("\x00", ""), metadata=dict(d.metadata)) for d in group],
                source=str(group[0].metadata.get("source") or name),
            )
            for name, group in grouped.items()
        ]


def content_hash(parts: Sequence[LoadedPart], chunking: ChunkingConfig, embedding_model: str) -> str:
    """What decides whether stored chunks are still current: the texts, the chunking and the embedding model."""
    digest = hashlib.sha256(f"rivulet-kb/{PIPELINE_VERSION}\0{embedding_model}\0".encode())
    digest.update(msgspec.json.encode(chunking, order="sorted"))
    for part in parts:
        digest.update(b"\0part\0")
        digest.update(part.text.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()
