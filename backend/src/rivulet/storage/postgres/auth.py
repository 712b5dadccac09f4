"""Users, login tokens and API keys on PostgreSQL. Secrets are never stored, only their hashes."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import msgspec
import psycopg
from psycopg.rows import dict_row

from rivulet.lib.exceptions import ConflictError, NotFoundError
from rivulet.security import Principal, hash_password, hash_token, new_api_key, new_token, verify_password

if TYPE_CHECKING:
    from psycopg_pool import AsyncConnectionPool

__all__ = ("ApiKeyRead", "AuthStore", "UserRead")


class UserRead(msgspec.Struct, frozen=True, kw_only=True):
    """A user account (never its password hash)."""

    id: str
    username: str
    is_admin: bool
    created_at: datetime


class ApiKeyRead(msgspec.Struct, frozen=True, kw_only=True):
    """An API key's metadata; the secret itself is shown once, at creation."""

    id: str
    name: str
    prefix: str
    """The first characters of the key, to recognise it."""
    endpoints: list[str]
    """Slugs it may call; empty means every endpoint."""
    rate_limit_per_minute: int | None
    created_by: str | None
    created_at: datetime
    revoked_at: datetime | None = None


def _user(row: dict[str, Any]) -> UserRead:
    return UserRead(id=row["id"], username=row["username"], is_admin=row["is_admin"], created_at=row["created_at"])


def _key(row: dict[str, Any]) -> ApiKeyRead:
    return msgspec.convert({k: row[k] for k in ApiKeyRead.__struct_fields__}, ApiKeyRead)


_KEY_COLUMNS = "id, name, prefix, endpoints, rate_limit_per_minute, created_by, created_at, revoked_at"


class AuthStore:
    """Accounts and credentials."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    # -- users ------------------------------------------------------------------------------------------------

    async def ensure_admin(self, username: str, password: str | None) -> str | None:
        """Create the first administrator when no user exists.

        Returns:
            The generated one-time password when this call created the admin without a configured password,
            else ``None`` (users existed, another replica won the race, or ``password`` was given).
        """
        generated = None if password else secrets.token_urlsafe(12)
        secret = password or generated or ""
        async with self._pool.connection() as conn, conn.transaction():
            await conn.execute("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE")
            cur = await conn.execute("SELECT EXISTS (SELECT 1 FROM users)")
            row = await cur.fetchone()
            if row and row[0]:
                return None
            await conn.execute(
                "INSERT INTO users (id, username, password_hash, is_admin) VALUES (%s, %s, %s, true)",
                (uuid.uuid4().hex, username, hash_password(secret)),
            )
        return generated

    async def create_user(self, username: str, password: str, *, is_admin: bool = False) -> UserRead:
        """Create an account. Raises ``ConflictError`` when the name is taken."""
        try:
            async with self._pool.connection() as conn:
                cur = conn.cursor(row_factory=dict_row)
                await cur.execute(
                    "INSERT INTO users (id, username, password_hash, is_admin) VALUES (%s, %s, %s, %s)"
                    " RETURNING id, username, is_admin, created_at",
                    (uuid.uuid4().hex, username, hash_password(password), is_admin),
                )
                row = await cur.fetchone()
        except psycopg.errors.UniqueViolation as exc:
            raise ConflictError(f"user {username!r} already exists", extra={"username": username}) from exc
        assert row is not None
        return _user(row)

    async def list_users(self) -> list[UserRead]:
        """Every account, by name."""
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute("SELECT id, username, is_admin, created_at FROM users ORDER BY username")
            return [_user(row) for row in await cur.fetchall()]

    async def check_password(self, username: str, password: str) -> UserRead | None:
        """The user when ``password`` is right, else ``None`` (same work either way)."""
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute("SELECT * FROM users WHERE username = %s", (username,))
            row = await cur.fetchone()
        stored = row["password_hash"] if row else hash_password("timing-equaliser")
        ok = verify_password(password, stored)
        return _user(row) if row and ok else None

    # -- login tokens -----------------------------------------------------------------------------------------

    async def issue_token(self, user_id: str, kind: str, ttl: timedelta) -> tuple[str, datetime]:
        """A new session/token secret for ``user_id`` and its expiry."""
        secret = new_token()
        expires = datetime.now(UTC) + ttl
        async with self._pool.connection() as conn:
            await conn.execute(
                "INSERT INTO auth_tokens (token_hash, user_id, kind, expires_at) VALUES (%s, %s, %s, %s)",
                (hash_token(secret), user_id, kind, expires),
            )
        return secret, expires

    async def change_password(self, user_id: str, password: str, *, keep_token: str | None) -> int:
        """Set a new password and revoke every session and token of the user except ``keep_token``.

        Returns:
            How many sessions/tokens were revoked.
        """
        keep = None if keep_token is None else hash_token(keep_token)
        async with self._pool.connection() as conn, conn.transaction():
            await conn.execute("UPDATE users SET password_hash = %s WHERE id = %s", (hash_password(password), user_id))
            cur = await conn.execute(
                "DELETE FROM auth_tokens WHERE user_id = %s AND (%s::text IS NULL OR token_hash <> %s)",
                (user_id, keep, keep),
            )
            return cur.rowcount

    async def revoke_token(self, secret: str) -> None:
        """Forget a session/token (logout)."""
        async with self._pool.connection() as conn:
            await conn.execute("DELETE FROM auth_tokens WHERE token_hash = %s", (hash_token(secret),))

    async def principal_for_token(self, secret: str) -> Principal | None:
        """The user behind a valid, unexpired login token or session."""
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "SELECT t.kind, u.id, u.username, u.is_admin FROM auth_tokens t JOIN users u ON u.id = t.user_id"
                " WHERE t.token_hash = %s AND t.expires_at > now()",
                (hash_token(secret),),
            )
            row = await cur.fetchone()
        if row is None:
            return None
        kind = "session" if row[0] == "session" else "token"
        return Principal(kind=kind, user_id=row[1], username=row[2], is_admin=row[3])

    # -- API keys ---------------------------------------------------------------------------------------------

    async def create_api_key(
        self, name: str, endpoints: list[str], rate_limit_per_minute: int | None, created_by: str | None
    ) -> tuple[ApiKeyRead, str]:
        """A new API key: its metadata and the secret (returned once, never stored)."""
        secret = new_api_key()
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                "INSERT INTO api_keys (id, name, prefix, key_hash, endpoints, rate_limit_per_minute, created_by)"
                f" VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING {_KEY_COLUMNS}",
                (uuid.uuid4().hex, name, secret[:10], hash_token(secret), endpoints, rate_limit_per_minute, created_by),
            )
            row = await cur.fetchone()
        assert row is not None
        return _key(row), secret

    async def list_api_keys(self) -> list[ApiKeyRead]:
        """Every key, newest first (revoked ones included, marked)."""
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(f"SELECT {_KEY_COLUMNS} FROM api_keys ORDER BY created_at DESC")
            return [_key(row) for row in await cur.fetchall()]

    async def revoke_api_key(self, key_id: str) -> ApiKeyRead:
        """Revoke a key (idempotent). Raises ``NotFoundError``."""
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                f"UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = %s RETURNING {_KEY_COLUMNS}",
                (key_id,),
            )
            row = await cur.fetchone()
        if row is None:
            raise NotFoundError(f"API key {key_id!r} not found", extra={"key_id": key_id})
        return _key(row)

    async def principal_for_key(self, secret: str) -> Principal | None:
        """The API key behind ``secret`` unless it is unknown or revoked."""
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                "SELECT id, name, endpoints, rate_limit_per_minute FROM api_keys"
                " WHERE key_hash = %s AND revoked_at IS NULL",
                (hash_token(secret),),
            )
            row = await cur.fetchone()
        if row is None:
            return None
        return Principal(
            kind="api_key",
            key_id=row["id"],
            key_name=row["name"],
            endpoints=tuple(row["endpoints"]),
            rate_limit_per_minute=row["rate_limit_per_minute"],
        )
