"""``KnowledgeService``: knowledge spaces for operators (``KnowledgeBase``), the HTTP API and the CLI.

One object over a ``KnowledgeStore`` and the ``ModelRegistry``: space and document management, ingestion of
documents and files (``rivulet.knowledge.ingest``), search (vector, keyword or hybrid with reciprocal rank fusion,
filters, MMR, ``min_score``), graph extraction and graph search (``rivulet.knowledge.graph``), URL loading through
the network guard. Spaces are named by name or id everywhere.

    service = KnowledgeService(PostgresKnowledgeStore(pool), models, policy)
    await service.create_space(name="handbook")
    await service.ingest_files("handbook", [SourceFile(name="handbook.pdf", path="/tmp/upload-1")])
    hits = await service.search("handbook", SearchRequest(query="How do I reset my password?"))
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Final, TypeVar

from rivulet.knowledge import graph
from rivulet.knowledge._sources import IngestOptions, IngestSource
from rivulet.knowledge.chunkers import chunk_parts
from rivulet.knowledge.ingest import ingest_sources
from rivulet.knowledge.loaders import load_url
from rivulet.knowledge.retrieval import filter_min_score, fuse, label_hits, mmr
from rivulet.lib.exceptions import ConflictError, NotFoundError, ValidationError
from rivulet.sdk.knowledge import DEFAULT_SPACE_LANGUAGE, SearchRequest
from rivulet.sdk.models import DEFAULT_EMBEDDING_MODEL
from rivulet.sdk.net import NetworkPolicy
from rivulet.sdk.ports import Chunk, Document

if TYPE_CHECKING:
    from collections.abc import Awaitable, Sequence

    from rivulet.knowledge.ingest import SourceFile
    from rivulet.sdk.knowledge import ChunkingConfig, GraphReport, IngestReport, ProgressCallback, SpaceInfo
    from rivulet.sdk.models import CallOrigin, ModelRegistry
    from rivulet.storage.base import ChunkHit, DocumentRecord, KnowledgeStore, SpaceRecord

__all__ = ("INTERNAL_SPACE_PREFIX", "KnowledgeService", "RunKnowledge")

_MMR_INLINE: Final = 150
"""MMR over at most this many candidates runs on the event loop (under 2 ms); more go to a worker thread."""
_MAX_GRAPH_DEPTH: Final = 3

A = TypeVar("A")
B = TypeVar("B")
T = TypeVar("T")


class KnowledgeService:
    """Knowledge spaces: implements ``rivulet.sdk.knowledge.KnowledgeBase`` plus management for the API and CLI.

    Args:
        store: Spaces, documents, chunks and graph.
        models: Embeds (the space's embedding model) and extracts graph facts (a chat model).
        policy: Where ``load_url`` may connect (default: public addresses only).
        options: How ingestion batches its embedding calls.
        create_missing_spaces: Ingesting (or extracting a graph) into a space that does not exist creates it with
            the defaults (headless runs, where nothing else could create one); otherwise that is a ``NotFoundError``.
    """

    def __init__(
        self,
        store: KnowledgeStore,
        models: ModelRegistry,
        policy: NetworkPolicy | None = None,
        *,
        options: IngestOptions | None = None,
        create_missing_spaces: bool = False,
    ) -> None:
        self.store = store
        self.models = models
        self.policy = policy or NetworkPolicy()
        self.options = options or IngestOptions()
        self.create_missing_spaces = create_missing_spaces

    # -- spaces ----------------------------------------------------------------------------------------------------

    async def create_space(
        self,
        *,
        name: str,
        embedding_model: str = DEFAULT_EMBEDDING_MODEL,
        description: str = "",
        chunking: ChunkingConfig | None = None,
        language: str = DEFAULT_SPACE_LANGUAGE,
        owner_id: str | None = None,
        workspace_id: str | None = None,
    ) -> SpaceRecord:
        """Create a space (its vector size is fixed by the first ingested document).

        Raises:
            ConflictError: The name is taken.
            ValidationError: Unknown text search language or bad name.
        """
        return await self.store.create_space(
            name=name,
            embedding_model=embedding_model,
            description=description,
            chunking=chunking,
            language=language,
            owner_id=owner_id,
            workspace_id=workspace_id,
        )

    async def list_spaces(self) -> list[SpaceRecord]:
        """Every space, by name."""
        return await self.store.list_spaces()

    async def get_space(self, space: str) -> SpaceRecord:
        """A space by name or id. Raises ``NotFoundError``."""
        return await self.store.get_space(space)

    async def space(self, space: str) -> SpaceInfo:
        return (await self.store.get_space(space)).info()

    async def update_space(
        self, space: str, *, description: str | None = None, chunking: ChunkingConfig | None = None
    ) -> SpaceRecord:
        """Change the description or chunking (a new chunking applies to documents ingested, or re-ingested, later)."""
        record = await self.store.get_space(space)
        return await self.store.update_space(record.id, description=description, chunking=chunking)

    async def delete_space(self, space: str) -> None:
        """Delete a space with its documents, chunks and graph. Raises ``NotFoundError``."""
        await self.store.delete_space((await self.store.get_space(space)).id)

    # -- documents -------------------------------------------------------------------------------------------------

    async def list_documents(self, space: str) -> list[DocumentRecord]:
        """The space's documents (status, chunk count, error), by name."""
        return await self.store.list_documents((await self.store.get_space(space)).id)

    async def delete_document(self, space: str, document: str) -> None:
        """Delete a document (by name or id) with its chunks and graph facts. Raises ``NotFoundError``."""
        record = await self.store.get_space(space)
        found = await self.store.get_document(record.id, document)
        if found is None:
            raise NotFoundError(
                f"document {document!r} not found in knowledge space {record.name!r}",
                extra={"space": record.name, "document": document},
            )
        await self.store.delete_document(record.id, found.id)

    # -- ingestion -------------------------------------------------------------------------------------------------

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
        """Chunk, embed and store documents; ``Document.id`` is the name (documents sharing one are its parts).

        Unchanged documents are skipped, changed ones replaced in one transaction, failing ones reported.
        ``chunking`` splits these documents instead of the space's chunking (a document stored with another
        chunking is re-chunked); ``create_space`` (or the service's ``create_missing_spaces``) creates a missing
        space with the default embedding model and chunking.
        """
        if any(not document.id.strip() for document in documents):
            raise ValidationError("every document needs a name (Document.id)")
        sources = IngestSource.of_documents(documents)
        return await self._ingest(
            space, sources, on_progress, origin, chunking=chunking, create=create_space or self.create_missing_spaces
        )

    async def ingest_files(
        self,
        space: str,
        files: Sequence[SourceFile],
        *,
        on_progress: ProgressCallback | None = None,
        origin: CallOrigin | None = None,
    ) -> IngestReport:
        """Parse files (format from the name, else the bytes; in worker threads) and ingest them as ``ingest``."""
        sources = [file.as_source() for file in files]
        return await self._ingest(space, sources, on_progress, origin, create=self.create_missing_spaces)

    async def _ingest(
        self,
        space: str,
        sources: Sequence[IngestSource],
        on_progress: ProgressCallback | None,
        origin: CallOrigin | None,
        *,
        chunking: ChunkingConfig | None = None,
        create: bool,
    ) -> IngestReport:
        record = await (self._space_or_new(space) if create else self.store.get_space(space))
        return await ingest_sources(
            self.store,
            self.models,
            record,
            sources,
            chunking=chunking,
            options=self.options,
            on_progress=on_progress,
            origin=origin,
        )

    async def _space_or_new(self, space: str) -> SpaceRecord:
        """The space, created with the defaults when missing (a concurrent creation of the same name is reused)."""
        try:
            return await self.store.get_space(space)
        except NotFoundError:
            pass
        try:
            return await self.store.create_space(name=space, embedding_model=DEFAULT_EMBEDDING_MODEL)
        except ConflictError:
            return await self.store.get_space(space)

    def chunk(self, documents: Sequence[Document], config: ChunkingConfig) -> list[Chunk]:
        """Split documents without storing them (CPU work: call it in a worker thread); ids are ``<name>#<n>``."""
        return [
            Chunk(
                id=f"{source.name}#{draft.ordinal}",
                document_id=source.name,
                text=draft.text,
                metadata=draft.metadata,
                source=source.label,
            )
            for source in IngestSource.of_documents(documents)
            for draft in chunk_parts(source.parts, config)
        ]

    async def load_url(self, url: str, *, allow_private_network: bool = False) -> list[Document]:
        """Fetch and parse a URL through the network guard: one document per part (page, sheet), all named ``url``.

        ``allow_private_network`` counts only where the deployment's policy permits flows to override it.
        """
        parts = await load_url(url, self.policy, allow_private=allow_private_network)
        return [Document(id=url, text=part.text, metadata={**part.metadata, "source": url}) for part in parts]

    # -- retrieval -------------------------------------------------------------------------------------------------

    async def search(self, space: str, request: SearchRequest, *, origin: CallOrigin | None = None) -> list[Chunk]:
        """The best ``request.top_k`` chunks, best first, each with ``metadata["retrievers"]`` (rank and score).

        Raises:
            NotFoundError: No such space.
            ValidationError: A blank query, bad filters, or a query vector of another size than the space's.
        """
        return await self._search(await self.store.get_space(space), request, origin)

    async def _search(self, space: SpaceRecord, request: SearchRequest, origin: CallOrigin | None) -> list[Chunk]:
        query = request.query.strip()
        if not query:
            raise ValidationError("the search query is empty", extra={"errors": [{"path": "$.query"}]})
        wide = request.mode == "hybrid" or request.mmr
        k = max(request.fetch_k or max(4 * request.top_k, 20), request.top_k) if wide else request.top_k
        vector, keyword = await _both(
            self._vector_hits(space, query, k, request, origin) if request.mode != "keyword" else _nothing(),
            self.store.keyword_search(space.id, query, top_k=k, filters=request.filters)
            if request.mode != "vector"
            else _nothing(),
        )
        if request.mode == "hybrid":
            ranked = fuse({"vector": [h.chunk for h in vector], "keyword": [h.chunk for h in keyword]}, k=request.rrf_k)
        else:
            ranked = label_hits([h.chunk for h in (vector or keyword)], request.mode)
        ranked = filter_min_score(ranked, request.min_score)
        if request.mmr and len(ranked) > 1:
            return await self._diversify(space, ranked, vector, request, origin)
        return ranked[: request.top_k]

    async def _vector_hits(
        self, space: SpaceRecord, query: str, k: int, request: SearchRequest, origin: CallOrigin | None
    ) -> list[ChunkHit]:
        if space.dimensions is None:  # nothing embedded yet
            return []
        vector = (await self.models.embed(space.embedding_model, [query], origin=origin)).vectors[0]
        if len(vector) != space.dimensions:
            raise ValidationError(
                f"the embedding model {space.embedding_model!r} gives {len(vector)}-dimensional vectors but space "
                f"{space.name!r} holds {space.dimensions}-dimensional ones"
            )
        return await self.store.vector_search(
            space.id, vector, top_k=k, filters=request.filters, with_embeddings=request.mmr
        )

    async def _diversify(
        self,
        space: SpaceRecord,
        ranked: list[Chunk],
        vector: list[ChunkHit],
        request: SearchRequest,
        origin: CallOrigin | None,
    ) -> list[Chunk]:
        """MMR over the candidates; those found by keywords only are embedded first (one batched call)."""
        known = {hit.chunk.id: hit.embedding for hit in vector if hit.embedding is not None}
        missing = [c for c in ranked if c.id not in known]
        if missing:
            result = await self.models.embed(space.embedding_model, [c.text for c in missing], origin=origin)
            known.update(zip((c.id for c in missing), result.vectors, strict=True))
        embeddings = [known.get(c.id) for c in ranked]
        if len(ranked) <= _MMR_INLINE:
            return mmr(ranked, embeddings, top_k=request.top_k, lambda_mult=request.mmr_lambda)
        return await asyncio.to_thread(mmr, ranked, embeddings, top_k=request.top_k, lambda_mult=request.mmr_lambda)

    async def extract_graph(
        self,
        space: str,
        chunks: Sequence[Chunk],
        *,
        model: str,
        origin: CallOrigin | None = None,
        create_space: bool = False,
    ) -> GraphReport:
        """Extract triplets from ``chunks`` with the chat model ``model`` and store them in the space's graph.

        ``create_space`` (or the service's ``create_missing_spaces``) creates a missing space with the default
        embedding model and chunking, as ``ingest`` does.
        """
        create = create_space or self.create_missing_spaces
        record = await (self._space_or_new(space) if create else self.store.get_space(space))
        return await graph.extract_graph(self.store, self.models, record, chunks, model=model, origin=origin)

    async def graph_search(
        self, space: str, query: str, *, depth: int = 1, top_k: int = 10, origin: CallOrigin | None = None
    ) -> list[Chunk]:
        """Facts around the entities the query names, fused (reciprocal rank) with the query's vector hits."""
        if not 1 <= depth <= _MAX_GRAPH_DEPTH:
            raise ValidationError(f"depth must be between 1 and {_MAX_GRAPH_DEPTH}, not {depth}")
        if top_k < 1:
            raise ValidationError(f"top_k must be at least 1, not {top_k}")
        record = await self.store.get_space(space)
        request = SearchRequest(query=query, mode="vector", top_k=top_k)
        facts, hits = await _both(
            graph.graph_facts(self.store, record.id, query, depth=depth, limit=top_k),
            self._search(record, request, origin),
        )
        return fuse({"graph": facts, "vector": hits})[:top_k]


async def _nothing() -> list[ChunkHit]:
    return []


async def _both(first: Awaitable[A], second: Awaitable[B]) -> tuple[A, B]:
    """Await both concurrently; the first failure is raised as itself (the other is cancelled)."""
    try:
        async with asyncio.TaskGroup() as tasks:
            one, two = tasks.create_task(_wrap(first)), tasks.create_task(_wrap(second))
    except* Exception as group:  # noqa: BLE001 - re-raised as the exception itself, not a group
        raise group.exceptions[0] from None
    return one.result(), two.result()


async def _wrap(awaitable: Awaitable[T]) -> T:
    return await awaitable


INTERNAL_SPACE_PREFIX: Final = "_"
"""Spaces whose names start with this are internal (a data source's schema-linking index, ``_datasource.<id>``)."""


class RunKnowledge:
    """What runs reach as ``ctx.service(KnowledgeBase)``: every space but the internal ones.

    An internal space (by name or by id) answers exactly like a missing one, and a run cannot create one: its
    table descriptions and sample values belong to the data source, whose own access rules decide who reads them.
    """

    def __init__(self, service: KnowledgeService) -> None:
        self._service = service

    async def _check(self, space: str) -> None:
        missing = NotFoundError(f"knowledge space {space!r} not found", extra={"space": space})
        if space.startswith(INTERNAL_SPACE_PREFIX):
            raise missing
        try:
            record = await self._service.store.get_space(space)
        except NotFoundError:
            return  # missing: the service says so (or creates it, when asked to)
        if record.name.startswith(INTERNAL_SPACE_PREFIX):
            raise missing

    async def space(self, space: str) -> SpaceInfo:
        await self._check(space)
        return await self._service.space(space)

    async def search(self, space: str, request: SearchRequest, *, origin: CallOrigin | None = None) -> list[Chunk]:
        await self._check(space)
        return await self._service.search(space, request, origin=origin)

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
        await self._check(space)
        return await self._service.ingest(
            space, documents, on_progress=on_progress, origin=origin, chunking=chunking, create_space=create_space
        )

    def chunk(self, documents: Sequence[Document], config: ChunkingConfig) -> list[Chunk]:
        return self._service.chunk(documents, config)

    async def load_url(self, url: str, *, allow_private_network: bool = False) -> list[Document]:
        return await self._service.load_url(url, allow_private_network=allow_private_network)

    async def extract_graph(
        self,
        space: str,
        chunks: Sequence[Chunk],
        *,
        model: str,
        origin: CallOrigin | None = None,
        create_space: bool = False,
    ) -> GraphReport:
        await self._check(space)
        return await self._service.extract_graph(space, chunks, model=model, origin=origin, create_space=create_space)

    async def graph_search(
        self, space: str, query: str, *, depth: int = 1, top_k: int = 10, origin: CallOrigin | None = None
    ) -> list[Chunk]:
        await self._check(space)
        return await self._service.graph_search(space, query, depth=depth, top_k=top_k, origin=origin)
