"""Login/logout with a session cookie or a bearer token, the caller's identity, and user accounts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.params import JSONBody

from rivulet.domain.auth.schemas import LoginRequest, LoginResponse, Me, PasswordChange, PasswordChanged, UserCreate
from rivulet.lib.exceptions import AuthenticationError, PermissionDeniedError, RateLimitedError, ValidationError
from rivulet.security import Principal
from rivulet.server.auth import PUBLIC, SESSION_COOKIE, presented_secret
from rivulet.server.services import Services, ServicesDep
from rivulet.storage.postgres.auth import UserRead

__all__ = ("AuthController", "UsersController", "require_admin")


def principal_of(request: Request[Any, Any, Any]) -> Principal:
    """The authenticated caller (set by ``AuthMiddleware``)."""
    user = request.user
    if not isinstance(user, Principal):
        raise AuthenticationError("authentication required")
    return user


def require_admin(request: Request[Any, Any, Any]) -> Principal:
    """The caller, who must be an administrator. Raises ``PermissionDeniedError``."""
    principal = principal_of(request)
    if not principal.is_admin:
        raise PermissionDeniedError("administrators only")
    return principal


async def _checked_password(
    services: Services, request: Request[Any, Any, Any], username: str, password: str
) -> UserRead | None:
    """The user when ``password`` is right; a failure counts against the login throttle.

    Raises:
        RateLimitedError: Too many recent failures for this username or address (the password is not checked).
    """
    throttle = services.login_throttle
    address = request.client.host if request.client else "unknown"
    wait_s = throttle.wait_s(username, address)
    if wait_s > 0:
        raise RateLimitedError("too many failed logins; try again later", retry_after_s=wait_s)
    user = await services.auth.check_password(username, password)
    if user is None:
        throttle.fail(username, address)
    else:
        throttle.succeed(username)
    return user


class AuthController(Controller):
    path = "/api/auth"
    tags = ["auth"]

    @post(
        "/login",
        opt=PUBLIC,
        status_code=200,
        summary="Log in",
        description="`mode=cookie` sets the HttpOnly, SameSite=Strict `rivulet_session` cookie (the editor); "
        "`mode=token` returns a bearer token for scripts. 401 on a wrong name or password.",
    )
    async def login(
        self, services: ServicesDep, request: Request[Any, Any, Any], data: JSONBody[LoginRequest]
    ) -> Response[LoginResponse]:
        user = await _checked_password(services, request, data.username, data.password)
        if user is None:
            raise AuthenticationError("wrong username or password")
        ttl = timedelta(hours=services.settings.session_ttl_hours)
        kind = "session" if data.mode == "cookie" else "token"
        secret, expires = await services.auth.issue_token(user.id, kind, ttl)
        if data.mode == "token":
            return Response(LoginResponse(user=user, expires_at=expires, token=secret))
        cookie = Cookie(
            key=SESSION_COOKIE,
            value=secret,
            httponly=True,
            samesite="strict",
            secure=services.settings.secure_cookies,
            path="/",
            max_age=int(ttl.total_seconds()),
        )
        return Response(LoginResponse(user=user, expires_at=expires), cookies=[cookie])

    @post("/logout", status_code=200, summary="Log out", description="Revokes the presented session or token.")
    async def logout(self, services: ServicesDep, request: Request[Any, Any, Any]) -> Response[dict[str, bool]]:
        secret = presented_secret(request)
        if secret:
            await services.auth.revoke_token(secret)
            await services.changes.notify("auth")
        response: Response[dict[str, bool]] = Response({"ok": True})
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @post(
        "/password",
        status_code=200,
        summary="Change my password",
        description="Proven by the current password (422 naming `current_password` when wrong; throttled like "
        "logins). Every other session and token of the user is revoked; the one presented stays valid.",
    )
    async def change_password(
        self, services: ServicesDep, request: Request[Any, Any, Any], data: JSONBody[PasswordChange]
    ) -> PasswordChanged:
        principal = principal_of(request)
        if principal.user_id is None or principal.username is None:
            raise PermissionDeniedError("only a logged-in user has a password to change")
        if await _checked_password(services, request, principal.username, data.current_password) is None:
            raise ValidationError(
                "the current password is wrong",
                extra={"errors": [{"path": "$.current_password", "field": "current_password", "message": "wrong"}]},
            )
        revoked = await services.auth.change_password(
            principal.user_id, data.new_password, keep_token=presented_secret(request)
        )
        await services.changes.notify("auth")
        return PasswordChanged(revoked_sessions=revoked)

    @get("/me", summary="Who am I", description="The authenticated caller.")
    async def me(self, request: Request[Any, Any, Any]) -> Me:
        p = principal_of(request)
        return Me(kind=p.kind, user_id=p.user_id, username=p.username or p.key_name, is_admin=p.is_admin)


class UsersController(Controller):
    path = "/api/users"
    tags = ["auth"]

    @get("/", summary="Users", description="Every account (administrators only).")
    async def list_users(self, services: ServicesDep, request: Request[Any, Any, Any]) -> list[UserRead]:
        require_admin(request)
        return await services.auth.list_users()

    @post("/", summary="Create a user", description="Administrators only; 409 when the name is taken.")
    async def create_user(
        self, services: ServicesDep, request: Request[Any, Any, Any], data: JSONBody[UserCreate]
    ) -> UserRead:
        require_admin(request)
        return await services.auth.create_user(data.username, data.password, is_admin=data.is_admin)
