"""What operators see of knowledge spaces (RAG on pgvector): request/result Structs and the ``KnowledgeBase`` service.

A knowledge space (named, admin or editor created) holds documents; each document is split into chunks carrying
text, metadata (``source``, ``page``, ``heading_path``, ``start``/``end`` offsets) and an embedding of the space's
embedding model. An operator asks for the service with ``ctx.service(KnowledgeBase)``::

    kb = ctx.service(KnowledgeBase)
    hits = await kb.search("handbook", SearchRequest(query="How do I reset a password?", mode="hybrid", top_k=5))

Every hit is a ``Chunk`` whose ``score`` is the retriever's score and whose ``metadata["retrievers"]`` names the
retrievers that found it (``vector``, ``keyword``, ``graph``) with their ranks and scores. Storage, loaders,
chunkers and retrieval live in ``rivulet.knowledge``; this module is the contract only.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any, Literal, Protocol

import msgspec
from msgspec import Meta

if TYPE_CHECKING:
    from collections.abc import Sequence

    from rivulet.sdk.models import CallOrigin
    from rivulet.sdk.ports import Chunk, Document

__all__ = (
    "DEFAULT_SPACE_LANGUAGE",
    "ChunkingConfig",
    "GraphReport",
    "IngestItem",
    "IngestProgress",
    "IngestReport",
    "KnowledgeBase",
    "ProgressCallback",
    "SearchMode",
    "SearchRequest",
    "SpaceInfo",
    "Triplet",
)

DEFAULT_SPACE_LANGUAGE = "english"
"""The PostgreSQL text search configuration of a space's keyword index, unless the space names another."""

SearchMode = Literal["vector", "keyword", "hybrid"]
ChunkStrategy = Literal["tokens", "recursive", "markdown", "sentence"]


class ChunkingConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How documents are cut into chunks (sizes in tokens of the embedding model's tokenizer)."""

    strategy: Annotated[
        ChunkStrategy,
        Meta(
            description="tokens: fixed windows; recursive: by paragraphs, lines, sentences, words; "
            "markdown: by headings (keeps the heading path), then recursive; sentence: whole sentences."
        ),
    ] = "recursive"
    chunk_size: Annotated[int, Meta(ge=16, le=8192, description="Most tokens in one chunk.")] = 200
    chunk_overlap: Annotated[int, Meta(ge=0, le=4096, description="Tokens repeated from the previous chunk.")] = 30
    separators: Annotated[
        list[str] | None, Meta(description="Recursive split points, coarsest first (default: paragraphs ... words).")
    ] = None

    def __post_init__(self) -> None:
        if self.chunk_overlap >= self.chunk_size:
            msg = f"chunk_overlap ({self.chunk_overlap}) must be smaller than chunk_size ({self.chunk_size})"
            raise ValueError(msg)


class SearchRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One retrieval from a space."""

    query: Annotated[str, Meta(max_length=32_768)]
    mode: SearchMode = "hybrid"
    """``hybrid``: vector and keyword results fused by reciprocal rank (``rrf_k``)."""
    top_k: Annotated[int, Meta(ge=1, le=500)] = 5
    filters: dict[str, Any] = msgspec.field(default_factory=dict[str, Any])
    """Metadata equality filters (a list value matches any of its items); ``source`` and ``document_id`` too."""
    min_score: float | None = None
    """Drop hits scoring below this (the score of the retriever that produced the final ranking)."""
    mmr: bool = False
    """Re-rank the candidates by maximal marginal relevance (diversity) before taking ``top_k``."""
    mmr_lambda: Annotated[float, Meta(ge=0, le=1)] = 0.5
    """1: pure relevance, 0: pure diversity."""
    fetch_k: Annotated[int, Meta(ge=1, le=2000)] | None = None
    """Candidates per retriever (default: ``max(4 * top_k, 20)``)."""
    rrf_k: Annotated[int, Meta(ge=1, le=1000)] = 60


class SpaceInfo(msgspec.Struct, frozen=True, kw_only=True):
    """A knowledge space as operators and the API show it."""

    id: str
    name: str
    description: str = ""
    embedding_model: str
    dimensions: int | None = None
    """Fixed by the first ingested document (``None`` while the space is empty)."""
    chunking: ChunkingConfig = msgspec.field(default_factory=ChunkingConfig)
    language: str = DEFAULT_SPACE_LANGUAGE
    document_count: int = 0
    chunk_count: int = 0


class IngestProgress(msgspec.Struct, frozen=True, kw_only=True):
    """How far an ingestion is (sent as ``node.progress`` in runs and as progress events by the API and CLI)."""

    documents_done: int
    documents_total: int
    chunks_done: int
    chunks_total: int
    """Chunks known so far (grows as documents are split)."""
    document: str | None = None
    """The document being worked on."""


ProgressCallback = Callable[[IngestProgress], Awaitable[None]]
"""Receives progress as documents are split and embedded."""


class IngestItem(msgspec.Struct, frozen=True, kw_only=True):
    """What happened to one document."""

    name: str
    status: Literal["added", "replaced", "unchanged", "failed"]
    document_id: str | None = None
    chunks: int = 0
    error: str | None = None


class IngestReport(msgspec.Struct, frozen=True, kw_only=True):
    """What an ingestion did; a failed document is reported here and the others are kept."""

    space: str
    items: list[IngestItem]
    chunks_added: int = 0
    duration_ms: float = 0.0

    @property
    def failed(self) -> list[IngestItem]:
        return [item for item in self.items if item.status == "failed"]


class Triplet(msgspec.Struct, frozen=True, kw_only=True):
    """One fact of a space's knowledge graph: ``subject --predicate--> object``, with the chunk it came from."""

    subject: Annotated[str, Meta(min_length=1, max_length=512)]
    predicate: Annotated[str, Meta(min_length=1, max_length=512)]
    object: Annotated[str, Meta(min_length=1, max_length=512)]
    chunk_id: str | None = None


class GraphReport(msgspec.Struct, frozen=True, kw_only=True):
    """What a triplet extraction stored."""

    space: str
    chunks: int
    triplets: list[Triplet]
    entities: int


class KnowledgeBase(Protocol):
    """Knowledge spaces, by name or id (``ctx.service(KnowledgeBase)``)."""

    async def space(self, space: str) -> SpaceInfo:
        """The space named (or with id) ``space``. Raises ``NotFoundError``."""
        ...

    async def search(self, space: str, request: SearchRequest, *, origin: CallOrigin | None = None) -> list[Chunk]:
        """The best ``request.top_k`` chunks for the query, best first (embedding calls recorded against origin)."""
        ...

    async def ingest(
        self,
        space: str,
        documents: Sequence[Document],
        *,
        on_progress: ProgressCallback | None = None,
        origin: CallOrigin | None = None,
        chunking: ChunkingConfig | None = None,
        create_space: bool = False,
    ) -> IngestReport:
        """Chunk, embed (batched) and store documents; ``Document.id`` is the document's name in the space.

        An unchanged document (same content hash and chunking) is a no-op; a changed one replaces its chunks in
        one transaction; a failing one is reported in the result and the others are kept.

        Args:
            space: The space's name or id.
            documents: What to store.
            on_progress: Awaited as documents are split and embedded.
            origin: Recorded with the embedding calls.
            chunking: Split these documents this way instead of by the space's chunking (``None``: the space's).
                A document stored before with another chunking counts as changed and is re-chunked.
            create_space: Create the space (default embedding model and chunking) when it does not exist, as
                vector stores that create their collection on first write do; otherwise that is a
                ``NotFoundError``.
        """
        ...

    def chunk(self, documents: Sequence[Document], config: ChunkingConfig) -> list[Chunk]:
        """Split documents into chunks without storing them (CPU work: call it from a worker thread)."""
        ...

    async def load_url(self, url: str, *, allow_private_network: bool = False) -> list[Document]:
        """Fetch a URL through the outbound network guard and parse it (html, pdf, docx, ...) into documents."""
        ...

    async def extract_graph(
        self,
        space: str,
        chunks: Sequence[Chunk],
        *,
        model: str,
        origin: CallOrigin | None = None,
        create_space: bool = False,
    ) -> GraphReport:
        """Extract ``subject, predicate, object`` triplets from chunks with an LLM and store them in the space.

        Args:
            space: The space's name or id.
            chunks: What to read.
            model: The chat model that extracts the facts.
            origin: Recorded with the model calls.
            create_space: Create the space (default embedding model and chunking) when it does not exist, as
                graph stores that create their graph on first write do; otherwise that is a ``NotFoundError``.
        """
        ...

    async def graph_search(
        self, space: str, query: str, *, depth: int = 1, top_k: int = 10, origin: CallOrigin | None = None
    ) -> list[Chunk]:
        """Facts around the entities the query names (``depth`` hops), combined with vector hits, as chunks."""
        ...
