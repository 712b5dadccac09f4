"""``KnowledgeStore`` on PostgreSQL + pgvector: spaces, documents, chunks (HNSW + full text) and a knowledge graph.

Embeddings live in one ``vector`` column of any size; each space fixes its size (``set_dimensions``), which makes
(once per size) a partial HNSW index ``((embedding::vector(N)) vector_cosine_ops) WHERE dims = N``. A search
inlines the validated ``N`` so the planner can pick that index, and turns on pgvector's iterative scan so that
the space and metadata filters, applied while walking the graph, cannot starve the result. Above 2000 dimensions
(HNSW's limit for ``vector``) the index and the search use ``halfvec``; above 4000 there is no index.

Vectors travel as pgvector's text form (``'[1,2,3]'``), so no adapter has to be registered on the pool's connections.
Search is in ``knowledge_search.py``, the knowledge graph in ``knowledge_graph.py`` (the store's base classes).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import msgspec
import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from rivulet.lib.exceptions import ConflictError, NotFoundError, ValidationError
from rivulet.lib.ids import random_id
from rivulet.lib.log import get_logger
from rivulet.sdk.knowledge import DEFAULT_SPACE_LANGUAGE, ChunkingConfig
from rivulet.storage.base import DocumentRecord, SpaceRecord
from rivulet.storage.knowledge_rules import (
    check_chunk_dimensions,
    check_dimensions,
    check_name,
    check_no_nul,
    clean_error,
)
from rivulet.storage.postgres import jsonb
from rivulet.storage.postgres.knowledge_search import PostgresKnowledgeSearch, vector_index_kind, vector_text

if TYPE_CHECKING:
    from collections.abc import Sequence

    from psycopg_pool import AsyncConnectionPool

    from rivulet.storage.base import ChunkRow

__all__ = ("PostgresKnowledgeStore",)

_log = get_logger(__name__)

_SPACE_COLUMNS = (
    "s.id, s.name, s.description, s.embedding_model, s.dimensions, s.chunking, s.language, s.owner_id,"
    " s.workspace_id, s.created_at, s.updated_at,"
    " (SELECT count(*) FROM kb_documents d WHERE d.space_id = s.id)::int AS document_count,"
    " (SELECT coalesce(sum(d.chunk_count), 0) FROM kb_documents d WHERE d.space_id = s.id)::int AS chunk_count"
)
_DOCUMENT_COLUMNS = (
    "id, space_id, name, source, content_hash, status, error, chunk_count, size_bytes, metadata, created_at, updated_at"
)
_INDEX_LOCK_KEY = 0x52_49_4B_42  # "RIKB": one vector index build at a time


def _space_not_found(space: str) -> NotFoundError:
    return NotFoundError(f"knowledge space {space!r} not found", extra={"space": space})


def _document_not_found(space_id: str, document_id: str) -> NotFoundError:
    return NotFoundError(
        f"document {document_id!r} not found in knowledge space {space_id!r}",
        extra={"space": space_id, "document": document_id},
    )


def _space(row: dict[str, Any]) -> SpaceRecord:
    fields = {k: row[k] for k in SpaceRecord.__struct_fields__}
    fields["chunking"] = msgspec.convert(row["chunking"], ChunkingConfig)
    return SpaceRecord(**fields)


def _document(row: dict[str, Any]) -> DocumentRecord:
    return DocumentRecord(**{**row, "metadata": jsonb.restore(row["metadata"])})


def _copy_rows(space_id: str, document_id: str, source: str, chunks: Sequence[ChunkRow]) -> list[tuple[Any, ...]]:
    """The COPY rows of ``chunks`` (vectors as text; ``source``: the document's): CPU work for a worker thread."""
    return [
        (
            space_id,
            c.id,
            document_id,
            c.ordinal,
            c.text,
            jsonb.dump(c.metadata),
            c.source or source,
            vector_text(c.embedding),
        )
        for c in chunks
    ]


class PostgresKnowledgeStore(PostgresKnowledgeSearch):
    """A ``KnowledgeStore`` on a psycopg pool (autocommit connections)."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        super().__init__(pool)
        self._indexed: set[int] = set()

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
        config = msgspec.json.encode(chunking or ChunkingConfig()).decode()
        space_id = random_id()
        try:
            async with self._pool.connection() as conn, conn.transaction():
                await self._check_language(conn, language)
                await conn.execute(
                    "INSERT INTO kb_spaces (id, name, description, embedding_model, chunking, language, owner_id,"
                    " workspace_id) VALUES (%s, %s, %s, %s, %s::jsonb, %s, %s, %s)",
                    (space_id, name, description, embedding_model, config, language, owner_id, workspace_id),
                )
        except psycopg.errors.UniqueViolation:
            raise ConflictError(f"knowledge space {name!r} already exists", extra={"space": name}) from None
        except psycopg.errors.ForeignKeyViolation:
            raise NotFoundError(
                "no such owner or workspace", extra={"owner_id": owner_id, "workspace_id": workspace_id}
            ) from None
        return await self.get_space(space_id)

    @staticmethod
    async def _check_language(conn: psycopg.AsyncConnection[Any], language: str) -> None:
        cur = await conn.execute(
            "SELECT 1 FROM pg_ts_config WHERE cfgname = %s AND pg_ts_config_is_visible(oid)", (language,)
        )
        if await cur.fetchone() is None:
            cur = await conn.execute("SELECT string_agg(cfgname, ', ' ORDER BY cfgname) FROM pg_ts_config")
            row = await cur.fetchone()
            raise ValidationError(
                f"unknown text search language {language[:80]!r}; choose one of: {row[0] if row else ''}",
                extra={"language": language[:80]},
            )

    async def get_space(self, space: str) -> SpaceRecord:
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                f"SELECT {_SPACE_COLUMNS} FROM kb_spaces s WHERE s.id = %(s)s OR s.name = %(s)s"
                " ORDER BY s.id = %(s)s DESC LIMIT 1",
                {"s": space},
            )
            row = await cur.fetchone()
        if row is None:
            raise _space_not_found(space)
        return _space(row)

    async def list_spaces(self) -> list[SpaceRecord]:
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(f"SELECT {_SPACE_COLUMNS} FROM kb_spaces s ORDER BY s.name")
            return [_space(row) for row in await cur.fetchall()]

    async def update_space(
        self, space_id: str, *, description: str | None = None, chunking: ChunkingConfig | None = None
    ) -> SpaceRecord:
        check_no_nul(description=description)
        config = msgspec.json.encode(chunking).decode() if chunking is not None else None
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "UPDATE kb_spaces SET description = coalesce(%s, description),"
                " chunking = coalesce(%s::jsonb, chunking), updated_at = clock_timestamp() WHERE id = %s",
                (description, config, space_id),
            )
            if cur.rowcount == 0:
                raise _space_not_found(space_id)
        return await self.get_space(space_id)

    async def set_dimensions(self, space_id: str, dimensions: int) -> SpaceRecord:
        check_dimensions(dimensions)
        async with self._pool.connection() as conn, conn.transaction():
            cur = await conn.execute("SELECT name, dimensions FROM kb_spaces WHERE id = %s FOR UPDATE", (space_id,))
            row = await cur.fetchone()
            if row is None:
                raise _space_not_found(space_id)
            if row[1] != dimensions:
                cur = await conn.execute(
                    "SELECT dims FROM kb_chunks WHERE space_id = %s AND dims <> %s LIMIT 1", (space_id, dimensions)
                )
                held = await cur.fetchone()
                if held is not None:
                    raise ValidationError(
                        f"knowledge space {row[0]!r} holds {held[0]}-dimension vectors; it cannot take {dimensions}",
                        extra={"space": row[0], "dimensions": held[0]},
                    )
                await conn.execute(
                    "UPDATE kb_spaces SET dimensions = %s, updated_at = clock_timestamp() WHERE id = %s",
                    (dimensions, space_id),
                )
        await self._ensure_index(dimensions)
        return await self.get_space(space_id)

    async def _ensure_index(self, dimensions: int) -> None:
        """Make the partial HNSW index of this size once (a failure is logged: searches then scan the space)."""
        kind = vector_index_kind(dimensions)
        if kind is None or dimensions in self._indexed:
            return
        name = f"kb_chunks_hnsw_{dimensions}"
        statement = sql.SQL(
            "CREATE INDEX IF NOT EXISTS {name} ON kb_chunks USING hnsw ((embedding::{kind}({d})) {ops})"
            " WHERE dims = {d}"
        ).format(
            name=sql.Identifier(name), kind=sql.SQL(kind), d=sql.Literal(dimensions), ops=sql.SQL(f"{kind}_cosine_ops")
        )
        try:
            async with self._pool.connection() as conn:
                cur = await conn.execute("SELECT to_regclass(%s) IS NOT NULL", (name,))
                row = await cur.fetchone()
                if row is None or not row[0]:
                    async with conn.transaction():
                        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_INDEX_LOCK_KEY,))
                        await conn.execute(statement)
                    _log.info("vector index created", extra={"index": name, "type": kind})
        except psycopg.Error as exc:
            _log.warning(
                "vector index not created; searches of this size scan", extra={"index": name, "error": str(exc)}
            )
            return
        self._indexed.add(dimensions)

    async def delete_space(self, space_id: str) -> None:
        async with self._pool.connection() as conn:
            cur = await conn.execute("DELETE FROM kb_spaces WHERE id = %s", (space_id,))
            if cur.rowcount == 0:
                raise _space_not_found(space_id)

    # --- documents ------------------------------------------------------------------------------------------------

    async def get_document(self, space_id: str, name: str) -> DocumentRecord | None:
        async with self._pool.connection() as conn:
            await self._require_space(conn, space_id)
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                f"SELECT {_DOCUMENT_COLUMNS} FROM kb_documents WHERE space_id = %(s)s AND (name = %(n)s OR id = %(n)s)"
                " ORDER BY name = %(n)s DESC LIMIT 1",
                {"s": space_id, "n": name},
            )
            row = await cur.fetchone()
        return _document(row) if row is not None else None

    async def list_documents(self, space_id: str) -> list[DocumentRecord]:
        async with self._pool.connection() as conn:
            await self._require_space(conn, space_id)
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                f"SELECT {_DOCUMENT_COLUMNS} FROM kb_documents WHERE space_id = %s ORDER BY name", (space_id,)
            )
            return [_document(row) for row in await cur.fetchall()]

    async def begin_document(
        self, space_id: str, *, name: str, source: str = "", size_bytes: int = 0, metadata: dict[str, Any] | None = None
    ) -> DocumentRecord:
        check_name("document", name)
        check_no_nul(source=source)
        meta = jsonb.dump(metadata) if metadata is not None else None
        try:
            async with self._pool.connection() as conn:
                cur = conn.cursor(row_factory=dict_row)
                await cur.execute(
                    "INSERT INTO kb_documents (id, space_id, name, source, size_bytes, metadata)"
                    " VALUES (%s, %s, %s, %s, %s, coalesce(%s::jsonb, '{}'))"
                    " ON CONFLICT (space_id, name) DO UPDATE SET status = 'processing', error = NULL,"
                    " source = EXCLUDED.source, size_bytes = EXCLUDED.size_bytes,"
                    " metadata = coalesce(%s::jsonb, kb_documents.metadata), updated_at = clock_timestamp()"
                    f" RETURNING {_DOCUMENT_COLUMNS}",
                    (random_id(), space_id, name, source, size_bytes, meta, meta),
                )
                row = await cur.fetchone()
        except psycopg.errors.ForeignKeyViolation:
            raise _space_not_found(space_id) from None
        assert row is not None
        return _document(row)

    async def replace_document(
        self, space_id: str, document_id: str, *, content_hash: str, chunks: Sequence[ChunkRow]
    ) -> DocumentRecord:
        size = check_chunk_dimensions(document_id, [(c.id, len(c.embedding), c.text) for c in chunks])
        if size is not None and (await self._space_dimensions(space_id)) is None:
            await self.set_dimensions(space_id, size)
        label = document_id
        try:
            async with self._pool.connection() as conn, conn.transaction():
                label, source = await self._lock_document(conn, space_id, document_id, size)
                rows = await asyncio.to_thread(_copy_rows, space_id, document_id, source, chunks)
                await conn.execute("DELETE FROM kb_graph_edges WHERE document_id = %s", (document_id,))
                await conn.execute("DELETE FROM kb_chunks WHERE document_id = %s", (document_id,))
                async with conn.cursor().copy(
                    "COPY kb_chunks (space_id, id, document_id, ordinal, text, metadata, source, embedding) FROM STDIN"
                ) as copy:
                    for row in rows:
                        await copy.write_row(row)
                cur = conn.cursor(row_factory=dict_row)
                await cur.execute(
                    "UPDATE kb_documents SET status = 'ready', error = NULL, content_hash = %s, chunk_count = %s,"
                    f" updated_at = clock_timestamp() WHERE id = %s RETURNING {_DOCUMENT_COLUMNS}",
                    (content_hash, len(rows), document_id),
                )
                record = await cur.fetchone()
        except psycopg.errors.UniqueViolation as exc:
            raise ConflictError(
                f"document {label!r}: a chunk id is used twice in knowledge space {space_id!r}"
                f" ({exc.diag.message_detail})",
                extra={"space": space_id, "document": label},
            ) from None
        except psycopg.errors.DataError as exc:
            raise ValidationError(
                f"document {label!r}: a chunk was refused: {exc.diag.message_primary}",
                extra={"space": space_id, "document": label},
            ) from None
        assert record is not None
        return _document(record)

    async def _space_dimensions(self, space_id: str) -> int | None:
        async with self._pool.connection() as conn:
            cur = await conn.execute("SELECT dimensions FROM kb_spaces WHERE id = %s", (space_id,))
            row = await cur.fetchone()
        if row is None:
            raise _space_not_found(space_id)
        return row[0]

    async def _lock_document(
        self, conn: psycopg.AsyncConnection[Any], space_id: str, document_id: str, size: int | None
    ) -> tuple[str, str]:
        """Lock the document (and the space's size, against ``set_dimensions``); check the chunks' size.

        Returns the document's name and source.
        """
        cur = await conn.execute(
            "SELECT d.name, s.name, s.dimensions, d.source FROM kb_documents d JOIN kb_spaces s ON s.id = d.space_id"
            " WHERE d.id = %s AND d.space_id = %s FOR NO KEY UPDATE OF d FOR KEY SHARE OF s",
            (document_id, space_id),
        )
        row = await cur.fetchone()
        if row is None:
            await self._require_space(conn, space_id)
            raise _document_not_found(space_id, document_id)
        if size is not None and row[2] != size:
            raise ValidationError(
                f"document {row[0]!r}: its chunks have {size} dimensions but knowledge space {row[1]!r} takes {row[2]}",
                extra={"space": row[1], "document": row[0], "dimensions": row[2]},
            )
        return str(row[0]), str(row[3])

    async def fail_document(self, space_id: str, document_id: str, error: str) -> DocumentRecord:
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                "UPDATE kb_documents SET status = 'failed', error = %s, updated_at = clock_timestamp()"
                f" WHERE id = %s AND space_id = %s RETURNING {_DOCUMENT_COLUMNS}",
                (clean_error(error), document_id, space_id),
            )
            row = await cur.fetchone()
            if row is None:
                await self._require_space(conn, space_id)
                raise _document_not_found(space_id, document_id)
        return _document(row)

    async def delete_document(self, space_id: str, document_id: str) -> None:
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "DELETE FROM kb_documents WHERE id = %s AND space_id = %s", (document_id, space_id)
            )
            if cur.rowcount == 0:
                await self._require_space(conn, space_id)
                raise _document_not_found(space_id, document_id)
