"""Chat apps (with share tokens, conversations, messages and feedback) in dictionaries, for tests and headless runs.

The conformance suite (``tests/integration/test_app_store_conformance.py``) holds this store to
``rivulet.storage.postgres.apps.PostgresAppStore``. Like PostgreSQL, only the hash of a share token is kept, and
``extras`` are kept as their JSON form (``as_stored``), as ``jsonb`` keeps them. What PostgreSQL's foreign keys do
(an app's flow must exist, deleting a flow deletes its apps) is not checked here: this store knows no flows.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

import msgspec

from rivulet.lib.exceptions import ValidationError
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
from rivulet.storage.data_rules import as_stored

if TYPE_CHECKING:
    from collections.abc import Sequence

    from rivulet.storage.base import AppFeedback, AppMessageStatus

__all__ = ("MemoryAppStore",)


class _Message(msgspec.Struct, kw_only=True):
    message: AppMessage
    seq: int
    feedback_at: datetime | None = None


class MemoryAppStore:
    """An ``AppStore`` in dictionaries (same behaviour as ``PostgresAppStore``)."""

    def __init__(self) -> None:
        self._apps: dict[str, AppRecord] = {}
        self._tokens: dict[str, AppTokenRead] = {}
        self._token_hashes: dict[str, str] = {}
        """Token hash -> token id."""
        self._conversations: dict[str, ConversationRecord] = {}
        self._messages: dict[str, _Message] = {}
        self._seq = itertools.count(1)
        self._last_time = datetime.min.replace(tzinfo=UTC)

    def _now(self) -> datetime:
        """The time, strictly later than the last one given (as distinct as ``clock_timestamp()``'s)."""
        now = datetime.now(UTC)
        self._last_time = max(now, self._last_time + timedelta(microseconds=1))
        return self._last_time

    # -- lookups ----------------------------------------------------------------------------------------------

    def _app(self, app_id: str) -> AppRecord:
        try:
            return self._apps[app_id]
        except KeyError:
            raise app_not_found(app_id) from None

    def _conversation(self, conversation_id: str) -> ConversationRecord:
        try:
            return self._conversations[conversation_id]
        except KeyError:
            raise conversation_not_found(conversation_id) from None

    def _message(self, message_id: str) -> _Message:
        try:
            return self._messages[message_id]
        except KeyError:
            raise message_not_found(message_id) from None

    def _slug_free(self, slug: str, app_id: str | None = None) -> None:
        if any(a.slug == slug and a.id != app_id for a in self._apps.values()):
            raise slug_taken(slug)

    def _conversation_messages(self, conversation_id: str) -> list[_Message]:
        found = [m for m in self._messages.values() if m.message.conversation_id == conversation_id]
        return sorted(found, key=lambda m: m.seq)

    def _touch(self, conversation_id: str, count_change: int) -> None:
        record = self._conversations[conversation_id]
        self._conversations[conversation_id] = msgspec.structs.replace(
            record, message_count=record.message_count + count_change, updated_at=self._now()
        )

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
        self._slug_free(slug)
        now = self._now()
        record = AppRecord(
            id=random_id(),
            slug=slug,
            flow_id=flow_id,
            flow_version=flow_version,
            title=title,
            description=description,
            suggested_questions=questions,
            message_input=message_input,
            session_input=session_input,
            owner_id=owner_id,
            workspace_id=workspace_id,
            created_at=now,
            updated_at=now,
        )
        self._apps[record.id] = record
        return record

    async def get_app(self, app_id: str) -> AppRecord:
        return self._app(app_id)

    async def get_app_by_slug(self, slug: str) -> AppRecord:
        for record in self._apps.values():
            if record.slug == slug:
                return record
        raise app_not_found(slug)

    async def list_apps(self, *, flow_id: str | None = None) -> list[AppRecord]:
        found = [a for a in self._apps.values() if flow_id is None or a.flow_id == flow_id]
        return sorted(found, key=lambda a: a.slug)

    async def update_app(self, app_id: str, **changes: Any) -> AppRecord:
        check_app_changes(changes)
        record = self._app(app_id)
        if "suggested_questions" in changes:
            changes["suggested_questions"] = list(changes["suggested_questions"])
        merged = msgspec.structs.replace(record, **changes)
        check_app_fields(
            slug=merged.slug,
            title=merged.title,
            description=merged.description,
            suggested_questions=merged.suggested_questions,
            message_input=merged.message_input,
            session_input=merged.session_input,
            flow_id=merged.flow_id,
            owner_id=merged.owner_id,
            workspace_id=merged.workspace_id,
        )
        self._slug_free(merged.slug, app_id)
        merged = msgspec.structs.replace(merged, updated_at=self._now())
        self._apps[app_id] = merged
        return merged

    async def delete_app(self, app_id: str) -> None:
        self._app(app_id)
        del self._apps[app_id]
        for token_id in [t.id for t in self._tokens.values() if t.app_id == app_id]:
            del self._tokens[token_id]
        self._token_hashes = {h: t for h, t in self._token_hashes.items() if t in self._tokens}
        gone = {c.id for c in self._conversations.values() if c.app_id == app_id}
        self._conversations = {i: c for i, c in self._conversations.items() if i not in gone}
        self._messages = {i: m for i, m in self._messages.items() if m.message.conversation_id not in gone}

    # -- share tokens -----------------------------------------------------------------------------------------

    async def create_token(
        self, app_id: str, *, name: str, rate_limit_per_minute: int | None = 60, created_by: str | None = None
    ) -> tuple[AppTokenRead, str]:
        check_no_nul(name=name, created_by=created_by)
        check_rate_limit(rate_limit_per_minute)
        self._app(app_id)
        secret = new_app_token()
        token = AppTokenRead(
            id=random_id(),
            app_id=app_id,
            name=name,
            prefix=secret[:TOKEN_PREFIX_LENGTH],
            rate_limit_per_minute=rate_limit_per_minute,
            created_by=created_by,
            created_at=self._now(),
        )
        self._tokens[token.id] = token
        self._token_hashes[hash_token(secret)] = token.id
        return token, secret

    async def list_tokens(self, app_id: str) -> list[AppTokenRead]:
        found = [t for t in self._tokens.values() if t.app_id == app_id]
        return sorted(found, key=lambda t: (t.created_at, t.id), reverse=True)

    async def revoke_token(self, app_id: str, token_id: str) -> AppTokenRead:
        token = self._tokens.get(token_id)
        if token is None or token.app_id != app_id:
            raise token_not_found(token_id)
        if token.revoked_at is None:
            token = msgspec.structs.replace(token, revoked_at=self._now())
            self._tokens[token_id] = token
        return token

    async def resolve_token(self, secret: str) -> tuple[AppTokenRead, AppRecord] | None:
        token_id = self._token_hashes.get(hash_token(secret))
        token = None if token_id is None else self._tokens.get(token_id)
        if token is None or token.revoked_at is not None:
            return None
        now = self._now()
        if token.last_used_at is None or token.last_used_at < now - timedelta(seconds=USED_MARK_SECONDS):
            token = msgspec.structs.replace(token, last_used_at=now)
            self._tokens[token.id] = token
        return token, self._apps[token.app_id]

    # -- conversations ----------------------------------------------------------------------------------------

    async def create_conversation(self, app_id: str, subject: str, *, title: str = "") -> ConversationRecord:
        check_no_nul(subject=subject)
        self._app(app_id)
        now = self._now()
        record = ConversationRecord(
            id=random_id(), app_id=app_id, subject=subject, title=clean_text(title), created_at=now, updated_at=now
        )
        self._conversations[record.id] = record
        return record

    async def get_conversation(self, conversation_id: str) -> ConversationRecord:
        return self._conversation(conversation_id)

    async def list_conversations(self, app_id: str, subject: str, *, limit: int = 100) -> list[ConversationRecord]:
        found = [c for c in self._conversations.values() if c.app_id == app_id and c.subject == subject]
        found.sort(key=lambda c: (c.updated_at, c.id), reverse=True)
        return found[: max(limit, 0)]

    async def rename_conversation(self, conversation_id: str, title: str) -> ConversationRecord:
        record = msgspec.structs.replace(self._conversation(conversation_id), title=clean_text(title))
        self._conversations[conversation_id] = record
        return record

    async def delete_conversation(self, conversation_id: str) -> None:
        self._conversation(conversation_id)
        del self._conversations[conversation_id]
        self._messages = {i: m for i, m in self._messages.items() if m.message.conversation_id != conversation_id}

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
        self._conversation(conversation_id)
        message = AppMessage(
            id=random_id(),
            conversation_id=conversation_id,
            role=role,
            content=clean_text(content),
            status=status,
            run_id=run_id,
            extras=as_stored(extras or {}, dict[str, Any]),
            created_at=self._now(),
        )
        self._messages[message.id] = _Message(message=message, seq=next(self._seq))
        self._touch(conversation_id, 1)
        return message

    async def get_message(self, message_id: str) -> AppMessage:
        return self._message(message_id).message

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
        stored = self._message(message_id)
        message = stored.message
        stored.message = msgspec.structs.replace(
            message,
            content=message.content if content is None else clean_text(content),
            status=message.status if status is None else status,
            run_id=message.run_id if run_id is None else run_id,
            extras=message.extras if extras is None else as_stored(extras, dict[str, Any]),
        )
        return stored.message

    async def list_messages(self, conversation_id: str, *, limit: int = 1000) -> list[AppMessage]:
        if limit <= 0:
            return []
        return [m.message for m in self._conversation_messages(conversation_id)[-limit:]]

    async def delete_message(self, message_id: str) -> None:
        stored = self._message(message_id)
        del self._messages[message_id]
        self._touch(stored.message.conversation_id, -1)

    # -- feedback ---------------------------------------------------------------------------------------------

    async def set_feedback(self, message_id: str, rating: AppFeedback | None, comment: str = "") -> AppMessage:
        check_choice("rating", rating, APP_FEEDBACK)
        stored = self._message(message_id)
        if stored.message.role != "assistant":
            raise ValidationError("only an assistant message can be rated", extra={"message": message_id})
        stored.message = msgspec.structs.replace(
            stored.message, feedback=rating, feedback_comment="" if rating is None else clean_text(comment)
        )
        stored.feedback_at = None if rating is None else self._now()
        return stored.message

    async def list_feedback(self, app_id: str, *, limit: int = 200) -> list[AppMessage]:
        conversations = {c.id for c in self._conversations.values() if c.app_id == app_id}
        rated = [
            m
            for m in self._messages.values()
            if m.message.feedback is not None and m.message.conversation_id in conversations
        ]
        rated.sort(key=lambda m: (m.feedback_at, m.seq), reverse=True)
        return [m.message for m in rated[: max(limit, 0)]]

    async def feedback_for_runs(self, run_ids: Sequence[str]) -> dict[str, AppFeedback]:
        wanted = set(run_ids)
        found: dict[str, AppFeedback] = {}
        for stored in sorted(self._messages.values(), key=lambda m: m.seq):
            run_id, feedback = stored.message.run_id, stored.message.feedback
            if run_id is not None and run_id in wanted and feedback is not None:
                found[run_id] = feedback
        return found
