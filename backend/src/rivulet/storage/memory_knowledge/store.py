"""``KnowledgeStore`` in dictionaries for unit tests and headless runs; the conformance suite holds it to PostgreSQL.

Vector search is brute-force cosine (numpy, in a worker thread). Keyword search is BM25 over lowercase words with
English stop words dropped (none for the ``simple`` language) and the same OR semantics as the PostgreSQL store;
it does not stem, so "running" does not find "run" here. Filters match metadata by JSON containment, as ``@>``.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

import msgspec
import numpy as np

from rivulet.lib.exceptions import ConflictError, NotFoundError, ValidationError
from rivulet.lib.ids import random_id
from rivulet.sdk.knowledge import DEFAULT_SPACE_LANGUAGE, ChunkingConfig
from rivulet.sdk.ports import Chunk
from rivulet.storage.base import ChunkHit, DocumentRecord, SpaceRecord
from rivulet.storage.knowledge_rules import (
    check_chunk_dimensions,
    check_dimensions,
    check_name,
    check_no_nul,
    check_query_vector,
    clean_error,
    metadata_forms,
    parse_chunk_filters,
)
from rivulet.storage.memory_knowledge.graph import MemoryKnowledgeGraph

if TYPE_CHECKING:
    from collections.abc import Sequence

    from rivulet.storage.base import ChunkRow
    from rivulet.storage.knowledge_rules import ChunkFilter

__all__ = ("TEXT_SEARCH_LANGUAGES", "MemoryKnowledgeStore")

_LANGUAGES = (
    "simple arabic armenian basque catalan danish dutch english estonian finnish french german greek hindi hungarian"
    " indonesian irish italian lithuanian nepali norwegian portuguese romanian russian serbian spanish swedish tamil"
    " turkish yiddish"
)
TEXT_SEARCH_LANGUAGES = frozenset(_LANGUAGES.split())
"""PostgreSQL's built-in text search configurations: the languages a space may name."""

_ENGLISH_STOP_WORDS = (
    "a about above after again against all am an and any are as at be because been before being below between both"
    " but by can did do does doing down during each few for from further had has have having he her here hers herself"
    " him himself his how i if in into is it its itself just me more most my myself no nor not now of off on once only"
    " or other our ours ourselves out over own s same she should so some such t than that the their theirs them"
    " themselves then there these they this those through to too under until up very was we were what when where"
    " which while who whom why will with you your yours yourself yourselves"
)
_STOP_WORDS = frozenset(_ENGLISH_STOP_WORDS.split())
_WORD = re.compile(r"\w+")
_K1, _B = 1.2, 0.75
_copy = msgspec.json.Decoder()


def _now() -> datetime:
    return datetime.now(UTC)


def _json_copy(value: Any) -> Any:
    return _copy.decode(msgspec.json.encode(value))


def _terms(text: str, language: str) -> list[str]:
    words = _WORD.findall(text.lower())
    return words if language == "simple" else [w for w in words if w not in _STOP_WORDS]


def _contains(have: Any, want: Any) -> bool:
    """JSON containment of a value below the top level, as PostgreSQL's ``jsonb @>``."""
    if isinstance(want, dict):
        wanted = cast("dict[str, Any]", want)
        if not isinstance(have, dict):
            return False
        held = cast("dict[str, Any]", have)
        return all(k in held and _contains(held[k], v) for k, v in wanted.items())
    if isinstance(want, list):
        return isinstance(have, list) and all(
            any(_contains(h, w) for h in cast("list[Any]", have)) for w in cast("list[Any]", want)
        )
    if isinstance(have, (dict, list)) or isinstance(have, bool) != isinstance(want, bool):
        return False
    return bool(have == want)


@dataclass(slots=True)
class _StoredChunk:
    id: str
    document_id: str
    ordinal: int
    text: str
    metadata: dict[str, Any]
    source: str
    embedding: list[float]
    terms: Counter[str]
    length: int


class MemoryKnowledgeStore(MemoryKnowledgeGraph):
    """A ``KnowledgeStore`` in dictionaries (same behaviour as ``PostgresKnowledgeStore``)."""

    def __init__(self) -> None:
        super().__init__()
        self._spaces: dict[str, SpaceRecord] = {}
        self._chunks: dict[str, dict[str, _StoredChunk]] = {}

    def _space(self, space_id: str) -> SpaceRecord:
        try:
            space = self._spaces[space_id]
        except KeyError:
            raise NotFoundError(f"knowledge space {space_id!r} not found", extra={"space": space_id}) from None
        docs = [d for d in self._documents.values() if d.space_id == space_id]
        return msgspec.structs.replace(space, document_count=len(docs), chunk_count=sum(d.chunk_count for d in docs))

    # --- spaces ---------------------------------------------------------------------------------------------------

    async def create_space(
        self,
        *,
        name: str,
        embedding_model: str,
        description: str = "",
        chunking: ChunkingConfig | None = None,
        language: str = DEFAULT_SPACE_LANGUAGE,
        owner_id: str | None = None,
        workspace_id: str | None = None,
    ) -> SpaceRecord:
        check_name("knowledge space", name)
        check_no_nul(
            description=description, embedding_model=embedding_model, owner_id=owner_id, workspace_id=workspace_id
        )
        if language not in TEXT_SEARCH_LANGUAGES:
            raise ValidationError(
                f"unknown text search language {language[:80]!r};"
                f" choose one of: {', '.join(sorted(TEXT_SEARCH_LANGUAGES))}",
                extra={"language": language[:80]},
            )
        if any(s.name == name for s in self._spaces.values()):
            raise ConflictError(f"knowledge space {name!r} already exists", extra={"space": name})
        now = _now()
        space = SpaceRecord(
            id=random_id(),
            name=name,
            description=description,
            embedding_model=embedding_model,
            chunking=chunking or ChunkingConfig(),
            language=language,
            owner_id=owner_id,
            workspace_id=workspace_id,
            created_at=now,
            updated_at=now,
        )
        self._spaces[space.id] = space
        self._chunks[space.id] = {}
        self._edges[space.id] = []
        return self._space(space.id)

    async def get_space(self, space: str) -> SpaceRecord:
        if space in self._spaces:
            return self._space(space)
        for record in self._spaces.values():
            if record.name == space:
                return self._space(record.id)
        raise NotFoundError(f"knowledge space {space!r} not found", extra={"space": space})

    async def list_spaces(self) -> list[SpaceRecord]:
        return [self._space(s.id) for s in sorted(self._spaces.values(), key=lambda s: s.name)]

    async def update_space(
        self, space_id: str, *, description: str | None = None, chunking: ChunkingConfig | None = None
    ) -> SpaceRecord:
        check_no_nul(description=description)
        space = self._space(space_id)
        self._spaces[space_id] = msgspec.structs.replace(
            space,
            description=space.description if description is None else description,
            chunking=chunking or space.chunking,
            updated_at=_now(),
        )
        return self._space(space_id)

    async def set_dimensions(self, space_id: str, dimensions: int) -> SpaceRecord:
        check_dimensions(dimensions)
        space = self._space(space_id)
        if space.dimensions != dimensions:
            held = next((len(c.embedding) for c in self._chunks[space_id].values()), None)
            if held is not None and held != dimensions:
                raise ValidationError(
                    f"knowledge space {space.name!r} holds {held}-dimension vectors; it cannot take {dimensions}",
                    extra={"space": space.name, "dimensions": held},
                )
            self._spaces[space_id] = msgspec.structs.replace(space, dimensions=dimensions, updated_at=_now())
        return self._space(space_id)

    async def delete_space(self, space_id: str) -> None:
        self._space(space_id)
        del self._spaces[space_id], self._chunks[space_id], self._edges[space_id]
        self._documents = {k: d for k, d in self._documents.items() if d.space_id != space_id}

    # --- documents ------------------------------------------------------------------------------------------------

    async def get_document(self, space_id: str, name: str) -> DocumentRecord | None:
        self._space(space_id)
        docs = [d for d in self._documents.values() if d.space_id == space_id]
        return next((d for d in docs if d.name == name), None) or next((d for d in docs if d.id == name), None)

    async def list_documents(self, space_id: str) -> list[DocumentRecord]:
        self._space(space_id)
        return sorted((d for d in self._documents.values() if d.space_id == space_id), key=lambda d: d.name)

    async def begin_document(
        self, space_id: str, *, name: str, source: str = "", size_bytes: int = 0, metadata: dict[str, Any] | None = None
    ) -> DocumentRecord:
        check_name("document", name)
        check_no_nul(source=source)
        self._space(space_id)
        meta = _json_copy(metadata) if metadata is not None else None
        now = _now()
        current = next((d for d in self._documents.values() if d.space_id == space_id and d.name == name), None)
        if current is None:
            doc = DocumentRecord(
                id=random_id(),
                space_id=space_id,
                name=name,
                source=source,
                size_bytes=size_bytes,
                metadata=meta or {},
                created_at=now,
                updated_at=now,
            )
        else:
            doc = msgspec.structs.replace(
                current,
                status="processing",
                error=None,
                source=source,
                size_bytes=size_bytes,
                metadata=current.metadata if meta is None else meta,
                updated_at=now,
            )
        self._documents[doc.id] = doc
        return doc

    def _document(self, space_id: str, document_id: str) -> DocumentRecord:
        self._space(space_id)
        doc = self._documents.get(document_id)
        if doc is None or doc.space_id != space_id:
            raise NotFoundError(
                f"document {document_id!r} not found in knowledge space {space_id!r}",
                extra={"space": space_id, "document": document_id},
            )
        return doc

    async def replace_document(
        self, space_id: str, document_id: str, *, content_hash: str, chunks: Sequence[ChunkRow]
    ) -> DocumentRecord:
        size = check_chunk_dimensions(document_id, [(c.id, len(c.embedding), c.text) for c in chunks])
        if size is not None and self._space(space_id).dimensions is None:
            await self.set_dimensions(space_id, size)
        doc = self._document(space_id, document_id)
        space = self._space(space_id)
        if size is not None and space.dimensions != size:
            raise ValidationError(
                f"document {doc.name!r}: its chunks have {size} dimensions but knowledge space {space.name!r}"
                f" takes {space.dimensions}",
                extra={"space": space.name, "document": doc.name, "dimensions": space.dimensions},
            )
        stored = self._chunks[space_id]
        taken = {k for k, c in stored.items() if c.document_id != document_id}
        new = [self._stored(c, doc, space.language) for c in chunks]
        for c in new:
            if c.id in taken:
                raise ConflictError(
                    f"document {doc.name!r}: a chunk id is used twice in knowledge space {space_id!r} ({c.id!r})",
                    extra={"space": space_id, "document": doc.name},
                )
            taken.add(c.id)
        self._drop_document(space_id, document_id)
        stored.update((c.id, c) for c in new)
        updated = msgspec.structs.replace(
            doc, status="ready", error=None, content_hash=content_hash, chunk_count=len(new), updated_at=_now()
        )
        self._documents[document_id] = updated
        return updated

    @staticmethod
    def _stored(chunk: ChunkRow, doc: DocumentRecord, language: str) -> _StoredChunk:
        embedding = [float(v) for v in chunk.embedding]
        if not all(math.isfinite(v) for v in embedding):
            raise ValidationError(f"document {doc.name!r}: chunk {chunk.id!r} has a NaN or infinite embedding value")
        terms = _terms(chunk.text, language)
        return _StoredChunk(
            id=chunk.id,
            document_id=doc.id,
            ordinal=chunk.ordinal,
            text=chunk.text,
            metadata=_json_copy(chunk.metadata),
            source=chunk.source or doc.source,
            embedding=embedding,
            terms=Counter(terms),
            length=len(terms),
        )

    def _drop_document(self, space_id: str, document_id: str) -> None:
        stored = self._chunks[space_id]
        for key in [k for k, c in stored.items() if c.document_id == document_id]:
            del stored[key]
        self._drop_edges(space_id, document_id)

    async def fail_document(self, space_id: str, document_id: str, error: str) -> DocumentRecord:
        doc = msgspec.structs.replace(
            self._document(space_id, document_id), status="failed", error=clean_error(error), updated_at=_now()
        )
        self._documents[document_id] = doc
        return doc

    async def delete_document(self, space_id: str, document_id: str) -> None:
        self._document(space_id, document_id)
        self._drop_document(space_id, document_id)
        del self._documents[document_id]

    # --- search ---------------------------------------------------------------------------------------------------

    def _matches(self, c: _StoredChunk, f: ChunkFilter) -> bool:
        if f.key == "document_id":
            return c.document_id in f.values
        if f.key == "source":
            return c.source in f.values
        if f.key == "document":
            return self._documents[c.document_id].name in f.values
        return any(_contains(c.metadata, form) for v in f.values for form in metadata_forms(f.key, v))

    def _candidates(self, space_id: str, filters: list[ChunkFilter]) -> list[_StoredChunk]:
        return [c for c in self._chunks[space_id].values() if all(self._matches(c, f) for f in filters)]

    def _hit(self, c: _StoredChunk, score: float, *, with_embedding: bool = False) -> ChunkHit:
        return ChunkHit(chunk=self._chunk(c, score), embedding=list(c.embedding) if with_embedding else None)

    def _chunk(self, c: _StoredChunk, score: float | None = None) -> Chunk:
        metadata = {**_json_copy(c.metadata), "document": self._documents[c.document_id].name}
        return Chunk(id=c.id, document_id=c.document_id, text=c.text, metadata=metadata, score=score, source=c.source)

    async def vector_search(
        self,
        space_id: str,
        vector: Sequence[float],
        *,
        top_k: int,
        filters: dict[str, Any] | None = None,
        exact: bool = False,
        with_embeddings: bool = False,
    ) -> list[ChunkHit]:
        del exact  # always exact
        parsed = parse_chunk_filters(filters)
        check_query_vector(vector)
        space = self._space(space_id)
        if space.dimensions is not None and space.dimensions != len(vector):
            raise ValidationError(
                f"knowledge space {space.name!r} holds {space.dimensions}-dimension vectors;"
                f" the query has {len(vector)}",
                extra={"space": space.name, "dimensions": space.dimensions},
            )
        if space.dimensions is None or top_k < 1:
            return []
        candidates = self._candidates(space_id, parsed)
        if not candidates:
            return []
        scores = await asyncio.to_thread(_cosines, [c.embedding for c in candidates], list(vector))
        ranked = sorted(
            zip(candidates, scores, strict=True),
            key=lambda cs: (math.isnan(cs[1]), -cs[1], cs[0].document_id, cs[0].ordinal),
        )
        return [self._hit(c, s, with_embedding=with_embeddings) for c, s in ranked[:top_k]]

    async def keyword_search(
        self, space_id: str, query: str, *, top_k: int, filters: dict[str, Any] | None = None
    ) -> list[ChunkHit]:
        parsed = parse_chunk_filters(filters)
        space = self._space(space_id)
        wanted = set(_terms(query, space.language))
        if not wanted or top_k < 1:
            return []
        everything = list(self._chunks[space_id].values())
        average = sum(c.length for c in everything) / max(len(everything), 1) or 1.0
        frequency = {t: sum(1 for c in everything if t in c.terms) for t in wanted}
        scored: list[tuple[_StoredChunk, float]] = []
        for c in self._candidates(space_id, parsed):
            score = 0.0
            for t in wanted & c.terms.keys():
                idf = math.log(1 + (len(everything) - frequency[t] + 0.5) / (frequency[t] + 0.5))
                tf = c.terms[t]
                score += idf * tf * (_K1 + 1) / (tf + _K1 * (1 - _B + _B * c.length / average))
            if score > 0:
                scored.append((c, score))
        scored.sort(key=lambda cs: (-cs[1], cs[0].document_id, cs[0].ordinal))
        return [self._hit(c, s) for c, s in scored[:top_k]]

    async def get_chunks(self, space_id: str, chunk_ids: Sequence[str]) -> list[Chunk]:
        self._space(space_id)
        stored = self._chunks[space_id]
        return [self._chunk(stored[i]) for i in dict.fromkeys(chunk_ids) if i in stored]


def _cosines(embeddings: list[list[float]], query: list[float]) -> list[float]:
    """Cosine similarity of each embedding with the query (NaN for a zero vector, as pgvector)."""
    matrix = np.asarray(embeddings, dtype=np.float64)
    q = np.asarray(query, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = (matrix @ q) / (np.linalg.norm(matrix, axis=1) * np.linalg.norm(q))
    return [float(s) for s in scores]
