"""Chat apps, their share tokens, conversations, messages and feedback on PostgreSQL.

Tables from migration ``0010_apps.sql``. A share token is only ever stored as its hash (``token_hash``, unique)
with its first characters (``prefix``); ``extras`` are ``jsonb`` (NUL characters survive through
``jsonb.dump``/``restore``). A conversation's ``message_count`` and ``updated_at`` change in the same statement
that adds or deletes a message, and messages are ordered by ``seq`` (an identity column), never by time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import msgspec
import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from rivulet.lib.exceptions import NotFoundError, ValidationError
from rivulet.lib.ids import random_id
from rivulet.security import hash_token, new_app_token
from rivulet.storage.app_rules import (
    APP_FEEDBACK,
    APP_MESSAGE_STATUSES,
    APP_ROLES,
    TOKEN_PREFIX_LENGTH,
    USED_MARK_SECONDS,
    app_not_found,
    check_app_changes,
    check_app_fields,
    check_choice,
    check_no_nul,
    check_rate_limit,
    clean_text,
    conversation_not_found,
    message_not_found,
    slug_taken,
    token_not_found,
)
from rivulet.storage.base import AppMessage, AppRecord, AppTokenRead, ConversationRecord
from rivulet.storage.postgres import jsonb

if TYPE_CHECKING:
    from collections.abc import Sequence

    from psycopg_pool import AsyncConnectionPool

    from rivulet.storage.base import AppFeedback, AppMessageStatus

__all__ = ("PostgresAppStore",)

_APP_COLUMNS = (
    "id, slug, flow_id, flow_version, title, description, suggested_questions, message_input, session_input,"
    " enabled, owner_id, workspace_id, created_at, updated_at"
)
_TOKEN_COLUMNS = "id, app_id, name, prefix, rate_limit_per_minute, created_by, created_at, revoked_at, last_used_at"  # noqa: S105
_RESOLVE_COLUMNS = (
    "t.id, t.app_id, t.name, t.prefix, t.rate_limit_per_minute, t.created_by, t.created_at, t.revoked_at,"
    " t.last_used_at, a.id AS app__id, a.slug AS app__slug, a.flow_id AS app__flow_id,"
    " a.flow_version AS app__flow_version, a.title AS app__title, a.description AS app__description,"
    " a.suggested_questions AS app__suggested_questions, a.message_input AS app__message_input,"
    " a.session_input AS app__session_input, a.enabled AS app__enabled, a.owner_id AS app__owner_id,"
    " a.workspace_id AS app__workspace_id, a.created_at AS app__created_at, a.updated_at AS app__updated_at"
)
_CONVERSATION_COLUMNS = "id, app_id, subject, title, message_count, created_at, updated_at"
_MESSAGE_COLUMNS = "id, conversation_id, role, content, status, run_id, extras, feedback, feedback_comment, created_at"
_M_MESSAGE_COLUMNS = (
    "m.id, m.conversation_id, m.role, m.content, m.status, m.run_id, m.extras, m.feedback, m.feedback_comment,"
    " m.created_at"
)


def _app(row: dict[str, Any]) -> AppRecord:
    fields: dict[str, Any] = dict(row)
    fields["suggested_questions"] = list(row["suggested_questions"])
    return AppRecord(**fields)


def _message(row: dict[str, Any]) -> AppMessage:
    fields: dict[str, Any] = dict(row)
    fields["extras"] = jsonb.restore(row["extras"])
    return AppMessage(**fields)


def _bad_reference(flow_id: str | None, owner_id: str | None, workspace_id: str | None) -> NotFoundError:
    return NotFoundError(
        "no such flow, owner or workspace",
        extra={"flow_id": flow_id, "owner_id": owner_id, "workspace_id": workspace_id},
    )


class PostgresAppStore:
    """An ``AppStore`` on a psycopg pool (autocommit connections)."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    # -- apps -------------------------------------------------------------------------------------------------

    async def create_app(
        self,
        *,
        slug: str,
        flow_id: str,
        title: str,
        flow_version: int | None = None,
        description: str = "",
        suggested_questions: Sequence[str] = (),
        message_input: str = "message",
        session_input: str | None = "session_id",
        owner_id: str | None = None,
        workspace_id: str | None = None,
    ) -> AppRecord:
        questions = list(suggested_questions)
        check_app_fields(
            slug=slug,
            title=title,
            description=description,
            suggested_questions=questions,
            message_input=message_input,
            session_input=session_input,
            flow_id=flow_id,
            owner_id=owner_id,
            workspace_id=workspace_id,
        )
        try:
            async with self._pool.connection() as conn:
                cur = conn.cursor(row_factory=dict_row)
                await cur.execute(
                    "INSERT INTO apps (id, slug, flow_id, flow_version, title, description, suggested_questions,"
                    " message_input, session_input, owner_id, workspace_id)"
                    f" VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING {_APP_COLUMNS}",
                    (
                        random_id(),
                        slug,
                        flow_id,
                        flow_version,
                        title,
                        description,
                        questions,
                        message_input,
                        session_input,
                        owner_id,
                        workspace_id,
                    ),
                )
                row = await cur.fetchone()
        except psycopg.errors.UniqueViolation:
            raise slug_taken(slug) from None
        except psycopg.errors.ForeignKeyViolation:
            raise _bad_reference(flow_id, owner_id, workspace_id) from None
        assert row is not None
        return _app(row)

    async def get_app(self, app_id: str) -> AppRecord:
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(f"SELECT {_APP_COLUMNS} FROM apps WHERE id = %s", (app_id,))
            row = await cur.fetchone()
        if row is None:
            raise app_not_found(app_id)
        return _app(row)

    async def get_app_by_slug(self, slug: str) -> AppRecord:
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(f"SELECT {_APP_COLUMNS} FROM apps WHERE slug = %s", (slug,))
            row = await cur.fetchone()
        if row is None:
            raise app_not_found(slug)
        return _app(row)

    async def list_apps(self, *, flow_id: str | None = None) -> list[AppRecord]:
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                f"SELECT {_APP_COLUMNS} FROM apps WHERE (%(flow)s::text IS NULL OR flow_id = %(flow)s)"
                ' ORDER BY slug COLLATE "C"',
                {"flow": flow_id},
            )
            return [_app(row) for row in await cur.fetchall()]

    async def update_app(self, app_id: str, **changes: Any) -> AppRecord:
        check_app_changes(changes)
        if "suggested_questions" in changes:
            changes["suggested_questions"] = list(changes["suggested_questions"])
        async with self._pool.connection() as conn, conn.transaction():
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(f"SELECT {_APP_COLUMNS} FROM apps WHERE id = %s FOR UPDATE", (app_id,))
            row = await cur.fetchone()
            if row is None:
                raise app_not_found(app_id)
            merged = {**msgspec.structs.asdict(_app(row)), **changes}
            check_app_fields(**{k: merged[k] for k in _CHECKED_FIELDS})
            assignments = sql.SQL(", ").join(
                sql.SQL("{} = {}").format(sql.Identifier(field), sql.Placeholder(field)) for field in sorted(changes)
            )
            query = sql.SQL(
                "UPDATE apps SET {assignments}, updated_at = clock_timestamp() WHERE id = {id} RETURNING {columns}"
            ).format(assignments=assignments, id=sql.Placeholder("_id"), columns=sql.SQL(_APP_COLUMNS))
            try:
                await cur.execute(query, {**changes, "_id": app_id})
            except psycopg.errors.UniqueViolation:
                raise slug_taken(str(changes.get("slug"))) from None
            except psycopg.errors.ForeignKeyViolation:
                raise _bad_reference(merged["flow_id"], merged["owner_id"], merged["workspace_id"]) from None
            except psycopg.errors.DataError as exc:
                raise ValidationError(f"an app field has the wrong type: {exc}") from None
            updated = await cur.fetchone()
        assert updated is not None
        return _app(updated)

    async def delete_app(self, app_id: str) -> None:
        async with self._pool.connection() as conn:
            cur = await conn.execute("DELETE FROM apps WHERE id = %s", (app_id,))
            if cur.rowcount == 0:
                raise app_not_found(app_id)

    # -- share tokens -----------------------------------------------------------------------------------------

    async def create_token(
        self, app_id: str, *, name: str, rate_limit_per_minute: int | None = 60, created_by: str | None = None
    ) -> tuple[AppTokenRead, str]:
        check_no_nul(name=name, created_by=created_by)
        check_rate_limit(rate_limit_per_minute)
        secret = new_app_token()
        try:
            async with self._pool.connection() as conn:
                cur = conn.cursor(row_factory=dict_row)
                await cur.execute(
                    "INSERT INTO app_tokens (id, app_id, name, prefix, token_hash, rate_limit_per_minute, created_by)"
                    f" VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING {_TOKEN_COLUMNS}",
                    (
                        random_id(),
                        app_id,
                        name,
                        secret[:TOKEN_PREFIX_LENGTH],
                        hash_token(secret),
                        rate_limit_per_minute,
                        created_by,
                    ),
                )
                row = await cur.fetchone()
        except psycopg.errors.ForeignKeyViolation:
            raise app_not_found(app_id) from None
        assert row is not None
        return AppTokenRead(**row), secret

    async def list_tokens(self, app_id: str) -> list[AppTokenRead]:
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                f"SELECT {_TOKEN_COLUMNS} FROM app_tokens WHERE app_id = %s ORDER BY created_at DESC, id DESC",
                (app_id,),
            )
            return [AppTokenRead(**row) for row in await cur.fetchall()]

    async def revoke_token(self, app_id: str, token_id: str) -> AppTokenRead:
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                "UPDATE app_tokens SET revoked_at = coalesce(revoked_at, clock_timestamp())"
                f" WHERE id = %s AND app_id = %s RETURNING {_TOKEN_COLUMNS}",
                (token_id, app_id),
            )
            row = await cur.fetchone()
        if row is None:
            raise token_not_found(token_id)
        return AppTokenRead(**row)

    async def resolve_token(self, secret: str) -> tuple[AppTokenRead, AppRecord] | None:
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                f"SELECT {_RESOLVE_COLUMNS},"
                " (t.last_used_at IS NULL OR t.last_used_at < clock_timestamp() - make_interval(secs => %s)) AS stale"
                " FROM app_tokens t JOIN apps a ON a.id = t.app_id WHERE t.token_hash = %s AND t.revoked_at IS NULL",
                (USED_MARK_SECONDS, hash_token(secret)),
            )
            row = await cur.fetchone()
            if row is None:
                return None
            if row.pop("stale"):
                await cur.execute(
                    "UPDATE app_tokens SET last_used_at = clock_timestamp() WHERE id = %s RETURNING last_used_at",
                    (row["id"],),
                )
                marked = await cur.fetchone()
                if marked is not None:
                    row["last_used_at"] = marked["last_used_at"]
        app = {k.removeprefix("app__"): row.pop(k) for k in [k for k in row if k.startswith("app__")]}
        return AppTokenRead(**row), _app(app)

    # -- conversations ----------------------------------------------------------------------------------------

    async def create_conversation(self, app_id: str, subject: str, *, title: str = "") -> ConversationRecord:
        check_no_nul(subject=subject)
        try:
            async with self._pool.connection() as conn:
                cur = conn.cursor(row_factory=dict_row)
                await cur.execute(
                    "INSERT INTO app_conversations (id, app_id, subject, title) VALUES (%s, %s, %s, %s)"
                    f" RETURNING {_CONVERSATION_COLUMNS}",
                    (random_id(), app_id, subject, clean_text(title)),
                )
                row = await cur.fetchone()
        except psycopg.errors.ForeignKeyViolation:
            raise app_not_found(app_id) from None
        assert row is not None
        return ConversationRecord(**row)

    async def get_conversation(self, conversation_id: str) -> ConversationRecord:
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                f"SELECT {_CONVERSATION_COLUMNS} FROM app_conversations WHERE id = %s", (conversation_id,)
            )
            row = await cur.fetchone()
        if row is None:
            raise conversation_not_found(conversation_id)
        return ConversationRecord(**row)

    async def list_conversations(self, app_id: str, subject: str, *, limit: int = 100) -> list[ConversationRecord]:
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                f"SELECT {_CONVERSATION_COLUMNS} FROM app_conversations WHERE app_id = %s AND subject = %s"
                " ORDER BY updated_at DESC, id DESC LIMIT %s",
                (app_id, subject, max(limit, 0)),
            )
            return [ConversationRecord(**row) for row in await cur.fetchall()]

    async def rename_conversation(self, conversation_id: str, title: str) -> ConversationRecord:
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                f"UPDATE app_conversations SET title = %s WHERE id = %s RETURNING {_CONVERSATION_COLUMNS}",
                (clean_text(title), conversation_id),
            )
            row = await cur.fetchone()
        if row is None:
            raise conversation_not_found(conversation_id)
        return ConversationRecord(**row)

    async def delete_conversation(self, conversation_id: str) -> None:
        async with self._pool.connection() as conn:
            cur = await conn.execute("DELETE FROM app_conversations WHERE id = %s", (conversation_id,))
            if cur.rowcount == 0:
                raise conversation_not_found(conversation_id)

    # -- messages ---------------------------------------------------------------------------------------------

    async def add_message(
        self,
        conversation_id: str,
        *,
        role: Literal["user", "assistant"],
        content: str = "",
        status: AppMessageStatus = "complete",
        run_id: str | None = None,
        extras: dict[str, Any] | None = None,
    ) -> AppMessage:
        check_choice("role", role, APP_ROLES)
        check_choice("status", status, APP_MESSAGE_STATUSES)
        check_no_nul(run_id=run_id)
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                "WITH c AS (UPDATE app_conversations SET message_count = message_count + 1,"
                " updated_at = clock_timestamp() WHERE id = %s RETURNING id)"
                " INSERT INTO app_messages (id, conversation_id, role, content, status, run_id, extras)"
                f" SELECT %s, c.id, %s, %s, %s, %s, %s::jsonb FROM c RETURNING {_MESSAGE_COLUMNS}",
                (
                    conversation_id,
                    random_id(),
                    role,
                    clean_text(content),
                    status,
                    run_id,
                    jsonb.dump(extras or {}),
                ),
            )
            row = await cur.fetchone()
        if row is None:
            raise conversation_not_found(conversation_id)
        return _message(row)

    async def get_message(self, message_id: str) -> AppMessage:
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(f"SELECT {_MESSAGE_COLUMNS} FROM app_messages WHERE id = %s", (message_id,))
            row = await cur.fetchone()
        if row is None:
            raise message_not_found(message_id)
        return _message(row)

    async def update_message(
        self,
        message_id: str,
        *,
        content: str | None = None,
        status: AppMessageStatus | None = None,
        run_id: str | None = None,
        extras: dict[str, Any] | None = None,
    ) -> AppMessage:
        check_choice("status", status, APP_MESSAGE_STATUSES)
        check_no_nul(run_id=run_id)
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                "UPDATE app_messages SET content = coalesce(%s, content), status = coalesce(%s, status),"
                " run_id = coalesce(%s, run_id), extras = coalesce(%s::jsonb, extras)"
                f" WHERE id = %s RETURNING {_MESSAGE_COLUMNS}",
                (
                    None if content is None else clean_text(content),
                    status,
                    run_id,
                    None if extras is None else jsonb.dump(extras),
                    message_id,
                ),
            )
            row = await cur.fetchone()
        if row is None:
            raise message_not_found(message_id)
        return _message(row)

    async def list_messages(self, conversation_id: str, *, limit: int = 1000) -> list[AppMessage]:
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                f"SELECT {_MESSAGE_COLUMNS} FROM (SELECT * FROM app_messages WHERE conversation_id = %s"
                " ORDER BY seq DESC LIMIT %s) recent ORDER BY seq",
                (conversation_id, max(limit, 0)),
            )
            return [_message(row) for row in await cur.fetchall()]

    async def delete_message(self, message_id: str) -> None:
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "WITH m AS (DELETE FROM app_messages WHERE id = %s RETURNING conversation_id)"
                " UPDATE app_conversations c SET message_count = c.message_count - 1,"
                " updated_at = clock_timestamp() FROM m WHERE c.id = m.conversation_id",
                (message_id,),
            )
            if cur.rowcount == 0:
                raise message_not_found(message_id)

    # -- feedback ---------------------------------------------------------------------------------------------

    async def set_feedback(self, message_id: str, rating: AppFeedback | None, comment: str = "") -> AppMessage:
        check_choice("rating", rating, APP_FEEDBACK)
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                "UPDATE app_messages SET feedback = %(rating)s,"
                " feedback_comment = CASE WHEN %(rating)s::text IS NULL THEN '' ELSE %(comment)s END,"
                " feedback_at = CASE WHEN %(rating)s::text IS NULL THEN NULL ELSE clock_timestamp() END"
                f" WHERE id = %(id)s AND role = 'assistant' RETURNING {_MESSAGE_COLUMNS}",
                {"rating": rating, "comment": clean_text(comment), "id": message_id},
            )
            row = await cur.fetchone()
            if row is None:
                found = await conn.execute("SELECT 1 FROM app_messages WHERE id = %s", (message_id,))
                if await found.fetchone() is None:
                    raise message_not_found(message_id)
                raise ValidationError("only an assistant message can be rated", extra={"message": message_id})
        return _message(row)

    async def list_feedback(self, app_id: str, *, limit: int = 200) -> list[AppMessage]:
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                f"SELECT {_M_MESSAGE_COLUMNS} FROM app_messages m"
                " JOIN app_conversations c ON c.id = m.conversation_id"
                " WHERE c.app_id = %s AND m.feedback IS NOT NULL ORDER BY m.feedback_at DESC, m.seq DESC LIMIT %s",
                (app_id, max(limit, 0)),
            )
            return [_message(row) for row in await cur.fetchall()]

    async def feedback_for_runs(self, run_ids: Sequence[str]) -> dict[str, AppFeedback]:
        if not run_ids:
            return {}
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "SELECT run_id, feedback FROM app_messages WHERE run_id = ANY(%s) AND feedback IS NOT NULL"
                " ORDER BY seq",
                (list(run_ids),),
            )
            rows = await cur.fetchall()
        return {row[0]: row[1] for row in rows}


_CHECKED_FIELDS = (
    "slug",
    "title",
    "description",
    "suggested_questions",
    "message_input",
    "session_input",
    "flow_id",
    "owner_id",
    "workspace_id",
)
