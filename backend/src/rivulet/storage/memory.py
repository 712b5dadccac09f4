"""In-memory stores for unit tests. Same behaviour as PostgreSQL, checked by the conformance suite."""

from __future__ import annotations

import bisect
import time
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import msgspec

from rivulet.lib.exceptions import ConflictError, NotFoundError
from rivulet.records.events import ErrorInfo, RunFinished
from rivulet.storage.base import FlowRecord, FlowScope, FlowSummary, FlowVersionInfo, FlowVersionRecord

if TYPE_CHECKING:
    from collections.abc import Sequence

    from rivulet.compiler.flow import FlowDocument
    from rivulet.records.events import Event, RunStatus
    from rivulet.records.runs import FinishedRun, NodeRunRecord, RunQuery, RunRecord

__all__ = ("MemoryFlowStore", "MemoryRunStore")


class MemoryFlowStore:
    """A ``FlowStore`` kept in dictionaries."""

    def __init__(self) -> None:
        self._versions: dict[str, list[FlowVersionRecord]] = {}
        self._created: dict[str, datetime] = {}
        self._owners: dict[str, tuple[str | None, str | None]] = {}

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
            owner_id=self._owners[flow_id][0],
            workspace_id=self._owners[flow_id][1],
        )
        return FlowRecord(summary=summary, document=doc)

    def _append(self, flow_id: str, document: FlowDocument, message: str) -> FlowRecord:
        versions = self._versions.setdefault(flow_id, [])
        number = len(versions) + 1
        doc = msgspec.structs.replace(document, id=flow_id, version=number)
        info = FlowVersionInfo(flow_id=flow_id, version=number, message=message, created_at=datetime.now(UTC))
        versions.append(FlowVersionRecord(info=info, document=doc))
        return self._record(flow_id)

    async def create(
        self, document: FlowDocument, *, message: str = "", owner_id: str | None = None, workspace_id: str | None = None
    ) -> FlowRecord:
        flow_id = document.id or str(uuid.uuid4())
        if flow_id in self._versions:
            raise ConflictError(f"flow id {flow_id!r} already exists", extra={"flow_id": flow_id})
        self._created[flow_id] = datetime.now(UTC)
        self._owners[flow_id] = (owner_id, workspace_id)
        return self._append(flow_id, document, message)

    async def get(self, flow_id: str) -> FlowRecord:
        return self._record(flow_id)

    async def list(
        self, *, search: str | None = None, limit: int = 50, offset: int = 0, scope: FlowScope | None = None
    ) -> list[FlowSummary]:
        rows = [self._record(fid).summary for fid in self._versions]
        if scope is not None:
            rows = [
                r
                for r in rows
                if (r.owner_id is not None and r.owner_id == scope.user_id) or r.workspace_id in scope.workspace_ids
            ]
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

    async def write_many(
        self,
        creates: Sequence[FlowDocument],
        updates: Sequence[tuple[str, FlowDocument]] = (),
        *,
        message: str = "",
        owner_id: str | None = None,
    ) -> list[FlowRecord]:
        ids = [d.id for d in creates if d.id]
        if any(i in self._versions for i in ids) or len(set(ids)) != len(ids):
            taken = next(i for i in ids if i in self._versions or ids.count(i) > 1)
            raise ConflictError(f"flow id {taken!r} already exists", extra={"flow_id": taken})
        for flow_id, _ in updates:
            self._require(flow_id)
        records = [await self.create(d, message=message, owner_id=owner_id) for d in creates]
        records += [self._append(flow_id, d, message) for flow_id, d in updates]
        return records

    async def delete(self, flow_id: str) -> None:
        self._require(flow_id)
        del self._versions[flow_id]
        del self._created[flow_id]
        del self._owners[flow_id]

    async def set_workspace(self, flow_id: str, workspace_id: str | None) -> FlowSummary:
        self._require(flow_id)
        self._owners[flow_id] = (self._owners[flow_id][0], workspace_id)
        return self._record(flow_id).summary

    async def list_versions(self, flow_id: str) -> list[FlowVersionInfo]:
        return [v.info for v in reversed(self._require(flow_id))]

    async def get_version(self, flow_id: str, version: int) -> FlowVersionRecord:
        versions = self._require(flow_id)
        if not 1 <= version <= len(versions):
            raise NotFoundError(
                f"flow {flow_id!r} has no version {version}", extra={"flow_id": flow_id, "version": version}
            )
        return versions[version - 1]


def _run_not_found(run_id: str) -> NotFoundError:
    return NotFoundError(f"run {run_id!r} not found", extra={"run_id": run_id})


class MemoryRunStore:
    """A ``RunStore`` kept in dictionaries (events as per-run lists sorted by seq)."""

    def __init__(self) -> None:
        self._runs: dict[str, RunRecord] = {}
        self._nodes: dict[str, dict[str, NodeRunRecord]] = {}
        self._events: dict[str, list[Event]] = {}
        self._heartbeats: dict[str, float] = {}

    def _require(self, run_id: str) -> RunRecord:
        try:
            return self._runs[run_id]
        except KeyError:
            raise _run_not_found(run_id) from None

    async def create_run(self, run: RunRecord) -> None:
        if run.id in self._runs:
            raise ConflictError(f"run id {run.id!r} already exists", extra={"run_id": run.id})
        self._runs[run.id] = run
        self._heartbeats[run.id] = time.monotonic()

    async def get_run(self, run_id: str) -> RunRecord:
        return self._require(run_id)

    async def list_runs(self, query: RunQuery) -> list[RunRecord]:
        rows = [
            r
            for r in self._runs.values()
            if (query.flow_id is None or r.flow_id == query.flow_id)
            and (query.flow_ids is None or r.flow_id in query.flow_ids)
            and (query.status is None or r.status == query.status)
            and (query.since is None or r.created_at >= query.since)
            and (query.until is None or r.created_at < query.until)
        ]
        rows.sort(key=lambda r: (r.created_at, r.id), reverse=True)
        return rows[query.offset : query.offset + query.limit]

    async def update_run(
        self,
        run_id: str,
        *,
        status: RunStatus,
        outputs: dict[str, Any] | None = None,
        error: ErrorInfo | None = None,
        started_at: datetime | None = None,
        finished_at: datetime | None = None,
    ) -> None:
        run = self._require(run_id)
        given = {"outputs": outputs, "error": error, "started_at": started_at, "finished_at": finished_at}
        changes: dict[str, Any] = {name: value for name, value in given.items() if value is not None}
        changes["status"] = status
        self._runs[run_id] = msgspec.structs.replace(run, **changes)

    async def save_node_runs(self, run_id: str, nodes: Sequence[NodeRunRecord]) -> None:
        self._require(run_id)
        states = self._nodes.setdefault(run_id, {})
        for node in nodes:
            states[node.node_id] = node

    async def list_node_runs(self, run_id: str) -> list[NodeRunRecord]:
        self._require(run_id)
        return sorted(self._nodes.get(run_id, {}).values(), key=lambda n: n.node_id)

    async def append_events(self, events: Sequence[Event]) -> None:
        for event in events:
            log = self._events.setdefault(event.run_id, [])
            if not log or log[-1].seq < event.seq:
                log.append(event)
                continue
            index = bisect.bisect_left(log, event.seq, key=lambda e: e.seq)
            if index == len(log) or log[index].seq != event.seq:
                log.insert(index, event)

    async def record_runs(self, runs: Sequence[FinishedRun]) -> None:
        for finished in runs:
            if finished.run.id in self._runs:
                raise ConflictError(f"run id {finished.run.id!r} already exists", extra={"run_id": finished.run.id})
        for finished in runs:
            self._runs[finished.run.id] = finished.run
            await self.save_node_runs(finished.run.id, finished.nodes)
            await self.append_events(finished.events)

    async def list_events(self, run_id: str, *, after_seq: int = 0, limit: int | None = None) -> list[Event]:
        log = self._events.get(run_id, [])
        start = bisect.bisect_right(log, after_seq, key=lambda e: e.seq)
        return log[start:] if limit is None else log[start : start + limit]

    async def last_event(self, run_id: str) -> Event | None:
        log = self._events.get(run_id)
        return log[-1] if log else None

    async def heartbeat(self, owner: str, run_ids: Sequence[str]) -> None:
        now = time.monotonic()
        for run_id in run_ids:
            if run_id in self._runs:
                self._heartbeats[run_id] = now

    async def interrupt_orphans(self, *, owner: str, stale_after_s: float, reason: str) -> list[str]:
        now = time.monotonic()
        orphans = [
            r.id
            for r in self._runs.values()
            if r.status in ("queued", "running")
            and r.owner != owner
            and now - self._heartbeats.get(r.id, 0.0) >= stale_after_s
        ]
        error = ErrorInfo(code="interrupted", message=reason)
        for run_id in orphans:
            await self.update_run(run_id, status="interrupted", error=error, finished_at=datetime.now(UTC))
            last = await self.last_event(run_id)
            seq = (last.seq if last else 0) + 1
            await self.append_events(
                [RunFinished(run_id=run_id, seq=seq, ts=time.time(), status="interrupted", error=error)]
            )
        return orphans
