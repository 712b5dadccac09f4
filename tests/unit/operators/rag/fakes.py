"""A fake ``KnowledgeBase``: spaces in a dict, keyword-overlap search, paragraph chunking (the real service is
tested in tests/unit/knowledge and tests/integration)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rivulet.lib.exceptions import ModelError, NotFoundError
from rivulet.sdk.knowledge import (
    ChunkingConfig,
    GraphReport,
    IngestItem,
    IngestProgress,
    IngestReport,
    SearchRequest,
    SpaceInfo,
    Triplet,
)
from rivulet.sdk.net import BlockedAddressError
from rivulet.sdk.ports import Chunk, Document

if TYPE_CHECKING:
    from collections.abc import Sequence

    from rivulet.sdk.knowledge import ProgressCallback
    from rivulet.sdk.models import CallOrigin


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


@dataclass
class FakeKnowledge:
    """Implements ``KnowledgeBase``; records the requests it gets."""

    spaces: dict[str, list[Chunk]] = field(default_factory=lambda: {"docs": []})
    searches: list[tuple[str, SearchRequest]] = field(default_factory=list[tuple[str, SearchRequest]])
    chunkings: list[ChunkingConfig] = field(default_factory=list[ChunkingConfig])
    graph_calls: list[list[str]] = field(default_factory=list[list[str]])
    loaded: list[tuple[str, bool]] = field(default_factory=list[tuple[str, bool]])
    ingested: list[tuple[str, ChunkingConfig | None, bool]] = field(
        default_factory=list[tuple[str, ChunkingConfig | None, bool]]
    )
    """``(space, chunking, create_space)`` of every ingest call."""
    graph_spaces: list[tuple[str, bool]] = field(default_factory=list[tuple[str, bool]])
    """``(space, create_space)`` of every extract_graph call."""

    def _chunks(self, space: str) -> list[Chunk]:
        if space not in self.spaces:
            raise NotFoundError(f"knowledge space {space!r} not found")
        return self.spaces[space]

    async def space(self, space: str) -> SpaceInfo:
        chunks = self._chunks(space)
        return SpaceInfo(
            id=f"id-{space}", name=space, embedding_model="default-embedding", chunk_count=len(chunks),
            chunking=ChunkingConfig(strategy="sentence", chunk_size=64, chunk_overlap=0),
        )  # fmt: skip

    async def search(self, space: str, request: SearchRequest, *, origin: CallOrigin | None = None) -> list[Chunk]:
        self.searches.append((space, request))
        query = _words(request.query)
        hits: list[Chunk] = []
        for chunk in self._chunks(space):
            if any(chunk.metadata.get(k) != v for k, v in request.filters.items()):
                continue
            score = len(query & _words(chunk.text)) / max(len(query), 1)
            if score > 0 and (request.min_score is None or score >= request.min_score):
                meta: dict[str, Any] = {**chunk.metadata, "retrievers": {request.mode: {"rank": 0, "score": score}}}
                hits.append(Chunk(id=chunk.id, document_id=chunk.document_id, text=chunk.text, metadata=meta,
                                  score=score, source=chunk.source))  # fmt: skip
        hits.sort(key=lambda c: -(c.score or 0))
        return hits[: request.top_k]

    def chunk(self, documents: Sequence[Document], config: ChunkingConfig) -> list[Chunk]:
        self.chunkings.append(config)
        return [
            Chunk(id=f"{doc.id}:{n}", document_id=doc.id, text=part.strip(), source=doc.id, metadata={"ordinal": n})
            for doc in documents
            for n, part in enumerate(doc.text.split("\n\n"))
            if part.strip()
        ]

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
        self.ingested.append((space, chunking, create_space))
        if create_space:
            self.spaces.setdefault(space, [])
        stored = self._chunks(space)
        items: list[IngestItem] = []
        added = 0
        for done, doc in enumerate(documents, start=1):
            if "FAIL" in doc.text:
                items.append(IngestItem(name=doc.id, status="failed", error="unreadable"))
            else:
                chunks = self.chunk([doc], chunking or ChunkingConfig())
                stored.extend(chunks)
                added += len(chunks)
                items.append(IngestItem(name=doc.id, status="added", document_id=doc.id, chunks=len(chunks)))
            if on_progress is not None:
                await on_progress(IngestProgress(documents_done=done, documents_total=len(documents),
                                                 chunks_done=added, chunks_total=added, document=doc.id))  # fmt: skip
        return IngestReport(space=space, items=items, chunks_added=added)

    async def load_url(self, url: str, *, allow_private_network: bool = False) -> list[Document]:
        self.loaded.append((url, allow_private_network))
        if "127.0.0.1" in url and not allow_private_network:
            raise BlockedAddressError("127.0.0.1 is a loopback address (allow_private_network is off)")
        return [Document(id=url, text=f"The page at {url}.", metadata={"source": url})]

    async def extract_graph(
        self,
        space: str,
        chunks: Sequence[Chunk],
        *,
        model: str,
        origin: CallOrigin | None = None,
        create_space: bool = False,
    ) -> GraphReport:
        self.graph_spaces.append((space, create_space))
        if create_space:
            self.spaces.setdefault(space, [])
        self._chunks(space)
        if model == "broken":
            raise ModelError("model 'broken' failed: timeout")
        self.graph_calls.append([c.id for c in chunks])
        triplets: list[Triplet] = []
        for chunk in chunks:
            words = chunk.text.rstrip(".").split()
            triplets.append(Triplet(subject=words[0], predicate="relates to", object=words[-1], chunk_id=chunk.id))
        return GraphReport(space=space, chunks=len(chunks), triplets=triplets, entities=2 * len(triplets))

    async def graph_search(
        self, space: str, query: str, *, depth: int = 1, top_k: int = 10, origin: CallOrigin | None = None
    ) -> list[Chunk]:
        self._chunks(space)
        meta: dict[str, Any] = {"retrievers": {"graph": {"rank": 1, "score": 1.0}}}
        text = f"Ada -wrote-> notes (depth {depth})"
        fact = Chunk(id="fact-1", document_id="graph", text=text, metadata=meta, score=1.0, source="graph")
        return [fact][:top_k]


def corpus() -> list[Chunk]:
    """Three chunks about different things."""
    texts = {
        "c-ada": ("Ada Lovelace wrote the first program for the Analytical Engine.", "ada.md"),
        "c-tea": ("Green tea is brewed at 80 degrees for two minutes.", "tea.md"),
        "c-babbage": ("Charles Babbage designed the Analytical Engine.", "engine.pdf"),
    }
    return [
        Chunk(id=cid, document_id=src, text=text, source=src, metadata={"document": src, "lang": "en"})
        for cid, (text, src) in texts.items()
    ]
