"""In-memory stores for unit tests. Same behaviour as PostgreSQL, checked by the conformance suite."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import msgspec

from rivulet.lib.exceptions import ConflictError, NotFoundError
from rivulet.storage.base import FlowRecord, FlowSummary, FlowVersionInfo, FlowVersionRecord

if TYPE_CHECKING:
    from rivulet.compiler.flow import FlowDocument

__all__ = ("MemoryFlowStore",)


class MemoryFlowStore:
    """A ``FlowStore`` kept in dictionaries."""

    def __init__(self) -> None:
        self._versions: dict[str, list[FlowVersionRecord]] = {}
        self._created: dict[str, datetime] = {}

    def _require(self, flow_id: str) -> list[FlowVersionRecord]:
        try:
            return self._versions[flow_id]
        except KeyError:
            raise NotFoundError(f"flow {flow_id!r} not found", extra={"flow_id": flow_id}) from None

    def _record(self, flow_id: str) -> FlowRecord:
        latest = self._require(flow_id)[-1]
        doc = latest.document
        summary = FlowSummary(
            id=flow_id,
            name=doc.name,
            description=doc.description,
            version=latest.info.version,
            tags=list(doc.metadata.tags),
            node_count=len(doc.nodes),
            created_at=self._created[flow_id],
            updated_at=latest.info.created_at,
        )
        return FlowRecord(summary=summary, document=doc)

    def _append(self, flow_id: str, document: FlowDocument, message: str) -> FlowRecord:
        versions = self._versions.setdefault(flow_id, [])
        number = len(versions) + 1
        doc = msgspec.structs.replace(document, id=flow_id, version=number)
        info = FlowVersionInfo(flow_id=flow_id, version=number, message=message, created_at=datetime.now(UTC))
        versions.append(FlowVersionRecord(info=info, document=doc))
        return self._record(flow_id)

    async def create(self, document: FlowDocument, *, message: str = "") -> FlowRecord:
        flow_id = document.id or str(uuid.uuid4())
        if flow_id in self._versions:
            raise ConflictError(f"flow id {flow_id!r} already exists", extra={"flow_id": flow_id})
        self._created[flow_id] = datetime.now(UTC)
        return self._append(flow_id, document, message)

    async def get(self, flow_id: str) -> FlowRecord:
        return self._record(flow_id)

    async def list(self, *, search: str | None = None, limit: int = 50, offset: int = 0) -> list[FlowSummary]:
        rows = [self._record(fid).summary for fid in self._versions]
        if search:
            rows = [r for r in rows if search.lower() in r.name.lower()]
        rows.sort(key=lambda r: (r.updated_at, r.id), reverse=True)
        return rows[offset : offset + limit]

    async def save(
        self, flow_id: str, document: FlowDocument, *, base_version: int | None = None, message: str = ""
    ) -> FlowRecord:
        latest = len(self._require(flow_id))
        if base_version is not None and base_version != latest:
            raise ConflictError(
                f"flow {flow_id!r} is at version {latest}, not {base_version}; reload before saving",
                extra={"flow_id": flow_id, "latest_version": latest, "base_version": base_version},
            )
        return self._append(flow_id, document, message)

    async def delete(self, flow_id: str) -> None:
        self._require(flow_id)
        del self._versions[flow_id]
        del self._created[flow_id]

    async def list_versions(self, flow_id: str) -> list[FlowVersionInfo]:
        return [v.info for v in reversed(self._require(flow_id))]

    async def get_version(self, flow_id: str, version: int) -> FlowVersionRecord:
        versions = self._require(flow_id)
        if not 1 <= version <= len(versions):
            raise NotFoundError(
                f"flow {flow_id!r} has no version {version}", extra={"flow_id": flow_id, "version": version}
            )
        return versions[version - 1]
