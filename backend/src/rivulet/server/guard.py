"""``InputGuard``: the outermost ASGI layer, refusing request lines no route can handle before anything runs.

A NUL character in the path (``%00``) or in a query parameter of an ``/api`` route cannot name anything and cannot
be stored (PostgreSQL text holds no NUL): it is answered 400 ``nul_character``, saying where, before routing,
authentication or a handler sees it. Published endpoints (``/f/...``) keep their query as is: a ``GET`` endpoint's
query parameters are run inputs, and run inputs keep their NULs (``rivulet.storage.postgres.jsonb``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from litestar import Request

from rivulet.lib.exceptions import NulCharacterError
from rivulet.server.core import error_response

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Receive, Scope, Send

__all__ = ("InputGuard", "request_line_error")

_NUL = "\x00"


def _shown(text: str) -> str:
    return text.replace(_NUL, "%00")


def request_line_error(path: str, query_string: bytes) -> NulCharacterError | None:
    """The 400 for a NUL in the (decoded) ``path`` or in the query of a non-endpoint path, or ``None``."""
    if _NUL in path:
        position = path.index(_NUL)
        return NulCharacterError(
            f"the request path {_shown(path)[:200]!r} contains a NUL character (%00) at position {position}",
            extra={"errors": [{"source": "path", "position": position, "message": "NUL character"}]},
        )
    if path.startswith("/f/") or not query_string or (b"%00" not in query_string and b"\x00" not in query_string):
        return None
    for key, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if _NUL in key or _NUL in value:
            name = _shown(key)[:100]
            return NulCharacterError(
                f"the query parameter {name!r} contains a NUL character (%00)",
                extra={"errors": [{"source": "query", "parameter": name, "message": "NUL character"}]},
            )
    return None


class InputGuard:
    """An ASGI app: refuses requests whose path or query carries a NUL, passes everything else to ``app``."""

    __slots__ = ("app",)

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            error = request_line_error(scope["path"], scope["query_string"])
            if error is not None:
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008, "reason": error.detail[:120]})
                    return
                request: Request[Any, Any, Any] = Request(scope, receive, send)
                answer = error_response(request, error).to_asgi_response(None, request)  # pyright: ignore[reportUnknownMemberType]
                await answer(scope, receive, send)
                return
        await self.app(scope, receive, send)
