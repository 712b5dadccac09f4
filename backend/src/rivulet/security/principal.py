"""Who is calling: a user (session cookie or login token) or an API key."""

from __future__ import annotations

from typing import Literal

import msgspec

__all__ = ("Principal",)


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """The authenticated caller of a request (``request.user``)."""

    kind: Literal["session", "token", "api_key", "app_token"]
    """``session``: the editor's cookie; ``token``: a user's bearer token; ``api_key``: an endpoint key;
    ``app_token``: a chat app's share link (``rva_…``), good for that one app's chat routes only."""
    user_id: str | None = None
    username: str | None = None
    role: Literal["admin", "editor", "viewer"] | None = None
    """The user's role (``None`` for an API key)."""
    workspaces: tuple[tuple[str, Literal["editor", "viewer"]], ...] = ()
    """``(workspace id, member role)`` of every workspace the user belongs to."""
    key_id: str | None = None
    """The API key's id (``api_key`` only)."""
    key_name: str | None = None
    key_owner_id: str | None = None
    """The user who created the API key (``api_key`` only; ``None`` for keys created before ownership)."""
    endpoints: tuple[str, ...] = ()
    """Slugs the API key may call; empty means every endpoint (only administrators create such keys)."""
    rate_limit_per_minute: int | None = None
    """Calls per minute the API key (or app token) may make (``None``: unlimited)."""
    app_id: str | None = None
    """The app an ``app_token`` opens (``key_id`` is the token's id)."""

    @property
    def is_user(self) -> bool:
        """A signed-in person (not an API key or a share link)."""
        return self.kind in ("session", "token")

    @property
    def is_admin(self) -> bool:
        """An administrator."""
        return self.role == "admin"

    @property
    def label(self) -> str:
        """How the audit log names the caller."""
        if self.kind == "api_key":
            return f"key:{self.key_name or self.key_id}"
        if self.kind == "app_token":
            return f"app-link:{self.key_name or self.key_id}"
        return f"user:{self.username}"

    def workspace_role(self, workspace_id: str) -> Literal["editor", "viewer"] | None:
        """The user's role in ``workspace_id`` (``None``: not a member)."""
        return next((role for ws, role in self.workspaces if ws == workspace_id), None)

    def may_call(self, slug: str) -> bool:
        """Whether this principal's credential covers the endpoint ``slug`` (users: see the gateway's checks)."""
        if self.kind == "app_token":
            return False
        return self.is_user or not self.endpoints or slug in self.endpoints
