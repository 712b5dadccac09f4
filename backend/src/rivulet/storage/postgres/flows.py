"""``FlowStore`` on PostgreSQL: ``flows`` holds the head, ``flow_versions`` every immutable document."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import msgspec
import psycopg
from psycopg.rows import dict_row

from rivulet.compiler.flow import FlowDocument, encode_flow
from rivulet.lib.exceptions import ConflictError, NotFoundError
from rivulet.storage.base import FlowRecord, FlowScope, FlowSummary, FlowVersionInfo, FlowVersionRecord

if TYPE_CHECKING:
    from collections.abc import Collection, Sequence

    from psycopg_pool import AsyncConnectionPool

__all__ = ("PostgresFlowStore",)

_SUMMARY_COLUMNS = (
    "f.id, f.name, f.description, f.version, f.tags, f.node_count, f.created_at, f.updated_at, f.owner_id,"
    " f.workspace_id"
)
_flow_decoder = msgspec.json.Decoder(FlowDocument)


def _not_found(flow_id: str) -> NotFoundError:
    return NotFoundError(f"flow {flow_id!r} not found", extra={"flow_id": flow_id})


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _summary(row: dict[str, Any]) -> FlowSummary:
    return msgspec.convert({k: row[k] for k in FlowSummary.__struct_fields__}, FlowSummary)


class PostgresFlowStore:
    """A ``FlowStore`` on a psycopg pool."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def _append(
        self, conn: psycopg.AsyncConnection[Any], flow_id: str, version: int, doc: FlowDocument, message: str
    ) -> None:
        stamped = msgspec.structs.replace(doc, id=flow_id, version=version)
        await conn.execute(
            "INSERT INTO flow_versions (flow_id, version, message, document) VALUES (%s, %s, %s, %s::jsonb)",
            (flow_id, version, message, encode_flow(stamped).decode()),
        )

    async def _insert(
        self,
        conn: psycopg.AsyncConnection[Any],
        document: FlowDocument,
        message: str,
        owner_id: str | None,
        workspace_id: str | None = None,
    ) -> str:
        flow_id = document.id or str(uuid.uuid4())
        try:
            async with conn.transaction():
                await conn.execute(
                    "INSERT INTO flows (id, name, description, tags, node_count, version, owner_id, workspace_id)"
                    " VALUES (%s, %s, %s, %s, %s, 1, %s, %s)",
                    (
                        flow_id,
                        document.name,
                        document.description,
                        document.metadata.tags,
                        len(document.nodes),
                        owner_id,
                        workspace_id,
                    ),
                )
        except psycopg.errors.UniqueViolation:
            raise ConflictError(f"flow id {flow_id!r} already exists", extra={"flow_id": flow_id}) from None
        except psycopg.errors.ForeignKeyViolation:
            raise NotFoundError(
                "no such owner or workspace", extra={"owner_id": owner_id, "workspace_id": workspace_id}
            ) from None
        await self._append(conn, flow_id, 1, document, message)
        return flow_id

    async def create(
        self, document: FlowDocument, *, message: str = "", owner_id: str | None = None, workspace_id: str | None = None
    ) -> FlowRecord:
        async with self._pool.connection() as conn, conn.transaction():
            flow_id = await self._insert(conn, document, message, owner_id, workspace_id)
        return await self.get(flow_id)

    async def get(self, flow_id: str) -> FlowRecord:
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                f"SELECT {_SUMMARY_COLUMNS}, v.document::text AS document FROM flows f "
                "JOIN flow_versions v ON v.flow_id = f.id AND v.version = f.version WHERE f.id = %s",
                (flow_id,),
            )
            row = await cur.fetchone()
        if row is None:
            raise _not_found(flow_id)
        return FlowRecord(summary=_summary(row), document=_flow_decoder.decode(row["document"]))

    async def list(
        self, *, search: str | None = None, limit: int = 50, offset: int = 0, scope: FlowScope | None = None
    ) -> list[FlowSummary]:
        pattern = _like_pattern(search) if search else None
        params: dict[str, Any] = {"p": pattern, "limit": limit, "offset": offset, "scoped": scope is not None}
        params["user"] = scope.user_id if scope else None
        params["workspaces"] = list(scope.workspace_ids) if scope else []
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                f"SELECT {_SUMMARY_COLUMNS} FROM flows f WHERE (%(p)s::text IS NULL OR f.name ILIKE %(p)s)"
                " AND (NOT %(scoped)s OR f.owner_id = %(user)s OR f.workspace_id = ANY(%(workspaces)s::text[]))"
                " ORDER BY f.updated_at DESC, f.id DESC LIMIT %(limit)s OFFSET %(offset)s",
                params,
            )
            rows = await cur.fetchall()
        return [_summary(r) for r in rows]

    async def summaries(self, flow_ids: Collection[str]) -> list[FlowSummary]:
        if not flow_ids:
            return []
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(f"SELECT {_SUMMARY_COLUMNS} FROM flows f WHERE f.id = ANY(%s::text[])", (list(flow_ids),))
            rows = await cur.fetchall()
        return [_summary(r) for r in rows]

    async def set_workspace(self, flow_id: str, workspace_id: str | None) -> FlowSummary:
        try:
            async with self._pool.connection() as conn:
                cur = conn.cursor(row_factory=dict_row)
                await cur.execute(
                    f"UPDATE flows f SET workspace_id = %s WHERE f.id = %s RETURNING {_SUMMARY_COLUMNS}",
                    (workspace_id, flow_id),
                )
                row = await cur.fetchone()
        except psycopg.errors.ForeignKeyViolation:
            raise NotFoundError(f"workspace {workspace_id!r} not found", extra={"workspace_id": workspace_id}) from None
        if row is None:
            raise _not_found(flow_id)
        return _summary(row)

    async def _update(
        self,
        conn: psycopg.AsyncConnection[Any],
        flow_id: str,
        document: FlowDocument,
        base_version: int | None,
        message: str,
    ) -> None:
        cur = await conn.execute("SELECT version FROM flows WHERE id = %s FOR UPDATE", (flow_id,))
        row = await cur.fetchone()
        if row is None:
            raise _not_found(flow_id)
        latest: int = row[0]
        if base_version is not None and base_version != latest:
            raise ConflictError(
                f"flow {flow_id!r} is at version {latest}, not {base_version}; reload before saving",
                extra={"flow_id": flow_id, "latest_version": latest, "base_version": base_version},
            )
        await self._append(conn, flow_id, latest + 1, document, message)
        await conn.execute(
            "UPDATE flows SET name = %s, description = %s, tags = %s, node_count = %s, version = %s,"
            " updated_at = clock_timestamp() WHERE id = %s",
            (document.name, document.description, document.metadata.tags, len(document.nodes), latest + 1, flow_id),
        )

    async def save(
        self, flow_id: str, document: FlowDocument, *, base_version: int | None = None, message: str = ""
    ) -> FlowRecord:
        async with self._pool.connection() as conn, conn.transaction():
            await self._update(conn, flow_id, document, base_version, message)
        return await self.get(flow_id)

    async def write_many(
        self,
        creates: Sequence[FlowDocument],
        updates: Sequence[tuple[str, FlowDocument]] = (),
        *,
        message: str = "",
        owner_id: str | None = None,
    ) -> list[FlowRecord]:
        ids: list[str] = []
        async with self._pool.connection() as conn, conn.transaction():
            ids.extend([await self._insert(conn, document, message, owner_id) for document in creates])
            for flow_id, document in updates:
                await self._update(conn, flow_id, document, None, message)
                ids.append(flow_id)
        return [await self.get(flow_id) for flow_id in ids]

    async def delete(self, flow_id: str) -> None:
        async with self._pool.connection() as conn:
            cur = await conn.execute("DELETE FROM flows WHERE id = %s", (flow_id,))
            if cur.rowcount == 0:
                raise _not_found(flow_id)

    async def list_versions(self, flow_id: str) -> list[FlowVersionInfo]:
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                "SELECT flow_id, version, message, created_at FROM flow_versions WHERE flow_id = %s"
                " ORDER BY version DESC",
                (flow_id,),
            )
            rows = await cur.fetchall()
        if not rows:
            raise _not_found(flow_id)
        return [msgspec.convert(r, FlowVersionInfo) for r in rows]

    async def get_version(self, flow_id: str, version: int) -> FlowVersionRecord:
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                "SELECT flow_id, version, message, created_at, document::text AS document FROM flow_versions"
                " WHERE flow_id = %s AND version = %s",
                (flow_id, version),
            )
            row = await cur.fetchone()
        if row is None:
            raise NotFoundError(
                f"flow {flow_id!r} has no version {version}", extra={"flow_id": flow_id, "version": version}
            )
        info = FlowVersionInfo(
            flow_id=row["flow_id"], version=row["version"], message=row["message"], created_at=row["created_at"]
        )
        return FlowVersionRecord(info=info, document=_flow_decoder.decode(row["document"]))
