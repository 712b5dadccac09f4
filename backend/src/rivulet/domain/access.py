"""Object-level access for the HTTP layer: the caller may reach a flow (and its runs) or gets a 404/403.

A flow the caller may not read answers 404, exactly like a missing one (its existence is not revealed); a flow
they may read but not write answers 403 to a write.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rivulet.lib.exceptions import AuthenticationError, NotFoundError, PermissionDeniedError
from rivulet.security import Principal
from rivulet.security.permissions import Access, flow_access
from rivulet.storage.base import FlowScope

if TYPE_CHECKING:
    from collections.abc import Collection, Sequence

    from litestar import Request

    from rivulet.compiler.flow import FlowDocument
    from rivulet.records.runs import RunRecord
    from rivulet.storage.base import FlowRecord, FlowStore, FlowSummary, FlowVersionInfo, FlowVersionRecord

__all__ = (
    "OwnedFlows",
    "check_flow",
    "flow_scope",
    "principal_of",
    "readable_flow_ids",
    "require_admin",
    "require_flow",
    "require_run",
)

_MAX_SCOPED_FLOWS = 100_000


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


def flow_scope(principal: Principal) -> FlowScope | None:
    """The flows a caller may list (``None``: every flow, for administrators)."""
    if principal.is_admin:
        return None
    return FlowScope(user_id=principal.user_id or "", workspace_ids=tuple(ws for ws, _ in principal.workspaces))


def check_flow(principal: Principal, summary: FlowSummary, need: Access) -> None:
    """Raise unless ``principal`` may ``need`` the flow: 404 when it may not even read it, 403 for a write."""
    granted = flow_access(principal, summary.owner_id, summary.workspace_id)
    if granted == "none":
        raise NotFoundError(f"flow {summary.id!r} not found", extra={"flow_id": summary.id})
    if need == "write" and granted != "write":
        raise PermissionDeniedError(
            f"you may read flow {summary.id!r} but not change, run or publish it", extra={"flow_id": summary.id}
        )


async def require_flow(flows: FlowStore, principal: Principal, flow_id: str, need: Access) -> FlowRecord:
    """The flow, when the caller may ``need`` it (else 404/403 as ``check_flow``)."""
    record = await flows.get(flow_id)
    check_flow(principal, record.summary, need)
    return record


async def readable_flow_ids(flows: FlowStore, principal: Principal) -> tuple[str, ...] | None:
    """Ids of every flow the caller may read (``None``: all of them, for administrators)."""
    scope = flow_scope(principal)
    if scope is None:
        return None
    return tuple(f.id for f in await flows.list(limit=_MAX_SCOPED_FLOWS, scope=scope))


async def require_run(flows: FlowStore, principal: Principal, run: RunRecord, need: Access) -> None:
    """Raise unless the caller may ``need`` the run's flow; a run of an unreachable or deleted flow is a 404."""
    if principal.is_admin:
        return
    try:
        summary = (await flows.get(run.flow_id)).summary
        check_flow(principal, summary, need)
    except NotFoundError:
        raise NotFoundError(f"run {run.id!r} not found", extra={"run_id": run.id}) from None


class OwnedFlows:
    """A ``FlowStore`` seen through one caller.

    It lists what they may read, creates flows they own and refuses to change a flow they may not write (template
    imports write through it).
    """

    def __init__(self, store: FlowStore, principal: Principal) -> None:
        self._store = store
        self._principal = principal

    async def create(
        self, document: FlowDocument, *, message: str = "", owner_id: str | None = None, workspace_id: str | None = None
    ) -> FlowRecord:
        del owner_id  # always the caller
        return await self._store.create(
            document, message=message, owner_id=self._principal.user_id, workspace_id=workspace_id
        )

    async def get(self, flow_id: str) -> FlowRecord:
        return await require_flow(self._store, self._principal, flow_id, "read")

    async def list(
        self, *, search: str | None = None, limit: int = 50, offset: int = 0, scope: FlowScope | None = None
    ) -> list[FlowSummary]:
        del scope  # always the caller's
        return await self._store.list(search=search, limit=limit, offset=offset, scope=flow_scope(self._principal))

    async def summaries(self, flow_ids: Collection[str]) -> list[FlowSummary]:
        found = await self._store.summaries(flow_ids)
        return [s for s in found if flow_access(self._principal, s.owner_id, s.workspace_id) != "none"]

    async def set_workspace(self, flow_id: str, workspace_id: str | None) -> FlowSummary:
        await require_flow(self._store, self._principal, flow_id, "write")
        return await self._store.set_workspace(flow_id, workspace_id)

    async def save(
        self, flow_id: str, document: FlowDocument, *, base_version: int | None = None, message: str = ""
    ) -> FlowRecord:
        await require_flow(self._store, self._principal, flow_id, "write")
        return await self._store.save(flow_id, document, base_version=base_version, message=message)

    async def write_many(
        self,
        creates: Sequence[FlowDocument],
        updates: Sequence[tuple[str, FlowDocument]] = (),
        *,
        message: str = "",
        owner_id: str | None = None,
    ) -> list[FlowRecord]:
        del owner_id  # always the caller
        for flow_id, _ in updates:
            await require_flow(self._store, self._principal, flow_id, "write")
        return await self._store.write_many(creates, updates, message=message, owner_id=self._principal.user_id)

    async def delete(self, flow_id: str) -> None:
        await require_flow(self._store, self._principal, flow_id, "write")
        await self._store.delete(flow_id)

    async def list_versions(self, flow_id: str) -> list[FlowVersionInfo]:
        await require_flow(self._store, self._principal, flow_id, "read")
        return await self._store.list_versions(flow_id)

    async def get_version(self, flow_id: str, version: int) -> FlowVersionRecord:
        await require_flow(self._store, self._principal, flow_id, "read")
        return await self._store.get_version(flow_id, version)
