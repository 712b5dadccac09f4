"""Secrets in PostgreSQL, encrypted with a ``SecretBox`` (AES-GCM); values are write-only through the API."""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec
from psycopg.rows import dict_row

from rivulet.lib.exceptions import NotFoundError
from rivulet.lib.redact import secret_redactor
from rivulet.storage.base import SecretInfo

if TYPE_CHECKING:
    from psycopg_pool import AsyncConnectionPool

    from rivulet.lib.secrets import SecretBox

__all__ = ("PostgresSecretStore",)


class PostgresSecretStore:
    """``SecretStore``: set, list, delete and (for the runtime only) decrypt secrets."""

    def __init__(self, pool: AsyncConnectionPool, box: SecretBox) -> None:
        self._pool = pool
        self._box = box

    async def list(self) -> list[SecretInfo]:
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute("SELECT name, created_at, updated_at FROM secrets ORDER BY name")
            rows = await cur.fetchall()
        return [msgspec.convert(row, SecretInfo) for row in rows]

    async def set(self, name: str, value: str) -> SecretInfo:
        blob = self._box.encrypt(name, value)
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                "INSERT INTO secrets (name, ciphertext) VALUES (%s, %s) ON CONFLICT (name) DO UPDATE"
                " SET ciphertext = EXCLUDED.ciphertext, updated_at = clock_timestamp()"
                " RETURNING name, created_at, updated_at",
                (name, blob),
            )
            row = await cur.fetchone()
        assert row is not None
        return msgspec.convert(row, SecretInfo)

    async def delete(self, name: str) -> None:
        async with self._pool.connection() as conn:
            cur = await conn.execute("DELETE FROM secrets WHERE name = %s", (name,))
            if cur.rowcount == 0:
                raise NotFoundError(f"secret {name!r} not found", extra={"secret": name})

    async def reveal(self, name: str) -> str:
        """The decrypted value (``ctx.secret``, model API keys). Raises ``NotFoundError``.

        The value is registered with the process's redactor: from now on it is blanked in errors and logs.
        """
        async with self._pool.connection() as conn:
            cur = await conn.execute("SELECT ciphertext FROM secrets WHERE name = %s", (name,))
            row = await cur.fetchone()
        if row is None:
            raise NotFoundError(f"secret {name!r} not found", extra={"secret": name})
        value = self._box.decrypt(name, bytes(row[0]))
        secret_redactor().add(value)
        return value
