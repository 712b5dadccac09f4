"""The hot path of published endpoint calls: ``/f/{slug}`` served in front of Litestar's router and middleware.

Routing, the exception middleware and the authentication middleware cost about 10 us per call, a tenth of a whole
published call. ``EndpointFastPath`` sits where Litestar's router would be called and takes only the calls it can
authenticate itself, exactly as ``AuthMiddleware`` does: a bearer token or API key in a header that
``Authenticator`` accepts. Everything else goes the ordinary way, unchanged: no or bad credentials (so the 401 comes
from ``AuthMiddleware``), a session cookie (which needs the origin check), ``OPTIONS``, a websocket, any other path.
Errors the handler raises are answered with the app's own problem+json mapping (``server.core.error_response``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Request

from rivulet.server.auth import header_credentials
from rivulet.server.core import error_response

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable

    from litestar.types import ASGIApp, Receive, Scope, Send

    from rivulet.server.auth import Authenticator

__all__ = ("EndpointFastPath", "endpoint_slug", "reserved_names")


def reserved_names(paths: Iterable[str]) -> frozenset[str]:
    """The ``<name>`` of every literal route path ``/f/<name>`` (``/f/openapi.json``): routes, not endpoints."""
    return frozenset(p[3:] for p in paths if p.startswith("/f/") and p.count("/") == 2 and "{" not in p)


def endpoint_slug(path: str, reserved: frozenset[str]) -> str | None:
    """The slug of an endpoint call path (``/f/{slug}``), or ``None`` for any other path or a ``reserved`` name."""
    if not path.startswith("/f/"):
        return None
    slug = path[3:]
    if not slug or "/" in slug or slug in reserved:
        return None
    return slug


class EndpointFastPath:
    """An ASGI app: endpoint calls with header credentials directly, everything else through ``routed``.

    Args:
        routed: What Litestar would run (its exception middleware around its router).
        route_paths: The app's route paths (its literal ``/f/<name>`` routes keep going through ``routed``).
        call: Admits, runs and audits one authenticated call; returns the answer to send (the gateway's
            ``call_endpoint``).
    """

    __slots__ = ("call", "reserved", "routed")

    def __init__(
        self, routed: ASGIApp, route_paths: Iterable[str], call: Callable[[Scope, Receive, Send], Awaitable[ASGIApp]]
    ) -> None:
        self.routed = routed
        self.reserved = reserved_names(route_paths)
        self.call = call

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        http = scope["type"] == "http" and scope["method"] != "OPTIONS"
        slug = endpoint_slug(scope["path"], self.reserved) if http else None
        if slug is not None and await self._authenticate(scope):
            scope["path_params"] = {"slug": slug}
            try:
                answer = await self.call(scope, receive, send)
            except Exception as exc:  # noqa: BLE001 - answered like any handler error (the audit has the call)
                request: Request[Any, Any, Any] = Request(scope, receive, send)
                answer = error_response(request, exc).to_asgi_response(None, request)  # pyright: ignore[reportUnknownMemberType]
            await answer(scope, receive, send)
            return
        await self.routed(scope, receive, send)

    @staticmethod
    async def _authenticate(scope: Scope) -> bool:
        """Set ``scope["user"]`` when the call carries header credentials that are valid; otherwise change nothing."""
        authenticator: Authenticator | None = getattr(scope["app"].state.get("services"), "authenticator", None)
        if authenticator is None:
            return False
        secret, source = header_credentials(scope)
        if secret is None:
            return False
        principal = await authenticator.authenticate(secret)
        if principal is None or principal.kind == "app_token":  # a share link: refused by ``AuthMiddleware``
            return False
        scope["user"] = principal
        scope["auth"] = source
        return True
