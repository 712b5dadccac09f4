"""``ConversationStore`` on PostgreSQL: chat history per session id (``conversation_messages``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rivulet.sdk.ports import Message

if TYPE_CHECKING:
    from collections.abc import Sequence

    from psycopg_pool import AsyncConnectionPool

__all__ = ("PostgresConversationStore",)


class PostgresConversationStore:
    """Implements ``rivulet.sdk.models.ConversationStore``."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def history(self, session_id: str, limit: int) -> list[Message]:
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "SELECT role, content, name, tool_call_id FROM (SELECT * FROM conversation_messages"
                " WHERE session_id = %s ORDER BY id DESC LIMIT %s) recent ORDER BY id",
                (session_id, limit),
            )
            rows = await cur.fetchall()
        return [Message(role=r[0], content=r[1], name=r[2], tool_call_id=r[3]) for r in rows]

    async def append(self, session_id: str, messages: Sequence[Message]) -> None:
        if not messages:
            return
        async with self._pool.connection() as conn, conn.cursor() as cur:
            await cur.executemany(
                "INSERT INTO conversation_messages (session_id, role, content, name, tool_call_id)"
                " VALUES (%s, %s, %s, %s, %s)",
                [(session_id, m.role, m.content, m.name, m.tool_call_id) for m in messages],
            )

    async def clear(self, session_id: str) -> None:
        async with self._pool.connection() as conn:
            await conn.execute("DELETE FROM conversation_messages WHERE session_id = %s", (session_id,))

    async def drop_last_turn(self, session_id: str) -> int:
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "DELETE FROM conversation_messages WHERE session_id = %(s)s AND id >= (SELECT max(id)"
                " FROM conversation_messages WHERE session_id = %(s)s AND role = 'user')",
                {"s": session_id},
            )
            return cur.rowcount
