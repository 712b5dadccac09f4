"""HTTP DTOs of the knowledge API (``*Create``/``*Update``/``*Read``); spaces and documents are the store's records."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from rivulet.sdk.knowledge import DEFAULT_SPACE_LANGUAGE, ChunkingConfig, IngestProgress, IngestReport, SearchMode
from rivulet.storage.base import DocumentRecord, SpaceRecord

__all__ = (
    "DEFAULT_EMBEDDING_MODEL",
    "MAX_URLS",
    "DocumentList",
    "GraphSearchRequest",
    "IngestJobList",
    "IngestJobRead",
    "JobKind",
    "JobStatus",
    "RetrieverHit",
    "SearchHit",
    "SearchResult",
    "SearchTimings",
    "SpaceCreate",
    "SpaceList",
    "SpaceUpdate",
    "TextIngest",
    "UrlIngest",
)

DEFAULT_EMBEDDING_MODEL = "default-embedding"
"""The embedding model of a new space unless it names another (the built-in local model)."""
MAX_URLS = 100
"""Most URLs of one ``POST .../documents/urls``."""

SpaceName = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=100,
        pattern=r"^[^\s/\\?#%\x00-\x1f][^/\\?#%\x00-\x1f]*$",
        description="Unique; addresses the space in URLs (no slash, backslash, '?', '#', '%' or control characters).",
    ),
]
JobStatus = Literal["running", "done", "failed"]
"""``done``: the ingestion ran (its report says what happened to each document); ``failed``: the job itself failed."""
JobKind = Literal["upload", "urls", "text"]


class SpaceCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Create a knowledge space, owned by the caller."""

    name: SpaceName
    description: Annotated[str, Meta(max_length=2000)] = ""
    embedding_model: Annotated[str, Meta(min_length=1, max_length=200)] = DEFAULT_EMBEDDING_MODEL
    """A configured embedding model (``GET /api/models``); fixed for the life of the space."""
    chunking: ChunkingConfig | None = None
    """How documents are cut into chunks (default: recursive, 200 tokens, 30 overlap)."""
    language: Annotated[str, Meta(min_length=1, max_length=64)] = DEFAULT_SPACE_LANGUAGE
    """PostgreSQL text search configuration of the keyword index (``english``, ``simple``, ``german``, ...)."""


class SpaceUpdate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Change a space's description or chunking (new chunking applies to documents ingested later)."""

    description: Annotated[str, Meta(max_length=2000)] | None = None
    chunking: ChunkingConfig | None = None


class SpaceList(msgspec.Struct, frozen=True, kw_only=True):
    items: list[SpaceRecord]


class DocumentList(msgspec.Struct, frozen=True, kw_only=True):
    items: list[DocumentRecord]


class UrlIngest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Fetch web pages or files (through the outbound network guard) and ingest them; each URL names its document."""

    urls: Annotated[
        list[Annotated[str, Meta(min_length=1, max_length=2048, pattern=r"^[hH][tT][tT][pP][sS]?://")]],
        Meta(min_length=1, max_length=MAX_URLS),
    ]


class TextIngest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Ingest a text as one document (replacing the document of that name when its text changed)."""

    name: Annotated[str, Meta(min_length=1, max_length=500, pattern=r"^[^\x00-\x1f]+$")]
    text: Annotated[str, Meta(min_length=1)]
    metadata: dict[str, Any] = msgspec.field(default_factory=dict[str, Any])
    """Kept with every chunk of the document (and usable in search ``filters``)."""


class IngestJobRead(msgspec.Struct, frozen=True, kw_only=True):
    """A background ingestion (kept by the replica that runs it; the documents' status is in the database)."""

    id: str
    space_id: str
    space: str
    """The space's name."""
    kind: JobKind
    status: JobStatus
    documents: list[str]
    """What was submitted: file names, URLs or the text's name."""
    progress: IngestProgress
    report: IngestReport | None = None
    """Set when the job is ``done``: what happened to each document (``added``, ``replaced``, ``unchanged``,
    ``failed`` with its error)."""
    error: str | None = None
    """Why the job failed (``failed`` only)."""
    created_at: datetime
    finished_at: datetime | None = None


class IngestJobList(msgspec.Struct, frozen=True, kw_only=True):
    items: list[IngestJobRead]


class RetrieverHit(msgspec.Struct, frozen=True, kw_only=True):
    """Where one retriever ranked a hit (rank 1 = its best)."""

    rank: int
    score: float | None = None


class SearchHit(msgspec.Struct, frozen=True, kw_only=True):
    """One retrieved chunk, with which retrievers found it."""

    chunk_id: str
    document_id: str
    document: str
    """The document's name in the space."""
    source: str
    """The file name or URL the text came from."""
    text: str
    score: float | None
    """The score of the final ranking (fused reciprocal rank for ``hybrid``, cosine for ``vector``)."""
    retrievers: dict[str, RetrieverHit]
    """``vector``, ``keyword`` and/or ``graph``, each with its rank and score."""
    metadata: dict[str, Any]
    """Everything the chunk carries: ``page``, ``heading_path``, ``start``/``end``, ``retrievers``, ``document``."""


class SearchTimings(msgspec.Struct, frozen=True, kw_only=True):
    total_ms: float
    """Embedding the query, retrieval, fusion and re-ranking, as measured by the server."""


class SearchResult(msgspec.Struct, frozen=True, kw_only=True):
    space: str
    query: str
    mode: SearchMode | Literal["graph"]
    hits: list[SearchHit]
    timings: SearchTimings


class GraphSearchRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Facts around the entities a query names, combined with vector hits."""

    query: Annotated[str, Meta(min_length=1, max_length=32_768)]
    depth: Annotated[int, Meta(ge=1, le=3)] = 1
    """Hops from the entities the query names."""
    top_k: Annotated[int, Meta(ge=1, le=100)] = 10
