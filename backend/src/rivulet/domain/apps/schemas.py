"""Bodies of the chat app APIs (``/api/apps`` and ``/api/chat``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from rivulet.publishing.apps import AppInput
from rivulet.storage.base import AppRecord, AppTokenRead

__all__ = (
    "AppCreate",
    "AppRead",
    "AppTokenCreate",
    "AppTokenCreated",
    "AppUpdate",
    "ChatAppInfo",
    "ConversationCreate",
    "ConversationRename",
    "FeedbackUpdate",
    "MessageCreate",
    "StopResult",
)

Slug = Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", description="The app is served at /apps/{slug}.")]
Title = Annotated[str, Meta(min_length=1, max_length=200)]
Description = Annotated[str, Meta(max_length=5000)]
Questions = Annotated[list[Annotated[str, Meta(min_length=1, max_length=500)]], Meta(max_length=20)]
InputName = Annotated[str, Meta(max_length=64, pattern=r"^([A-Za-z_][A-Za-z0-9_]*)?$")]


class AppCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A flow published as a chat app (the flow version is compiled and its inputs checked first)."""

    flow_id: str
    slug: Slug
    title: Title
    description: Description = ""
    suggested_questions: Questions = msgspec.field(default_factory=list[str])
    flow_version: Annotated[int, Meta(ge=1)] | None = None
    """The version chats run; absent: the flow's latest version at each message."""
    message_input: InputName | None = None
    """The run input that receives the user's message; absent: detected (``message``, ``question``, ...)."""
    session_input: InputName | None = None
    """The run input that receives the conversation's memory session; absent: detected (``session_id``, ...);
    ``""``: none (the flow keeps no memory)."""


class AppUpdate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Change an app (absent fields stay)."""

    slug: Slug | None = None
    title: Title | None = None
    description: Description | None = None
    suggested_questions: Questions | None = None
    flow_version: Annotated[int, Meta(ge=0)] | None = None
    """A version to pin, or ``0``: follow the flow's latest version."""
    message_input: InputName | None = None
    session_input: InputName | None = None
    """A run input, or ``""``: none."""
    enabled: bool | None = None
    """A disabled app answers 404 on every chat route."""


class AppRead(msgspec.Struct, frozen=True, kw_only=True):
    """An app, its flow's name, its page and whether its flow can take a chat message as it stands."""

    id: str
    slug: str
    flow_id: str
    flow_version: int | None
    title: str
    description: str
    suggested_questions: list[str]
    message_input: str
    session_input: str | None
    enabled: bool
    owner_id: str | None
    workspace_id: str | None
    created_at: datetime
    updated_at: datetime
    flow_name: str
    url: str
    """``/apps/{slug}``."""
    inputs: list[AppInput]
    """The run inputs of the flow version (``[]`` when it does not compile)."""
    inputs_ok: bool
    problems: list[str] = msgspec.field(default_factory=list[str])
    """Why a message could not be answered now (a compile error, an input the app cannot fill)."""

    @classmethod
    def of(cls, record: AppRecord, *, flow_name: str, inputs: list[AppInput], problems: list[str]) -> AppRead:
        return cls(
            id=record.id,
            slug=record.slug,
            flow_id=record.flow_id,
            flow_version=record.flow_version,
            title=record.title,
            description=record.description,
            suggested_questions=list(record.suggested_questions),
            message_input=record.message_input,
            session_input=record.session_input,
            enabled=record.enabled,
            owner_id=record.owner_id,
            workspace_id=record.workspace_id,
            created_at=record.created_at,
            updated_at=record.updated_at,
            flow_name=flow_name,
            url=f"/apps/{record.slug}",
            inputs=inputs,
            inputs_ok=not problems,
            problems=problems,
        )


class AppTokenCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A share link."""

    name: Annotated[str, Meta(min_length=1, max_length=100)]
    rate_limit_per_minute: Annotated[int, Meta(ge=0, le=1_000_000)] | None = None
    """Messages per minute through this link; absent: 60; ``0``: unlimited."""


class AppTokenCreated(msgspec.Struct, frozen=True, kw_only=True):
    """The token's metadata, its secret and the share link, shown this once."""

    token: AppTokenRead
    secret: str
    share_url: str
    """``/apps/{slug}#t={secret}``: the secret rides in the fragment, which browsers never send to a server."""


class ChatAppInfo(msgspec.Struct, frozen=True, kw_only=True):
    """What the chat page shows of an app."""

    slug: str
    title: str
    description: str
    suggested_questions: list[str]
    flow_name: str | None = None


class ConversationCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    title: Annotated[str, Meta(max_length=200)] = ""


class ConversationRename(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    title: Annotated[str, Meta(min_length=1, max_length=200)]


class MessageCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    content: Annotated[str, Meta(min_length=1, max_length=32_000)]


class FeedbackUpdate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Rate an answer (``null`` clears the rating)."""

    rating: Literal["up", "down"] | None
    comment: Annotated[str, Meta(max_length=2000)] = ""


class StopResult(msgspec.Struct, frozen=True, kw_only=True):
    stopped: bool
    """Whether a running answer was cancelled."""
