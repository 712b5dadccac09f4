"""Search in ``PostgresKnowledgeStore``: nearest chunks (pgvector HNSW), keyword rank (``tsvector``), chunks by id.

A vector search inlines the space's validated size ``N`` (``WHERE dims = N ... ORDER BY embedding::vector(N) <=>
query``) so the planner can use that size's partial HNSW index, and sets (for its transaction only) pgvector's
iterative scan (``relaxed_order``, pgvector 0.8+) and ``hnsw.ef_search`` so that space and metadata filters,
applied while the index is walked, cannot starve the result; the outer query re-sorts by distance. ``exact``
turns index scans off (a full scan: for recall checks). Keyword search ORs the terms of ``plainto_tsquery`` in the
space's text search language and ranks with ``ts_rank``. A vector search sends its transaction's settings and query
in one pipelined exchange and reads the space only when no row came back (no space, another size, no vectors).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, LiteralString

import msgspec
import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from rivulet.lib.exceptions import NotFoundError, ValidationError
from rivulet.sdk.ports import Chunk
from rivulet.storage.base import ChunkHit
from rivulet.storage.knowledge_rules import check_query_vector, metadata_forms, parse_chunk_filters
from rivulet.storage.postgres import jsonb
from rivulet.storage.postgres.knowledge_graph import PostgresKnowledgeGraph

if TYPE_CHECKING:
    from collections.abc import Sequence

    from psycopg_pool import AsyncConnectionPool

    from rivulet.storage.knowledge_rules import ChunkFilter

__all__ = ("PostgresKnowledgeSearch", "VectorType", "vector_index_kind", "vector_text")

VectorType = Literal["vector", "halfvec"]
_HIT_COLUMNS = "c.id, c.document_id, c.text, c.metadata, c.source, d.name AS document"
_KEYWORD_RANK = "ts_rank"
"""Keyword rank: ``ts_rank`` (term frequency) found more of the bench's labelled answers than ``ts_rank_cd`` (cover
density) on ORed query terms — keyword recall@5 0.641 against 0.500 — and costs less per matching chunk."""
_MAX_EF_SEARCH = 1000  # pgvector's limit
_MIN_EF_SEARCH = 100
"""HNSW candidate list of a search (at least ``2 * top_k``): at 100,000 MiniLM-like 384-d chunks, recall@10 is 0.926
at pgvector's default 40 and 0.990 at 100 for ~3 ms more (bench/rag_bench.py, docs/knowledge.md)."""
_vector_encoder = msgspec.json.Encoder(enc_hook=float)
_vector_decoder = msgspec.json.Decoder(list[float])


def _space_not_found(space: str) -> NotFoundError:
    return NotFoundError(f"knowledge space {space!r} not found", extra={"space": space})


def vector_index_kind(dimensions: int) -> VectorType | None:
    """The type the HNSW index of this size uses (``halfvec`` above 2000 dimensions), or ``None`` (no index)."""
    if dimensions <= 2000:
        return "vector"
    if dimensions <= 4000:
        return "halfvec"
    return None


def vector_text(values: Sequence[float]) -> str:
    try:
        return _vector_encoder.encode(values if isinstance(values, list) else list(values)).decode()
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"an embedding holds a value that is not a number: {exc}") from None


def _chunk(row: dict[str, Any], score: float | None = None) -> Chunk:
    metadata = {**jsonb.restore(row["metadata"]), "document": row["document"]}
    return Chunk(
        id=row["id"],
        document_id=row["document_id"],
        text=row["text"],
        metadata=metadata,
        score=score,
        source=row["source"],
    )


def _filter_sql(space_id: str, filters: list[ChunkFilter]) -> tuple[sql.Composable, list[Any]]:
    """``AND ...`` conditions on ``kb_chunks c`` for the filters, and their parameters in order."""
    parts: list[sql.Composable] = []
    params: list[Any] = []
    for f in filters:
        if f.key == "document_id":
            parts.append(sql.SQL(" AND c.document_id = ANY(%s::text[])"))
            params.append(f.values)
        elif f.key == "source":
            parts.append(sql.SQL(" AND c.source = ANY(%s::text[])"))
            params.append(f.values)
        elif f.key == "document":
            parts.append(
                sql.SQL(
                    " AND c.document_id IN (SELECT k.id FROM kb_documents k WHERE k.space_id = %s"
                    " AND k.name = ANY(%s::text[]))"
                )
            )
            params.extend([space_id, f.values])
        else:
            parts.append(sql.SQL(" AND c.metadata @> ANY(%s::jsonb[])"))
            params.append([jsonb.dump(form) for value in f.values for form in metadata_forms(f.key, value)])
    return sql.Composed(parts), params


class PostgresKnowledgeSearch(PostgresKnowledgeGraph):
    """The search half of ``PostgresKnowledgeStore`` (which subclasses it)."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        super().__init__(pool)
        self._iterative_scan: bool | None = None

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
        rows = await self._vector_rows(space_id, vector, top_k, filters, exact=exact, with_embeddings=with_embeddings)
        return [
            ChunkHit(
                chunk=_chunk(row, 1.0 - float(row["distance"])),
                embedding=_vector_decoder.decode(row["embedding"]) if with_embeddings else None,
            )
            for row in rows
        ]

    async def explain_vector_search(
        self,
        space_id: str,
        vector: Sequence[float],
        *,
        top_k: int,
        filters: dict[str, Any] | None = None,
        exact: bool = False,
    ) -> str:
        """The query plan ``vector_search`` gets with these arguments (``EXPLAIN``: which index, if any)."""
        rows = await self._vector_rows(space_id, vector, top_k, filters, exact=exact, explain=True)
        return "\n".join(str(row["QUERY PLAN"]) for row in rows)

    async def _vector_rows(
        self,
        space_id: str,
        vector: Sequence[float],
        top_k: int,
        filters: dict[str, Any] | None,
        *,
        exact: bool,
        with_embeddings: bool = False,
        explain: bool = False,
    ) -> list[dict[str, Any]]:
        """Rows of the nearest-chunks query in one pipelined exchange (settings and query sent together).

        The query assumes the space holds vectors of the query's size; the space is only read when no row came
        back (no such space, another size, nothing embedded yet, or filters matching nothing).
        """
        conditions, params = _filter_sql(space_id, parse_chunk_filters(filters))
        check_query_vector(vector)
        query = vector_text(vector)
        dims = len(vector)
        if explain or top_k < 1:
            async with self._pool.connection() as conn:
                if await self._search_dimensions(conn, space_id, dims) is None or top_k < 1:
                    return []
        kind: VectorType | None = "vector" if exact else vector_index_kind(dims)
        if self._iterative_scan is None and not exact:
            await self._probe_iterative_scan()
        settings = self._scan_settings(top_k, exact=exact or kind is None)
        statement = _vector_sql(dims, kind or "vector", conditions, with_embeddings=with_embeddings)
        async with self._pool.connection() as conn:
            try:
                async with conn.pipeline(), conn.transaction():
                    await conn.execute(settings[0], settings[1])
                    cur = conn.cursor(row_factory=dict_row)
                    await cur.execute(
                        sql.SQL("EXPLAIN ") + statement if explain else statement, [query, space_id, *params, top_k]
                    )
                    rows = await cur.fetchall()
            except psycopg.errors.DataError as exc:
                raise ValidationError(f"the query vector was refused: {exc.diag.message_primary}") from None
            if not rows:
                await self._search_dimensions(conn, space_id, dims)  # raises for a missing space or another size
            return rows

    async def _search_dimensions(self, conn: psycopg.AsyncConnection[Any], space_id: str, size: int) -> int | None:
        cur = await conn.execute("SELECT name, dimensions FROM kb_spaces WHERE id = %s", (space_id,))
        row = await cur.fetchone()
        if row is None:
            raise _space_not_found(space_id)
        if row[1] is not None and row[1] != size:
            raise ValidationError(
                f"knowledge space {row[0]!r} holds {row[1]}-dimension vectors; the query has {size}",
                extra={"space": row[0], "dimensions": row[1]},
            )
        return row[1]

    async def _probe_iterative_scan(self) -> None:
        async with self._pool.connection() as conn:
            cur = await conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
            row = await cur.fetchone()
        version = tuple(int(p) for p in str(row[0]).split(".")[:2] if p.isdigit()) if row else ()
        self._iterative_scan = version >= (0, 8)

    def _scan_settings(self, top_k: int, *, exact: bool) -> tuple[LiteralString, tuple[str, ...]]:
        """Transaction-local planner settings: no index for ``exact``, else HNSW with an iterative scan.

        Iterative scans need pgvector 0.8+ (known once ``_probe_iterative_scan`` ran).
        """
        if exact:
            return "SELECT set_config('enable_indexscan', 'off', true)", ()
        ef_search = str(min(_MAX_EF_SEARCH, max(_MIN_EF_SEARCH, 2 * top_k)))
        if self._iterative_scan:
            return (
                (
                    "SELECT set_config('hnsw.ef_search', %s, true),"
                    " set_config('hnsw.iterative_scan', 'relaxed_order', true)"
                ),
                (ef_search,),
            )
        return "SELECT set_config('hnsw.ef_search', %s, true)", (ef_search,)

    async def keyword_search(
        self, space_id: str, query: str, *, top_k: int, filters: dict[str, Any] | None = None
    ) -> list[ChunkHit]:
        conditions, params = _filter_sql(space_id, parse_chunk_filters(filters))
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "SELECT replace(plainto_tsquery(language::regconfig, %s)::text, ' & ', ' | ') FROM kb_spaces"
                " WHERE id = %s",
                (query.replace("\x00", " "), space_id),
            )
            row = await cur.fetchone()
            if row is None:
                raise _space_not_found(space_id)
            if not row[0] or top_k < 1:
                return []
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                sql.SQL(
                    "SELECT {columns}, {rank}(c.tsv, q.query) AS rank"
                    " FROM (SELECT %s::tsquery AS query) q, kb_chunks c JOIN kb_documents d ON d.id = c.document_id"
                    " WHERE c.space_id = %s AND c.tsv @@ q.query{conditions}"
                    " ORDER BY rank DESC, c.document_id, c.ordinal LIMIT %s"
                ).format(columns=sql.SQL(_HIT_COLUMNS), rank=sql.SQL(_KEYWORD_RANK), conditions=conditions),
                [row[0], space_id, *params, top_k],
            )
            rows = await cur.fetchall()
        return [ChunkHit(chunk=_chunk(r, float(r["rank"]))) for r in rows]

    async def get_chunks(self, space_id: str, chunk_ids: Sequence[str]) -> list[Chunk]:
        async with self._pool.connection() as conn:
            await self._require_space(conn, space_id)
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                f"SELECT {_HIT_COLUMNS} FROM kb_chunks c JOIN kb_documents d ON d.id = c.document_id"
                " WHERE c.space_id = %s AND c.id = ANY(%s::text[])",
                (space_id, list(chunk_ids)),
            )
            found = {row["id"]: _chunk(row) for row in await cur.fetchall()}
        return [found[i] for i in dict.fromkeys(chunk_ids) if i in found]


def _vector_sql(dims: int, kind: VectorType, conditions: sql.Composable, *, with_embeddings: bool) -> sql.Composed:
    """The nearest-chunks query; ``dims`` (validated) is inlined so the partial HNSW index of that size applies.

    Parameters: the query vector, the space id, the filters' parameters, the limit. The outer ``ORDER BY``
    re-sorts what a relaxed-order iterative scan returned.
    """
    typed = sql.SQL("{kind}({d})").format(kind=sql.SQL(kind), d=sql.Literal(dims))
    return sql.SQL(
        "WITH hits AS MATERIALIZED (SELECT c.id, c.document_id, c.ordinal, c.text, c.metadata, c.source,"
        " {embedding} AS embedding, c.embedding::{typed} <=> %s::{typed} AS distance"
        " FROM kb_chunks c WHERE c.dims = {d} AND c.space_id = %s{conditions} ORDER BY distance LIMIT %s)"
        " SELECT h.*, d.name AS document FROM hits h JOIN kb_documents d ON d.id = h.document_id"
        " ORDER BY h.distance, h.document_id, h.ordinal"
    ).format(
        embedding=sql.SQL("c.embedding::text" if with_embeddings else "NULL::text"),
        typed=typed,
        d=sql.Literal(dims),
        conditions=conditions,
    )
