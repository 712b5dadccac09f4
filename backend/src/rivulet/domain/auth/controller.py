"""Login/logout with a session cookie or a bearer token, the caller's identity, and user accounts."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.datastructures import Cookie
from litestar.params import FromPath, JSONBody

from rivulet.domain.access import principal_of
from rivulet.domain.auth.deps import AuthDeps
from rivulet.domain.auth.schemas import (
    LoginRequest,
    LoginResponse,
    Me,
    MemberSet,
    PasswordChange,
    PasswordChanged,
    UserCreate,
    UserUpdate,
    WorkspaceCreate,
)
from rivulet.lib.exceptions import AuthenticationError, PermissionDeniedError, RateLimitedError, ValidationError
from rivulet.security.permissions import Permission, requires
from rivulet.server.auth import PUBLIC, SESSION_COOKIE, presented_secret
from rivulet.server.deps import Injected
from rivulet.storage.base import AuthStore, UserRead, WorkspaceRead

if TYPE_CHECKING:
    from rivulet.publishing.limits import LoginThrottle

__all__ = ("AuthController", "UsersController", "WorkspacesController")

_SIGNED_IN = requires(Permission.SIGNED_IN)
_ADMIN = requires(Permission.ADMIN)


async def _checked_password(
    auth: AuthStore, throttle: LoginThrottle, request: Request[Any, Any, Any], username: str, password: str
) -> UserRead | None:
    """The user when ``password`` is right; a failure counts against the login throttle.

    Raises:
        RateLimitedError: Too many recent failures for this username or address (the password is not checked).
    """
    address = request.client.host if request.client else "unknown"
    started = time.monotonic()
    # checked and counted in one step, before the first await: parallel attempts cannot all pass the check
    wait_s = throttle.begin(username, address, now=started)
    if wait_s > 0:
        raise RateLimitedError("too many failed logins; try again later", retry_after_s=wait_s)
    user = await auth.check_password(username, password)
    if user is not None:
        throttle.succeed(username, address, started)
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
        self,
        deps: Injected[AuthDeps],
        request: Request[Any, Any, Any],
        data: JSONBody[LoginRequest],
    ) -> Response[LoginResponse]:
        user = await _checked_password(deps.auth, deps.login_throttle, request, data.username, data.password)
        if user is None:
            raise AuthenticationError("wrong username or password")
        ttl = timedelta(hours=deps.settings.session_ttl_hours)
        kind = "session" if data.mode == "cookie" else "token"
        secret, expires = await deps.auth.issue_token(user.id, kind, ttl)
        if data.mode == "token":
            return Response(LoginResponse(user=user, expires_at=expires, token=secret))
        cookie = Cookie(
            key=SESSION_COOKIE,
            value=secret,
            httponly=True,
            samesite="strict",
            secure=deps.settings.secure_cookies,
            path="/",
            max_age=int(ttl.total_seconds()),
        )
        return Response(LoginResponse(user=user, expires_at=expires), cookies=[cookie])

    @post(
        "/logout",
        status_code=200,
        summary="Log out",
        description="Revokes the presented session or token.",
        opt=_SIGNED_IN,
    )
    async def logout(self, deps: Injected[AuthDeps], request: Request[Any, Any, Any]) -> Response[dict[str, bool]]:
        secret = presented_secret(request)
        if secret:
            await deps.auth.revoke_token(secret)
            await deps.changes.notify("auth")
        response: Response[dict[str, bool]] = Response({"ok": True})
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @post(
        "/password",
        status_code=200,
        summary="Change my password",
        description="Proven by the current password (422 naming `current_password` when wrong; throttled like "
        "logins). Every other session and token of the user is revoked; the one presented stays valid.",
        opt=_SIGNED_IN,
    )
    async def change_password(
        self,
        deps: Injected[AuthDeps],
        request: Request[Any, Any, Any],
        data: JSONBody[PasswordChange],
    ) -> PasswordChanged:
        principal = principal_of(request)
        if principal.user_id is None or principal.username is None:
            raise PermissionDeniedError("only a logged-in user has a password to change")
        if (
            await _checked_password(deps.auth, deps.login_throttle, request, principal.username, data.current_password)
            is None
        ):
            raise ValidationError(
                "the current password is wrong",
                extra={"errors": [{"path": "$.current_password", "field": "current_password", "message": "wrong"}]},
            )
        revoked = await deps.auth.change_password(
            principal.user_id, data.new_password, keep_token=presented_secret(request)
        )
        await deps.changes.notify("auth")
        return PasswordChanged(revoked_sessions=revoked)

    @get("/me", summary="Who am I", description="The authenticated caller, their role and workspaces.", opt=_SIGNED_IN)
    async def me(self, request: Request[Any, Any, Any]) -> Me:
        p = principal_of(request)
        return Me(
            kind=p.kind,
            user_id=p.user_id,
            username=p.username or p.key_name,
            is_admin=p.is_admin,
            role=p.role,
            workspaces=dict(p.workspaces),
        )


class UsersController(Controller):
    path = "/api/users"
    tags = ["auth"]

    @get("/", summary="Users", description="Every account (administrators only).", opt=_ADMIN)
    async def list_users(self, deps: Injected[AuthDeps]) -> list[UserRead]:
        return await deps.auth.list_users()

    @post(
        "/",
        summary="Create a user",
        description="Administrators only; 409 when the name is taken. `role` is `admin`, `editor` (the default) or "
        "`viewer`.",
        opt=_ADMIN,
    )
    async def create_user(self, deps: Injected[AuthDeps], data: JSONBody[UserCreate]) -> UserRead:
        role = "admin" if data.is_admin else data.role
        return await deps.auth.create_user(data.username, data.password, role=role)

    @patch(
        "/{user_id:str}",
        summary="Change a user's role",
        description="Administrators only; 409 when it would leave no administrator. Takes effect at once.",
        opt=_ADMIN,
    )
    async def update_user(
        self,
        deps: Injected[AuthDeps],
        user_id: FromPath[str],
        data: JSONBody[UserUpdate],
    ) -> UserRead:
        user = await deps.auth.set_role(user_id, data.role)
        await deps.changes.notify("auth")
        return user

    @delete(
        "/{user_id:str}",
        status_code=200,
        summary="Delete a user",
        description="Administrators only. Their sessions, tokens and API keys go with them; their flows stay "
        "(owned by nobody: administrators reach them). 409 for the last administrator.",
        opt=_ADMIN,
    )
    async def delete_user(
        self,
        deps: Injected[AuthDeps],
        request: Request[Any, Any, Any],
        user_id: FromPath[str],
    ) -> None:
        if principal_of(request).user_id == user_id:
            raise PermissionDeniedError("you cannot delete your own account")
        await deps.auth.delete_user(user_id)
        await deps.changes.notify("auth")


class WorkspacesController(Controller):
    path = "/api/workspaces"
    tags = ["auth"]

    @get(
        "/",
        summary="Workspaces",
        description="Administrators see every workspace; others those they belong to.",
        opt=_SIGNED_IN,
    )
    async def list_workspaces(self, deps: Injected[AuthDeps], request: Request[Any, Any, Any]) -> list[WorkspaceRead]:
        principal = principal_of(request)
        return await deps.auth.list_workspaces(None if principal.is_admin else principal.user_id)

    @post("/", summary="Create a workspace", description="Administrators only; 409 when the name is taken.", opt=_ADMIN)
    async def create_workspace(self, deps: Injected[AuthDeps], data: JSONBody[WorkspaceCreate]) -> WorkspaceRead:
        return await deps.auth.create_workspace(data.name)

    @delete(
        "/{workspace_id:str}",
        status_code=200,
        summary="Delete a workspace",
        description="Administrators only; its flows stay with their owners.",
        opt=_ADMIN,
    )
    async def delete_workspace(self, deps: Injected[AuthDeps], workspace_id: FromPath[str]) -> None:
        await deps.auth.delete_workspace(workspace_id)
        await deps.changes.notify("auth")

    @put(
        "/{workspace_id:str}/members/{user_id:str}",
        summary="Add a member or change their role",
        description="Administrators only. `editor` members write the workspace's flows, `viewer` members read them.",
        opt=_ADMIN,
    )
    async def set_member(
        self,
        deps: Injected[AuthDeps],
        workspace_id: FromPath[str],
        user_id: FromPath[str],
        data: JSONBody[MemberSet],
    ) -> WorkspaceRead:
        workspace = await deps.auth.set_member(workspace_id, user_id, data.role)
        await deps.changes.notify("auth")
        return workspace

    @delete(
        "/{workspace_id:str}/members/{user_id:str}",
        status_code=200,
        summary="Remove a member",
        description="Administrators only.",
        opt=_ADMIN,
    )
    async def remove_member(
        self,
        deps: Injected[AuthDeps],
        workspace_id: FromPath[str],
        user_id: FromPath[str],
    ) -> WorkspaceRead:
        workspace = await deps.auth.set_member(workspace_id, user_id, None)
        await deps.changes.notify("auth")
        return workspace
