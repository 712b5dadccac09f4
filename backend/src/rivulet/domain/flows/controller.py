"""``/api/flows``: CRUD over versioned flows, version history, restore, duplicate and validation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import msgspec
from litestar import Controller, delete, get, post, put
from litestar.params import FromPath, JSONBody, QueryParameter

from rivulet.compiler import analyze_flow
from rivulet.compiler.flow import FlowDocument
from rivulet.domain.flows.schemas import (
    FlowCreate,
    FlowList,
    FlowRead,
    FlowUpdate,
    FlowVersionList,
    FlowVersionRead,
    ValidationReport,
)
from rivulet.server.services import ServicesDep

if TYPE_CHECKING:
    from rivulet.registry.registry import OperatorRegistry
    from rivulet.storage.base import FlowRecord

__all__ = ("FlowsController", "validate_document")


def validate_document(document: FlowDocument, registry: OperatorRegistry) -> ValidationReport:
    """Compile without raising and report every diagnostic."""
    diagnostics = analyze_flow(document, registry).diagnostics
    return ValidationReport(ok=not any(d.severity == "error" for d in diagnostics), diagnostics=diagnostics)


def _read(record: FlowRecord, registry: OperatorRegistry) -> FlowRead:
    return FlowRead(
        summary=record.summary, document=record.document, validation=validate_document(record.document, registry)
    )


class FlowsController(Controller):
    path = "/api/flows"
    tags = ["flows"]

    @post("/", summary="Create a flow (version 1)")
    async def create(self, services: ServicesDep, data: JSONBody[FlowCreate]) -> FlowRead:
        record = await services.flows.create(data.document, message=data.message)
        return _read(record, services.registry)

    @get("/", summary="List flows, newest first")
    async def list_flows(
        self,
        services: ServicesDep,
        search: Annotated[str | None, QueryParameter(description="Case-insensitive name filter")] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
        offset: Annotated[int, QueryParameter(ge=0)] = 0,
    ) -> FlowList:
        items = await services.flows.list(search=search, limit=limit, offset=offset)
        return FlowList(items=items, limit=limit, offset=offset)

    @post("/validate", summary="Compile a flow document and return every diagnostic", status_code=200)
    async def validate(self, services: ServicesDep, data: JSONBody[FlowDocument]) -> ValidationReport:
        return validate_document(data, services.registry)

    @get("/{flow_id:str}", summary="The latest version of a flow")
    async def get_flow(self, services: ServicesDep, flow_id: FromPath[str]) -> FlowRead:
        return _read(await services.flows.get(flow_id), services.registry)

    @put("/{flow_id:str}", summary="Save a new version (409 when base_version is stale)")
    async def save(self, services: ServicesDep, flow_id: FromPath[str], data: JSONBody[FlowUpdate]) -> FlowRead:
        record = await services.flows.save(flow_id, data.document, base_version=data.base_version, message=data.message)
        return _read(record, services.registry)

    @delete("/{flow_id:str}", summary="Delete a flow and all its versions")
    async def delete_flow(self, services: ServicesDep, flow_id: FromPath[str]) -> None:
        await services.flows.delete(flow_id)

    @post("/{flow_id:str}/validate", summary="Validate the latest version", status_code=200)
    async def validate_saved(self, services: ServicesDep, flow_id: FromPath[str]) -> ValidationReport:
        return validate_document((await services.flows.get(flow_id)).document, services.registry)

    @get("/{flow_id:str}/versions", summary="Saved versions, newest first")
    async def versions(self, services: ServicesDep, flow_id: FromPath[str]) -> FlowVersionList:
        return FlowVersionList(items=await services.flows.list_versions(flow_id))

    @get("/{flow_id:str}/versions/{version:int}", summary="One saved version")
    async def version(self, services: ServicesDep, flow_id: FromPath[str], version: FromPath[int]) -> FlowVersionRead:
        record = await services.flows.get_version(flow_id, version)
        return FlowVersionRead(info=record.info, document=record.document)

    @post("/{flow_id:str}/versions/{version:int}/restore", summary="Save an old version as the newest")
    async def restore(self, services: ServicesDep, flow_id: FromPath[str], version: FromPath[int]) -> FlowRead:
        old = await services.flows.get_version(flow_id, version)
        record = await services.flows.save(flow_id, old.document, message=f"restore version {version}")
        return _read(record, services.registry)

    @post("/{flow_id:str}/duplicate", summary="Copy the latest version into a new flow")
    async def duplicate(self, services: ServicesDep, flow_id: FromPath[str]) -> FlowRead:
        source = (await services.flows.get(flow_id)).document
        copy = msgspec.structs.replace(source, id="", version=0, name=f"{source.name} (copy)"[:200])
        record = await services.flows.create(copy, message=f"duplicated from {flow_id}")
        return _read(record, services.registry)
