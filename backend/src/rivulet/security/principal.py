"""Who is calling: a user (session cookie or login token) or an API key."""

from __future__ import annotations

from typing import Literal

import msgspec

__all__ = ("Principal",)


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """The authenticated caller of a request (``request.user``)."""

    kind: Literal["session", "token", "api_key"]
    """``session``: the editor's cookie; ``token``: a user's bearer token; ``api_key``: an endpoint key."""
    user_id: str | None = None
    username: str | None = None
    is_admin: bool = False
    key_id: str | None = None
    """The API key's id (``api_key`` only)."""
    key_name: str | None = None
    endpoints: tuple[str, ...] = ()
    """Slugs the API key may call; empty means every endpoint."""
    rate_limit_per_minute: int | None = None
    """Calls per minute the API key may make (``None``: unlimited)."""

    @property
    def is_user(self) -> bool:
        """A person (not an API key)."""
        return self.kind != "api_key"

    @property
    def label(self) -> str:
        """How the audit log names the caller."""
        if self.kind == "api_key":
            return f"key:{self.key_name or self.key_id}"
        return f"user:{self.username}"

    def may_call(self, slug: str) -> bool:
        """Whether this principal may call the endpoint ``slug``."""
        return self.is_user or not self.endpoints or slug in self.endpoints
