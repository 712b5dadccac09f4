"""The app-wide permission guard: every route handler declares what it needs, and nothing else gets through.

A handler declares ``opt=requires(Permission.X)`` (``rivulet.security.permissions``). This guard, installed on the
app, compares it with the caller's role before the handler runs. A handler that declares nothing is refused to
everyone (deny by default), and ``tests/integration/test_permissions.py`` fails on it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from litestar.exceptions import NotAuthorizedException
from litestar.routes import HTTPRoute, WebSocketRoute

from rivulet.lib.exceptions import PermissionDeniedError
from rivulet.security import Principal
from rivulet.security.permissions import PERMISSION_OPT, ROLE_PERMISSIONS, Permission

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.connection import ASGIConnection
    from litestar.handlers.base import BaseRouteHandler

__all__ = (
    "check_permission",
    "declare_generated_permissions",
    "declared_permission",
    "permission_guard",
    "permission_rows",
)


def declared_permission(handler: BaseRouteHandler) -> Permission | None:
    """The permission a route handler declares (``None``: none, so nobody may call it)."""
    value = handler.opt.get(PERMISSION_OPT)
    return value if isinstance(value, Permission) else None


def permission_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Refuse the request unless the caller's role grants the handler's declared permission."""
    permission = declared_permission(handler)
    if permission is None:
        raise PermissionDeniedError(
            "this route declares no permission, so nobody may call it", extra={"required_permission": None}
        )
    if permission is Permission.PUBLIC:
        return
    principal = cast("dict[str, Any]", connection.scope).get("user")
    if not isinstance(principal, Principal):
        raise NotAuthorizedException("authentication required")
    check_permission(principal, permission)


def check_permission(principal: Principal, permission: Permission) -> None:
    """Raise ``PermissionDeniedError`` unless ``principal``'s role (or API key) grants ``permission``."""
    if permission is Permission.PUBLIC:
        return
    if principal.kind == "api_key":
        granted = permission is Permission.ENDPOINT_CALL
    elif principal.kind == "app_token":  # the app's own id is checked by the chat routes
        granted = permission is Permission.APP_CHAT
    else:
        granted = principal.role is not None and permission in ROLE_PERMISSIONS[principal.role]
    if not granted:
        role = principal.role or principal.kind
        raise PermissionDeniedError(
            f"this needs the {permission.value!r} permission, which the role {role!r} does not have",
            extra={"required_permission": permission.value, "role": role},
        )


def declare_generated_permissions(app: Litestar, docs_path: str) -> None:
    """Declare the permission of the handlers Litestar builds itself: any signed-in user may read them.

    They are the OpenAPI document with its viewers under ``docs_path`` and the ``OPTIONS`` answer of every path.
    """
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        docs = route.path == docs_path or route.path.startswith(f"{docs_path}/")
        for handler in route.route_handlers:
            if docs or handler.http_methods == {"OPTIONS"}:
                handler.opt.setdefault(PERMISSION_OPT, Permission.SIGNED_IN)


def permission_rows(app: Litestar) -> list[tuple[str, str, Permission | None]]:
    """``(method, path, permission)`` of every route (``WS`` for the WebSocket, ``ANY`` for ASGI routes), sorted.

    Litestar's own ``OPTIONS``/``HEAD`` answers and the OpenAPI viewers' sub-paths are left out; docs/security.md
    lists exactly these rows (a test compares them).
    """
    rows: list[tuple[str, str, Permission | None]] = []
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                methods = sorted(handler.http_methods - {"OPTIONS", "HEAD"})
                rows.extend((method, route.path, declared_permission(handler)) for method in methods)
        elif isinstance(route, WebSocketRoute):
            rows.append(("WS", route.path, declared_permission(route.route_handler)))
        else:
            rows.append(("ANY", route.path, declared_permission(route.route_handler)))
    return sorted((r for r in rows if not r[1].startswith("/api/docs/")), key=lambda r: (r[1], r[0]))
