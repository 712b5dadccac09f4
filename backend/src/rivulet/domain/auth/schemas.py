"""Request and response bodies of the auth API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from rivulet.storage.base import UserRead

__all__ = (
    "LoginRequest",
    "LoginResponse",
    "Me",
    "MemberSet",
    "PasswordChange",
    "PasswordChanged",
    "UserCreate",
    "UserUpdate",
    "WorkspaceCreate",
)


class LoginRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Credentials.

    ``mode=cookie`` (the editor) sets an HttpOnly session cookie; ``mode=token`` returns a bearer token in the
    body instead (scripts, the CLI, tests).
    """

    username: Annotated[str, Meta(min_length=1, max_length=64)]
    password: Annotated[str, Meta(min_length=1, max_length=1024)]
    mode: Literal["cookie", "token"] = "cookie"


class LoginResponse(msgspec.Struct, frozen=True, kw_only=True):
    """The logged-in user; ``token`` only for ``mode=token``."""

    user: UserRead
    expires_at: datetime
    token: str | None = None


class Me(msgspec.Struct, frozen=True, kw_only=True):
    """The caller."""

    kind: Literal["session", "token", "api_key", "app_token"]
    """How the caller authenticated (a share link, `app_token`, only ever reaches `/api/chat/`)."""
    user_id: str | None
    username: str | None
    is_admin: bool
    role: Literal["admin", "editor", "viewer"] | None = None
    """The user's role (``None`` for an API key)."""
    workspaces: dict[str, Literal["editor", "viewer"]] = msgspec.field(
        default_factory=dict[str, Literal["editor", "viewer"]]
    )
    """Workspace id → the caller's role in it."""


class UserCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A new account."""

    username: Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")]
    password: Annotated[str, Meta(min_length=8, max_length=1024)]
    role: Literal["admin", "editor", "viewer"] = "editor"
    is_admin: bool = False
    """Deprecated: the same as ``role: "admin"``."""


class UserUpdate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A user's new role."""

    role: Literal["admin", "editor", "viewer"]


class WorkspaceCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A new shared workspace."""

    name: Annotated[str, Meta(min_length=1, max_length=100)]


class MemberSet(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A member's role in a workspace."""

    role: Literal["editor", "viewer"]


class PasswordChange(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A new password for the caller, proven by the current one."""

    current_password: Annotated[str, Meta(min_length=1, max_length=1024)]
    new_password: Annotated[str, Meta(min_length=8, max_length=1024, description="At least 8 characters.")]


class PasswordChanged(msgspec.Struct, frozen=True, kw_only=True):
    """The password is changed; every other session and token of the user was revoked."""

    revoked_sessions: int
