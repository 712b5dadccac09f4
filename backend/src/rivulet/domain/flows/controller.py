"""``/api/flows``: CRUD over versioned flows, version history, restore, duplicate, sharing and validation.

Flows belong to the user who created them (or a workspace they are shared with): see ``rivulet.domain.access``.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated, Any

import msgspec
from litestar import Controller, Request, delete, get, post, put
from litestar.params import FromPath, JSONBody, QueryParameter

from rivulet.compiler import analyze_flow
from rivulet.compiler.flow import FlowDocument
from rivulet.domain.access import flow_scope, principal_of, require_flow
from rivulet.domain.flows.deps import FlowsDeps
from rivulet.domain.flows.limits import check_flow_body
from rivulet.domain.flows.schemas import (
    FlowCreate,
    FlowList,
    FlowRead,
    FlowSharing,
    FlowUpdate,
    FlowVersionList,
    FlowVersionRead,
    ValidationReport,
)
from rivulet.lib.exceptions import PermissionDeniedError
from rivulet.security.permissions import Permission, requires
from rivulet.server.deps import Injected
from rivulet.storage.base import FlowSummary

if TYPE_CHECKING:
    from rivulet.registry.registry import OperatorRegistry
    from rivulet.security import Principal
    from rivulet.storage.base import FlowRecord

__all__ = ("FlowsController", "check_workspace_write", "validate_document")

_READ = requires(Permission.FLOWS_READ)
_WRITE = requires(Permission.FLOWS_WRITE)


def validate_document(document: FlowDocument, registry: OperatorRegistry) -> ValidationReport:
    """Compile without raising and report every diagnostic."""
    diagnostics = analyze_flow(document, registry).diagnostics
    return ValidationReport(ok=not any(d.severity == "error" for d in diagnostics), diagnostics=diagnostics)


def check_workspace_write(principal: Principal, workspace_id: str | None) -> None:
    """Only an editor member of a workspace (or an administrator) may put flows into it."""
    if workspace_id is None or principal.is_admin:
        return
    if principal.workspace_role(workspace_id) != "editor":
        raise PermissionDeniedError(
            f"you are not an editor of workspace {workspace_id!r}", extra={"workspace_id": workspace_id}
        )


async def _read(record: FlowRecord, registry: OperatorRegistry) -> FlowRead:
    # compiling checks every template: seconds of CPU for a big one, so never on the event loop
    validation = await asyncio.to_thread(validate_document, record.document, registry)
    return FlowRead(summary=record.summary, document=record.document, validation=validation)


class FlowsController(Controller):
    path = "/api/flows"
    tags = ["flows"]
    before_request = check_flow_body  # size limits of flow documents, before they are decoded

    @post("/", summary="Create a flow (version 1), owned by the caller", opt=_WRITE)
    async def create(
        self,
        deps: Injected[FlowsDeps],
        request: Request[Any, Any, Any],
        data: JSONBody[FlowCreate],
    ) -> FlowRead:
        principal = principal_of(request)
        check_workspace_write(principal, data.workspace_id)
        record = await deps.flows.create(
            data.document, message=data.message, owner_id=principal.user_id, workspace_id=data.workspace_id
        )
        return await _read(record, deps.registry)

    @get("/", summary="List the flows the caller may read, newest first", opt=_READ)
    async def list_flows(
        self,
        deps: Injected[FlowsDeps],
        request: Request[Any, Any, Any],
        search: Annotated[str | None, QueryParameter(description="Case-insensitive name filter")] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
        offset: Annotated[int, QueryParameter(ge=0)] = 0,
    ) -> FlowList:
        scope = flow_scope(principal_of(request))
        items = await deps.flows.list(search=search, limit=limit, offset=offset, scope=scope)
        return FlowList(items=items, limit=limit, offset=offset)

    @post("/validate", summary="Compile a flow document and return every diagnostic", status_code=200, opt=_READ)
    async def validate(self, deps: Injected[FlowsDeps], data: JSONBody[FlowDocument]) -> ValidationReport:
        return await asyncio.to_thread(validate_document, data, deps.registry)  # big templates: seconds of CPU

    @get("/{flow_id:str}", summary="The latest version of a flow", opt=_READ)
    async def get_flow(
        self,
        deps: Injected[FlowsDeps],
        request: Request[Any, Any, Any],
        flow_id: FromPath[str],
    ) -> FlowRead:
        return await _read(await require_flow(deps.flows, principal_of(request), flow_id, "read"), deps.registry)

    @put("/{flow_id:str}", summary="Save a new version (409 when base_version is stale)", opt=_WRITE)
    async def save(
        self,
        deps: Injected[FlowsDeps],
        request: Request[Any, Any, Any],
        flow_id: FromPath[str],
        data: JSONBody[FlowUpdate],
    ) -> FlowRead:
        await require_flow(deps.flows, principal_of(request), flow_id, "write")
        record = await deps.flows.save(flow_id, data.document, base_version=data.base_version, message=data.message)
        return await _read(record, deps.registry)

    @delete("/{flow_id:str}", summary="Delete a flow and all its versions", opt=_WRITE)
    async def delete_flow(
        self, deps: Injected[FlowsDeps], request: Request[Any, Any, Any], flow_id: FromPath[str]
    ) -> None:
        await require_flow(deps.flows, principal_of(request), flow_id, "write")
        await deps.flows.delete(flow_id)

    @put(
        "/{flow_id:str}/sharing",
        summary="Share a flow with a workspace (or unshare it)",
        description="Its members then read it (and its runs, endpoints and schedules); editor members write it.",
        opt=_WRITE,
    )
    async def share(
        self,
        deps: Injected[FlowsDeps],
        request: Request[Any, Any, Any],
        flow_id: FromPath[str],
        data: JSONBody[FlowSharing],
    ) -> FlowSummary:
        principal = principal_of(request)
        await require_flow(deps.flows, principal, flow_id, "write")
        check_workspace_write(principal, data.workspace_id)
        summary = await deps.flows.set_workspace(flow_id, data.workspace_id)
        await deps.changes.notify("endpoints")  # who may call its endpoint changed
        return summary

    @post("/{flow_id:str}/validate", summary="Validate the latest version", status_code=200, opt=_READ)
    async def validate_saved(
        self,
        deps: Injected[FlowsDeps],
        request: Request[Any, Any, Any],
        flow_id: FromPath[str],
    ) -> ValidationReport:
        record = await require_flow(deps.flows, principal_of(request), flow_id, "read")
        return await asyncio.to_thread(validate_document, record.document, deps.registry)

    @get("/{flow_id:str}/versions", summary="Saved versions, newest first", opt=_READ)
    async def versions(
        self, deps: Injected[FlowsDeps], request: Request[Any, Any, Any], flow_id: FromPath[str]
    ) -> FlowVersionList:
        await require_flow(deps.flows, principal_of(request), flow_id, "read")
        return FlowVersionList(items=await deps.flows.list_versions(flow_id))

    @get("/{flow_id:str}/versions/{version:int}", summary="One saved version", opt=_READ)
    async def version(
        self,
        deps: Injected[FlowsDeps],
        request: Request[Any, Any, Any],
        flow_id: FromPath[str],
        version: FromPath[int],
    ) -> FlowVersionRead:
        await require_flow(deps.flows, principal_of(request), flow_id, "read")
        record = await deps.flows.get_version(flow_id, version)
        return FlowVersionRead(info=record.info, document=record.document)

    @post("/{flow_id:str}/versions/{version:int}/restore", summary="Save an old version as the newest", opt=_WRITE)
    async def restore(
        self,
        deps: Injected[FlowsDeps],
        request: Request[Any, Any, Any],
        flow_id: FromPath[str],
        version: FromPath[int],
    ) -> FlowRead:
        await require_flow(deps.flows, principal_of(request), flow_id, "write")
        old = await deps.flows.get_version(flow_id, version)
        record = await deps.flows.save(flow_id, old.document, message=f"restore version {version}")
        return await _read(record, deps.registry)

    @post("/{flow_id:str}/duplicate", summary="Copy the latest version into a new flow owned by the caller", opt=_WRITE)
    async def duplicate(
        self,
        deps: Injected[FlowsDeps],
        request: Request[Any, Any, Any],
        flow_id: FromPath[str],
    ) -> FlowRead:
        principal = principal_of(request)
        source = (await require_flow(deps.flows, principal, flow_id, "read")).document
        copy = msgspec.structs.replace(source, id="", version=0, name=f"{source.name} (copy)"[:200])
        record = await deps.flows.create(copy, message=f"duplicated from {flow_id}", owner_id=principal.user_id)
        return await _read(record, deps.registry)
