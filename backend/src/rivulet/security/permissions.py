"""Roles, permissions and ownership: who may do what, decided in one place.

Every route declares the permission it needs next to its handler (``opt=requires(Permission.X)``); one app-wide
guard checks it against the caller's role, and refuses every route that declares nothing (deny by default). The
permission is the coarse gate; ownership is the fine one: a flow (and so its runs, endpoints and schedules) is
reachable by its owner, by the members of its workspace and by administrators. What a role grants is the table
``ROLE_PERMISSIONS``; docs/security.md lists it per route.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from rivulet.security.principal import Principal

__all__ = (
    "PERMISSION_OPT",
    "ROLE_PERMISSIONS",
    "Access",
    "Permission",
    "Role",
    "flow_access",
    "owns_or_administers",
    "requires",
)

Role = Literal["admin", "editor", "viewer"]
Access = Literal["none", "read", "write"]
PERMISSION_OPT = "permission"
"""The key of a route handler's ``opt`` that names its permission."""


class Permission(StrEnum):
    """What a route needs. ``public`` routes are reachable without credentials."""

    PUBLIC = "public"
    """No credentials (health, login, the editor's static files)."""
    SIGNED_IN = "signed_in"
    """Any signed-in user: their own identity, password and logout."""
    ENDPOINT_CALL = "endpoint:call"
    """Call a published endpoint (API keys within their scope; users who may read the flow)."""
    APP_CHAT = "apps:chat"
    """Chat with a published chat app (any signed-in user; a share link's token for its one app)."""
    FLOWS_READ = "flows:read"
    """Read the flows, runs, endpoints and schedules the caller may see; the catalogs (operators, templates)."""
    FLOWS_WRITE = "flows:write"
    """Create, edit, run, import, publish and unpublish flows the caller may write; their own API keys."""
    MODELS_READ = "models:read"
    """The model list and configurations (never a secret value)."""
    KNOWLEDGE_READ = "knowledge:read"
    """Knowledge spaces, their documents and ingestion jobs; search them (the search playground)."""
    KNOWLEDGE_WRITE = "knowledge:write"
    """Create knowledge spaces, add, replace and delete their documents (a space's settings: its owner or admins)."""
    DATA_READ = "data:read"
    """Data sources (never a credential) and their schemas; reports and evaluations the caller may see."""
    DATA_QUERY = "data:query"
    """Run guarded read-only queries and Text2SQL questions on data sources; upload spreadsheets (file data
    sources owned by the uploader); create, share and delete one's own reports; run evaluations."""
    ADMIN = "admin"
    """Admin-managed resources: users, workspaces, secrets, models, data source connections, template sources, the
    model call log."""


_READER = frozenset({
    Permission.SIGNED_IN, Permission.APP_CHAT, Permission.FLOWS_READ, Permission.MODELS_READ, Permission.KNOWLEDGE_READ,
    Permission.DATA_READ,
})  # fmt: skip
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    "viewer": _READER,
    "editor": _READER
    | {Permission.FLOWS_WRITE, Permission.ENDPOINT_CALL, Permission.KNOWLEDGE_WRITE, Permission.DATA_QUERY},
    "admin": frozenset(Permission) - {Permission.PUBLIC},
}
"""What each role may do (``public`` needs no role)."""


def requires(permission: Permission, **opt: Any) -> dict[str, Any]:
    """A route handler's ``opt``: the permission it needs (``public`` also skips authentication)."""
    if permission is Permission.PUBLIC:
        opt["exclude_from_auth"] = True
    return {PERMISSION_OPT: permission, **opt}


def flow_access(principal: Principal, owner_id: str | None, workspace_id: str | None) -> Access:
    """What ``principal`` may do with a flow owned by ``owner_id`` in ``workspace_id``.

    Administrators write every flow; the owner writes their own; a workspace member reads the workspace's flows
    and writes them as a workspace ``editor``. A global ``viewer`` only ever reads. Anyone else: ``none``.
    """
    if principal.role == "admin":
        return "write"
    if principal.user_id is None:
        return "none"
    writer = principal.role == "editor"
    if owner_id is not None and owner_id == principal.user_id:
        return "write" if writer else "read"
    member_role = principal.workspace_role(workspace_id) if workspace_id is not None else None
    if member_role is None:
        return "none"
    return "write" if writer and member_role == "editor" else "read"


def owns_or_administers(principal: Principal, owner_id: str | None) -> bool:
    """Whether ``principal`` owns the thing owned by ``owner_id`` (knowledge spaces) or is an administrator.

    A thing nobody owns (written by a CLI command straight to the database) is the administrators' alone.
    """
    if principal.role == "admin":
        return True
    return owner_id is not None and principal.user_id == owner_id and principal.role == "editor"
