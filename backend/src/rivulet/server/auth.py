"""Authentication for everything under ``/api`` and ``/f``: who is calling, checked before any handler runs.

Credentials, in the order they are looked for:

- ``Authorization: Bearer <secret>``: a login token (``rvt_…``), on ``/f/*`` only an API key (``rvk_…``), on
  ``/api/chat/*`` only a chat app's share token (``rva_…``);
- ``X-API-Key: <key>`` (published endpoints);
- the ``rivulet_session`` cookie set by ``POST /api/auth/login`` (HttpOnly, SameSite=Strict);
- ``?token=<secret>`` on the WebSocket ``/api/ws`` only (browsers cannot set headers on a WebSocket).

Cookie-authenticated requests must come from the app's own origin: an ``Origin`` header naming another host is
refused (CSRF defence in depth on top of SameSite=Strict). Handlers opt out of authentication only with
``opt={"exclude_from_auth": True}``; ``PUBLIC_ROUTES`` lists every such route and a test keeps it honest.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

import msgspec
from litestar.exceptions import NotAuthorizedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from rivulet.lib.exceptions import PermissionDeniedError
from rivulet.lib.log import get_logger
from rivulet.security import API_KEY_PREFIX, APP_TOKEN_PREFIX, Principal, hash_token
from rivulet.security.permissions import Permission, requires

if TYPE_CHECKING:
    from collections.abc import Callable

    from litestar.connection import ASGIConnection
    from litestar.types import Scope

    from rivulet.storage.base import AppStore, AuthStore

__all__ = (
    "CHAT_PREFIX",
    "PUBLIC",
    "PUBLIC_ROUTES",
    "SESSION_COOKIE",
    "AuthMiddleware",
    "Authenticator",
    "header_credentials",
    "presented_credentials",
    "presented_secret",
    "same_principal",
)

_log = get_logger(__name__)
SESSION_COOKIE = "rivulet_session"
PUBLIC: dict[str, Any] = requires(Permission.PUBLIC)
"""``opt`` for the few handlers reachable without credentials."""
PUBLIC_ROUTES = frozenset({"/api/health", "/api/auth/login", "/api/reports/shared/{token:str}", "/", "/{path:path}"})
"""Every path whose handlers are public: health, login, shared reports (by link token) and the editor's static files."""
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CHAT_PREFIX = "/api/chat/"
"""Where a chat app's share token (``rva_…``) works; anywhere else it is refused with 403."""


class Authenticator:
    """Resolves secrets to principals, with a short cache cleared on every credential change (any replica).

    Long-lived connections (the WebSocket) ``watch`` their credential: after every credential change
    (``invalidate``, run on every replica by the ``auth`` change notice) and at least every ``recheck_s`` seconds,
    each watched secret is resolved again and the watcher is told when it no longer resolves to the same principal
    (logged out, revoked, expired, user deleted or changed).
    """

    def __init__(
        self, store: AuthStore, *, apps: AppStore | None = None, ttl_s: float = 5.0, recheck_s: float = 30.0
    ) -> None:
        self.store = store
        self.apps = apps
        """Resolves chat app share tokens (``None``: they are refused like unknown secrets)."""
        self.ttl_s = ttl_s
        self.recheck_s = recheck_s
        self._cache: dict[str, tuple[Principal, float]] = {}
        self._watches: dict[int, tuple[str, Principal, Callable[[], None]]] = {}
        self._ids = itertools.count()
        self._rechecking: asyncio.Task[None] | None = None
        self._again = False

    def invalidate(self) -> None:
        """Forget every cached principal (a token or key was revoked) and re-check the watched credentials."""
        self._cache.clear()
        if not self._watches:
            return
        if self._rechecking is not None and not self._rechecking.done():
            self._again = True  # a burst of notices: one more pass after the running one, not one pass each
            return
        try:
            self._rechecking = asyncio.get_running_loop().create_task(self._recheck_passes(), name="rivulet-auth")
        except RuntimeError:  # no loop (a synchronous caller): the periodic re-check catches up
            return

    async def _recheck_passes(self) -> None:
        while True:
            self._again = False
            await self.recheck()
            if not self._again:
                return

    def watch(self, secret: str, principal: Principal, on_revoked: Callable[[], None]) -> Callable[[], None]:
        """Call ``on_revoked`` once ``secret`` stops resolving to ``principal``; returns the function that unwatches."""
        token = next(self._ids)
        self._watches[token] = (secret, principal, on_revoked)

        def unwatch() -> None:
            self._watches.pop(token, None)

        return unwatch

    async def recheck(self) -> None:
        """Resolve every watched credential again; tell the watchers whose credential is gone."""
        for token, (secret, principal, on_revoked) in list(self._watches.items()):
            try:
                current = await self.authenticate(secret)
            except Exception:  # noqa: BLE001 - a database hiccup is not a revocation; the next check retries
                _log.warning("re-checking a watched credential failed", exc_info=True)
                continue
            if not same_principal(current, principal) and self._watches.pop(token, None) is not None:
                on_revoked()

    async def authenticate(self, secret: str, *, fresh: bool = False) -> Principal | None:
        """The principal behind ``secret``, or ``None`` when it is unknown, expired or revoked.

        ``fresh`` asks the database even when a cached answer exists (the periodic re-check of a socket).
        """
        key = hash_token(secret)
        hit = self._cache.get(key)
        now = time.monotonic()
        if hit is not None and hit[1] > now and not fresh:
            return hit[0]
        if secret.startswith(API_KEY_PREFIX):
            principal = await self.store.principal_for_key(secret)
        elif secret.startswith(APP_TOKEN_PREFIX):
            principal = await self._app_principal(secret)
        else:
            principal = await self.store.principal_for_token(secret)
        if principal is None:
            self._cache.pop(key, None)
        else:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[key] = (principal, now + self.ttl_s)
        return principal

    async def _app_principal(self, secret: str) -> Principal | None:
        """A live share token as an ``app_token`` principal (its app's id; the token's id, name and limit)."""
        if self.apps is None:
            return None
        resolved = await self.apps.resolve_token(secret)
        if resolved is None:
            return None
        token, app = resolved
        return Principal(
            kind="app_token",
            app_id=app.id,
            key_id=token.id,
            key_name=token.name,
            rate_limit_per_minute=token.rate_limit_per_minute,
        )


def same_principal(current: Principal | None, before: Principal) -> bool:
    """Whether a credential still resolves to the caller it did (workspace order does not matter)."""
    if current is None:
        return False
    if current == before:
        return True
    return msgspec.structs.replace(current, workspaces=tuple(sorted(current.workspaces))) == msgspec.structs.replace(
        before, workspaces=tuple(sorted(before.workspaces))
    )


def header_credentials(scope: Scope) -> tuple[str | None, str]:
    """The token or key in a request's headers, and which header: ``bearer`` or ``api_key``.

    ``(None, "none")`` without either (a session cookie is not looked at: ``presented_credentials``).
    """
    # the raw header list, not ``connection.headers``: every request comes through here, and building the
    # header mapping costs more than the whole scan
    authorization = api_key = None
    for name, value in scope["headers"]:
        if name == b"authorization":
            authorization = value if authorization is None else authorization
        elif name == b"x-api-key":
            api_key = value if api_key is None else api_key
    if authorization is not None:
        scheme, _, secret = authorization.decode("latin-1").partition(" ")
        if scheme.lower() == "bearer" and secret.strip():
            return secret.strip(), "bearer"
    if api_key:
        return api_key.decode("latin-1").strip(), "api_key"
    return None, "none"


def presented_credentials(connection: ASGIConnection[Any, Any, Any, Any]) -> tuple[str | None, str]:
    """The secret a request authenticates with, and where it came from.

    The source is ``bearer``, ``api_key``, ``cookie`` or ``query`` (websocket only); ``(None, "none")`` without any.
    """
    found = header_credentials(connection.scope)
    if found[0] is not None:
        return found
    cookie = connection.cookies.get(SESSION_COOKIE)
    if cookie:
        return cookie, "cookie"
    if connection.scope["type"] == "websocket":
        token = connection.query_params.get("token")
        if token:
            return token, "query"
    return None, "none"


def presented_secret(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The token, key or session cookie a request authenticates with (``None`` without credentials)."""
    return presented_credentials(connection)[0]


def _check_origin(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    origin = connection.headers.get("origin")
    if not origin:
        return
    host = connection.headers.get("host", "")
    if urlsplit(origin).netloc != host:
        raise PermissionDeniedError(
            "cross-origin request with a session cookie refused; use a bearer token from other origins",
            extra={"origin": origin},
        )


class AuthMiddleware(AbstractAuthenticationMiddleware):
    """Sets ``request.user`` to the ``Principal``; 401 without valid credentials, before any handler runs."""

    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        services = connection.app.state.get("services")
        authenticator: Authenticator | None = getattr(services, "authenticator", None)
        if authenticator is None:
            raise NotAuthorizedException("authentication is not available in this process")
        secret, source = presented_credentials(connection)
        if secret is None:
            raise NotAuthorizedException(
                "authentication required: log in, or send 'Authorization: Bearer <token or API key>'"
            )
        principal = await authenticator.authenticate(secret)
        if principal is None:
            raise NotAuthorizedException("invalid, expired or revoked credentials")
        if principal.kind == "api_key" and not connection.scope["path"].startswith("/f/"):
            raise PermissionDeniedError("API keys may only call published endpoints (/f/...)")
        if principal.kind == "app_token" and not connection.scope["path"].startswith(CHAT_PREFIX):
            raise PermissionDeniedError("a chat app's share link may only chat with its app (/api/chat/...)")
        scope = cast("dict[str, Any]", connection.scope)
        if source == "cookie" and (scope["type"] == "websocket" or scope.get("method", "GET") not in _SAFE_METHODS):
            _check_origin(connection)
        return AuthenticationResult(user=principal, auth=source)
