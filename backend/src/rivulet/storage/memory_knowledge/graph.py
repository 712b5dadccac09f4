"""The knowledge graph part of ``MemoryKnowledgeStore`` (entities compared case-insensitively, as on PostgreSQL)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rivulet.lib.exceptions import NotFoundError
from rivulet.storage.knowledge_rules import check_graph_query, clean_edge

if TYPE_CHECKING:
    from collections.abc import Sequence

    from rivulet.storage.base import DocumentRecord, GraphEdge

__all__ = ("MemoryKnowledgeGraph",)


class MemoryKnowledgeGraph:
    """The graph half of ``MemoryKnowledgeStore`` (which subclasses it and fills ``_documents`` and ``_edges``)."""

    def __init__(self) -> None:
        self._documents: dict[str, DocumentRecord] = {}
        self._edges: dict[str, list[GraphEdge]] = {}
        """Every space's facts in insertion order (a space without facts has an empty list)."""

    def _space_edges(self, space_id: str) -> list[GraphEdge]:
        try:
            return self._edges[space_id]
        except KeyError:
            raise NotFoundError(f"knowledge space {space_id!r} not found", extra={"space": space_id}) from None

    def _drop_edges(self, space_id: str, document_id: str) -> None:
        self._edges[space_id] = [e for e in self._edges[space_id] if e.document_id != document_id]

    async def add_graph_edges(self, space_id: str, edges: Sequence[GraphEdge]) -> int:
        cleaned = [clean_edge(e) for e in edges]
        stored = self._space_edges(space_id)
        missing = sorted(
            {
                e.document_id
                for e in cleaned
                if e.document_id is not None
                and (e.document_id not in self._documents or self._documents[e.document_id].space_id != space_id)
            }
        )
        if missing:
            raise NotFoundError(
                f"documents {missing!r} not found in knowledge space {space_id!r}",
                extra={"space": space_id, "documents": missing},
            )
        seen = {(e.subject, e.predicate, e.object, e.chunk_id or "") for e in stored}
        added = 0
        for e in cleaned:
            key = (e.subject, e.predicate, e.object, e.chunk_id or "")
            if key not in seen:
                seen.add(key)
                stored.append(e)
                added += 1
        return added

    async def find_entities(self, space_id: str, terms: Sequence[str], *, limit: int = 20) -> list[str]:
        stored = self._space_edges(space_id)
        wanted = {t.strip().lower() for t in terms if t.strip() and "\x00" not in t}
        if not wanted or limit < 1:
            return []
        degree: dict[str, int] = {}
        for e in stored:
            for name in {e.subject.lower(), e.object.lower()}:
                degree[name] = degree.get(name, 0) + 1
        best: dict[str, bool] = {}
        for name in (n for e in stored for n in (e.subject, e.object)):
            lowered = name.lower()
            if any(t in lowered for t in wanted):
                best[name] = best.get(name, False) or lowered in wanted
        ranked = sorted(best, key=lambda n: (not best[n], -degree[n.lower()], n))
        return ranked[:limit]

    async def neighbourhood(
        self, space_id: str, entities: Sequence[str], *, depth: int = 1, limit: int = 50
    ) -> list[GraphEdge]:
        check_graph_query(depth, limit)
        stored = self._space_edges(space_id)
        hops = {e.strip().lower(): 0 for e in entities if e.strip() and "\x00" not in e}
        frontier = set(hops)
        for hop in range(1, depth):
            reached: set[str] = set()
            for e in stored:
                ends = (e.subject.lower(), e.object.lower())
                if ends[0] in frontier:
                    reached.add(ends[1])
                if ends[1] in frontier:
                    reached.add(ends[0])
            frontier = reached - hops.keys()
            hops.update(dict.fromkeys(frontier, hop))
        touching = [
            (min(hops.get(e.subject.lower(), depth), hops.get(e.object.lower(), depth)), i, e)
            for i, e in enumerate(stored)
        ]
        return [e for hop, _, e in sorted(touching, key=lambda t: (t[0], t[1])) if hop < depth][:limit]
