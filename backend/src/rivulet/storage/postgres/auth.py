"""Users, login tokens and API keys on PostgreSQL. Secrets are never stored, only their hashes."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

import msgspec
import psycopg
from psycopg.rows import dict_row

from rivulet.lib.exceptions import ConflictError, NotFoundError
from rivulet.security import Principal, hash_password, hash_token, new_api_key, new_token, verify_password
from rivulet.storage.base import ApiKeyRead, UserRead, WorkspaceRead

if TYPE_CHECKING:
    from psycopg_pool import AsyncConnectionPool

    from rivulet.security.permissions import Role

__all__ = ("PostgresAuthStore",)


def _user(row: dict[str, Any]) -> UserRead:
    role: Role = row["role"]
    return UserRead(
        id=row["id"], username=row["username"], role=role, is_admin=role == "admin", created_at=row["created_at"]
    )


def _key(row: dict[str, Any]) -> ApiKeyRead:
    return msgspec.convert({k: row[k] for k in ApiKeyRead.__struct_fields__}, ApiKeyRead)


_KEY_COLUMNS = "id, name, prefix, endpoints, rate_limit_per_minute, created_by, owner_id, created_at, revoked_at"
_USER_COLUMNS = "id, username, role, created_at"


async def _keep_an_admin(conn: psycopg.AsyncConnection[Any]) -> None:
    cur = await conn.execute("SELECT EXISTS (SELECT 1 FROM users WHERE role = 'admin')")
    row = await cur.fetchone()
    if not (row and row[0]):
        raise ConflictError("the last administrator cannot be removed or demoted")


class PostgresAuthStore:
    """``AuthStore``: accounts and credentials."""

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
                "INSERT INTO users (id, username, password_hash, role) VALUES (%s, %s, %s, 'admin')",
                (uuid.uuid4().hex, username, hash_password(secret)),
            )
        return generated

    async def create_user(self, username: str, password: str, *, role: Role = "editor") -> UserRead:
        """Create an account. Raises ``ConflictError`` when the name is taken."""
        try:
            async with self._pool.connection() as conn:
                cur = conn.cursor(row_factory=dict_row)
                await cur.execute(
                    "INSERT INTO users (id, username, password_hash, role) VALUES (%s, %s, %s, %s)"
                    f" RETURNING {_USER_COLUMNS}",
                    (uuid.uuid4().hex, username, hash_password(password), role),
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
            await cur.execute(f"SELECT {_USER_COLUMNS} FROM users ORDER BY username")
            return [_user(row) for row in await cur.fetchall()]

    async def set_role(self, user_id: str, role: Role) -> UserRead:
        """Change a user's role. Raises ``NotFoundError``; ``ConflictError`` when it would leave no administrator."""
        async with self._pool.connection() as conn, conn.transaction():
            await conn.execute("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE")
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(f"UPDATE users SET role = %s WHERE id = %s RETURNING {_USER_COLUMNS}", (role, user_id))
            row = await cur.fetchone()
            if row is None:
                raise NotFoundError(f"user {user_id!r} not found", extra={"user_id": user_id})
            await _keep_an_admin(conn)
        return _user(row)

    async def delete_user(self, user_id: str) -> None:
        """Delete an account with its sessions, tokens and API keys.

        Its flows stay, owned by nobody (administrators reach them). Raises ``NotFoundError``; ``ConflictError``
        for the last administrator.
        """
        async with self._pool.connection() as conn, conn.transaction():
            await conn.execute("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE")
            cur = await conn.execute("DELETE FROM users WHERE id = %s", (user_id,))
            if cur.rowcount == 0:
                raise NotFoundError(f"user {user_id!r} not found", extra={"user_id": user_id})
            await _keep_an_admin(conn)

    # -- workspaces -------------------------------------------------------------------------------------------

    async def create_workspace(self, name: str) -> WorkspaceRead:
        """A new, empty workspace. Raises ``ConflictError`` when the name is taken."""
        workspace_id = uuid.uuid4().hex
        try:
            async with self._pool.connection() as conn:
                await conn.execute("INSERT INTO workspaces (id, name) VALUES (%s, %s)", (workspace_id, name))
        except psycopg.errors.UniqueViolation as exc:
            raise ConflictError(f"workspace {name!r} already exists", extra={"name": name}) from exc
        return await self.get_workspace(workspace_id)

    async def list_workspaces(self, user_id: str | None = None) -> list[WorkspaceRead]:
        """Every workspace by name, or those ``user_id`` belongs to."""
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                "SELECT w.id, w.name, w.created_at, coalesce(json_agg(json_build_object("
                "'user_id', m.user_id, 'username', u.username, 'role', m.role) ORDER BY u.username)"
                " FILTER (WHERE m.user_id IS NOT NULL), '[]') AS members"
                " FROM workspaces w LEFT JOIN workspace_members m ON m.workspace_id = w.id"
                " LEFT JOIN users u ON u.id = m.user_id"
                " WHERE %(user)s::text IS NULL OR w.id IN"
                " (SELECT workspace_id FROM workspace_members WHERE user_id = %(user)s)"
                " GROUP BY w.id ORDER BY w.name",
                {"user": user_id},
            )
            rows = await cur.fetchall()
        return [msgspec.convert(row, WorkspaceRead) for row in rows]

    async def get_workspace(self, workspace_id: str) -> WorkspaceRead:
        """One workspace. Raises ``NotFoundError``."""
        found = [w for w in await self.list_workspaces() if w.id == workspace_id]
        if not found:
            raise NotFoundError(f"workspace {workspace_id!r} not found", extra={"workspace_id": workspace_id})
        return found[0]

    async def delete_workspace(self, workspace_id: str) -> None:
        """Delete a workspace (its flows stay with their owners). Raises ``NotFoundError``."""
        async with self._pool.connection() as conn:
            cur = await conn.execute("DELETE FROM workspaces WHERE id = %s", (workspace_id,))
        if cur.rowcount == 0:
            raise NotFoundError(f"workspace {workspace_id!r} not found", extra={"workspace_id": workspace_id})

    async def set_member(
        self, workspace_id: str, user_id: str, role: Literal["editor", "viewer"] | None
    ) -> WorkspaceRead:
        """Add, change (``role``) or remove (``None``) a member. Raises ``NotFoundError``."""
        try:
            async with self._pool.connection() as conn:
                if role is None:
                    await conn.execute(
                        "DELETE FROM workspace_members WHERE workspace_id = %s AND user_id = %s",
                        (workspace_id, user_id),
                    )
                else:
                    await conn.execute(
                        "INSERT INTO workspace_members (workspace_id, user_id, role) VALUES (%s, %s, %s)"
                        " ON CONFLICT (workspace_id, user_id) DO UPDATE SET role = excluded.role",
                        (workspace_id, user_id, role),
                    )
        except psycopg.errors.ForeignKeyViolation as exc:
            raise NotFoundError(
                "no such workspace or user", extra={"workspace_id": workspace_id, "user_id": user_id}
            ) from exc
        return await self.get_workspace(workspace_id)

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
                "SELECT t.kind, u.id, u.username, u.role, coalesce((SELECT array_agg(ARRAY[m.workspace_id, m.role])"
                " FROM workspace_members m WHERE m.user_id = u.id), '{}') FROM auth_tokens t"
                " JOIN users u ON u.id = t.user_id WHERE t.token_hash = %s AND t.expires_at > now()",
                (hash_token(secret),),
            )
            row = await cur.fetchone()
        if row is None:
            return None
        kind = "session" if row[0] == "session" else "token"
        workspaces = tuple((ws, member) for ws, member in row[4])
        return Principal(kind=kind, user_id=row[1], username=row[2], role=row[3], workspaces=workspaces)

    # -- API keys ---------------------------------------------------------------------------------------------

    async def create_api_key(
        self,
        name: str,
        endpoints: list[str],
        rate_limit_per_minute: int | None,
        created_by: str | None,
        owner_id: str | None = None,
    ) -> tuple[ApiKeyRead, str]:
        """A new API key owned by ``owner_id``: its metadata and the secret (returned once, never stored)."""
        secret = new_api_key()
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                "INSERT INTO api_keys"
                " (id, name, prefix, key_hash, endpoints, rate_limit_per_minute, created_by, owner_id)"
                f" VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING {_KEY_COLUMNS}",
                (
                    uuid.uuid4().hex,
                    name,
                    secret[:10],
                    hash_token(secret),
                    endpoints,
                    rate_limit_per_minute,
                    created_by,
                    owner_id,
                ),
            )
            row = await cur.fetchone()
        assert row is not None
        return _key(row), secret

    async def list_api_keys(self, owner_id: str | None = None) -> list[ApiKeyRead]:
        """Every key, or ``owner_id``'s, newest first (revoked ones included, marked)."""
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE %(owner)s::text IS NULL OR owner_id = %(owner)s"
                " ORDER BY created_at DESC",
                {"owner": owner_id},
            )
            return [_key(row) for row in await cur.fetchall()]

    async def get_api_key(self, key_id: str) -> ApiKeyRead:
        """One key. Raises ``NotFoundError``."""
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE id = %s", (key_id,))
            row = await cur.fetchone()
        if row is None:
            raise NotFoundError(f"API key {key_id!r} not found", extra={"key_id": key_id})
        return _key(row)

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
                "SELECT id, name, endpoints, rate_limit_per_minute, owner_id FROM api_keys"
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
            key_owner_id=row["owner_id"],
        )
