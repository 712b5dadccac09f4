"""The knowledge graph part of ``PostgresKnowledgeStore``: facts in ``kb_graph_edges``, entity lookup, neighbourhoods.

Entities are the subjects and objects of a space's facts, compared case-insensitively (``lower()``, indexed; the
substring match uses pg_trgm's indexes where the migration could install it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rivulet.lib.exceptions import NotFoundError
from rivulet.storage.base import GraphEdge
from rivulet.storage.knowledge_rules import check_graph_query, clean_edge

if TYPE_CHECKING:
    from collections.abc import Sequence

    import psycopg
    from psycopg_pool import AsyncConnectionPool

__all__ = ("PostgresKnowledgeGraph",)

_FIND_ENTITIES = """
WITH t AS (SELECT DISTINCT lower(x) AS term, lower(p) AS pattern FROM unnest(%(terms)s::text[], %(patterns)s::text[])
           AS u(x, p)),
m AS (
    SELECT e.subject AS name, lower(e.subject) = t.term AS exact FROM t JOIN kb_graph_edges e
        ON e.space_id = %(space)s AND lower(e.subject) LIKE t.pattern
    UNION ALL
    SELECT e.object, lower(e.object) = t.term FROM t JOIN kb_graph_edges e
        ON e.space_id = %(space)s AND lower(e.object) LIKE t.pattern
),
best AS (SELECT name, bool_or(exact) AS exact FROM m GROUP BY name)
SELECT b.name, b.exact,
    (SELECT count(*) FROM kb_graph_edges g WHERE g.space_id = %(space)s
        AND (lower(g.subject) = lower(b.name) OR lower(g.object) = lower(b.name))) AS degree
FROM best b ORDER BY b.exact DESC, degree DESC, b.name LIMIT %(limit)s
"""

_NEIGHBOURHOOD = """
WITH RECURSIVE walk(node, hop) AS (
    SELECT DISTINCT lower(x), 0 FROM unnest(%(entities)s::text[]) x
    UNION
    SELECT CASE WHEN lower(e.subject) = w.node THEN lower(e.object) ELSE lower(e.subject) END, w.hop + 1
    FROM walk w JOIN kb_graph_edges e
        ON e.space_id = %(space)s AND (lower(e.subject) = w.node OR lower(e.object) = w.node)
    WHERE w.hop + 1 < %(depth)s
),
nodes AS (SELECT node, min(hop) AS hop FROM walk GROUP BY node),
touching AS (
    SELECT e.id, n.hop FROM nodes n JOIN kb_graph_edges e ON e.space_id = %(space)s AND lower(e.subject) = n.node
    UNION ALL
    SELECT e.id, n.hop FROM nodes n JOIN kb_graph_edges e ON e.space_id = %(space)s AND lower(e.object) = n.node
),
best AS (SELECT id, min(hop) AS hop FROM touching GROUP BY id)
SELECT e.subject, e.predicate, e.object, e.chunk_id, e.document_id
FROM best b JOIN kb_graph_edges e ON e.id = b.id ORDER BY b.hop, e.id LIMIT %(limit)s
"""


def _like_pattern(term: str) -> str:
    """``%term%`` for ``LIKE``, the term's wildcards and backslashes taken literally."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class PostgresKnowledgeGraph:
    """The graph half of ``PostgresKnowledgeStore`` (which subclasses it)."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    @staticmethod
    async def _require_space(conn: psycopg.AsyncConnection[Any], space_id: str) -> None:
        cur = await conn.execute("SELECT 1 FROM kb_spaces WHERE id = %s", (space_id,))
        if await cur.fetchone() is None:
            raise NotFoundError(f"knowledge space {space_id!r} not found", extra={"space": space_id})

    async def add_graph_edges(self, space_id: str, edges: Sequence[GraphEdge]) -> int:
        cleaned = [clean_edge(e) for e in edges]
        documents = sorted({e.document_id for e in cleaned if e.document_id is not None})
        async with self._pool.connection() as conn, conn.transaction():
            await self._require_space(conn, space_id)
            cur = await conn.execute(
                "SELECT array_agg(x) FROM unnest(%s::text[]) x"
                " WHERE NOT EXISTS (SELECT 1 FROM kb_documents d WHERE d.id = x AND d.space_id = %s)",
                (documents, space_id),
            )
            row = await cur.fetchone()
            if row is not None and row[0]:
                raise NotFoundError(
                    f"documents {row[0]!r} not found in knowledge space {space_id!r}",
                    extra={"space": space_id, "documents": row[0]},
                )
            if not cleaned:
                return 0
            cur = await conn.execute(
                "INSERT INTO kb_graph_edges (space_id, subject, predicate, object, chunk_id, document_id)"
                " SELECT %s, * FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[])"
                " ON CONFLICT DO NOTHING",
                (
                    space_id,
                    [e.subject for e in cleaned],
                    [e.predicate for e in cleaned],
                    [e.object for e in cleaned],
                    [e.chunk_id for e in cleaned],
                    [e.document_id for e in cleaned],
                ),
            )
            return cur.rowcount

    async def find_entities(self, space_id: str, terms: Sequence[str], *, limit: int = 20) -> list[str]:
        wanted = [t.strip() for t in terms if t.strip() and "\x00" not in t]
        async with self._pool.connection() as conn:
            await self._require_space(conn, space_id)
            if not wanted or limit < 1:
                return []
            cur = await conn.execute(
                _FIND_ENTITIES,
                {"terms": wanted, "patterns": [_like_pattern(t) for t in wanted], "space": space_id, "limit": limit},
            )
            return [row[0] for row in await cur.fetchall()]

    async def neighbourhood(
        self, space_id: str, entities: Sequence[str], *, depth: int = 1, limit: int = 50
    ) -> list[GraphEdge]:
        check_graph_query(depth, limit)
        names = [e.strip() for e in entities if e.strip() and "\x00" not in e]
        async with self._pool.connection() as conn:
            await self._require_space(conn, space_id)
            if not names:
                return []
            cur = await conn.execute(
                _NEIGHBOURHOOD, {"entities": names, "space": space_id, "depth": depth, "limit": limit}
            )
            rows = await cur.fetchall()
        return [GraphEdge(subject=r[0], predicate=r[1], object=r[2], chunk_id=r[3], document_id=r[4]) for r in rows]
