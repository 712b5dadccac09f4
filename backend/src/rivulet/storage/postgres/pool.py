"""The connection pool and database facts (server version, pgvector)."""

from __future__ import annotations

import msgspec
import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import AsyncConnectionPool

from rivulet.lib.exceptions import ConfigError, StorageError

__all__ = ("DatabaseInfo", "check_database", "open_pool")


class DatabaseInfo(msgspec.Struct, frozen=True, kw_only=True):
    """What ``/api/health`` reports about the database."""

    server_version: str
    pgvector: str | None


async def open_pool(url: str, *, min_size: int = 1, max_size: int = 10, wait_s: float = 15.0) -> AsyncConnectionPool:
    """Open an autocommit pool and wait until one connection works.

    Raises:
        ConfigError: The database cannot be reached; the message names the URL's host (never its password).
    """
    pool: AsyncConnectionPool = AsyncConnectionPool(
        url, min_size=min_size, max_size=max_size, open=False, kwargs={"autocommit": True}, name="rivulet"
    )
    try:
        await pool.open(wait=True, timeout=wait_s)
    except (psycopg.OperationalError, TimeoutError) as exc:  # PoolTimeout subclasses OperationalError
        await pool.close()
        raise ConfigError(f"cannot connect to PostgreSQL at {_redact(url)}: {exc}") from exc
    return pool


def _redact(url: str) -> str:
    try:
        info = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "<unparseable url>"
    host = info.get("host") or "localhost"
    return f"host={host} port={info.get('port') or 5432} dbname={info.get('dbname') or ''}"


async def check_database(pool: AsyncConnectionPool) -> DatabaseInfo:
    """Read the server version and the installed pgvector version (``None`` if not installed).

    Raises:
        StorageError: The query failed (database down).
    """
    try:
        async with pool.connection(timeout=5) as conn:
            cur = await conn.execute(
                "SELECT current_setting('server_version'), "
                "(SELECT extversion FROM pg_extension WHERE extname = 'vector')"
            )
            row = await cur.fetchone()
    except (psycopg.Error, TimeoutError) as exc:
        raise StorageError(f"database unavailable: {exc}") from exc
    assert row is not None
    return DatabaseInfo(server_version=str(row[0]), pgvector=row[1])
