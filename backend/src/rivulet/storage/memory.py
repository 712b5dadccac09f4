"""In-memory stores for unit tests and headless runs. Same behaviour as PostgreSQL, checked by the conformance suite.

``MemoryModelStore`` lives next to its Protocol in ``rivulet.providers.store`` (the model service there uses it) and is
re-exported here with the others.
"""

from __future__ import annotations

import bisect
import itertools
import secrets
import time
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

import msgspec

from rivulet.lib.exceptions import ConflictError, NotFoundError
from rivulet.lib.redact import secret_redactor
from rivulet.providers.store import MemoryModelStore
from rivulet.records.events import ErrorInfo, RunFinished
from rivulet.security import Principal, hash_password, hash_token, new_api_key, new_token, verify_password
from rivulet.storage.base import (
    CALL_OUTCOMES,
    ApiKeyRead,
    DueFire,
    EndpointStats,
    FireRecord,
    FlowRecord,
    FlowScope,
    FlowSummary,
    FlowVersionInfo,
    FlowVersionRecord,
    OutcomeStats,
    ScheduleRecord,
    SecretInfo,
    UserRead,
    WorkspaceMember,
    WorkspaceRead,
    call_outcome,
)
from rivulet.storage.firing import classify_fires, plan_fires

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Sequence
    from datetime import timedelta

    from rivulet.compiler.flow import FlowDocument
    from rivulet.records.events import Event, RunStatus
    from rivulet.records.runs import FinishedRun, NodeRunRecord, RunQuery, RunRecord
    from rivulet.sdk.ports import Message
    from rivulet.sdk.triggers import ScheduleTriggerParams
    from rivulet.security.permissions import Role
    from rivulet.storage.base import CallRecord, EndpointRecord, NextFire

__all__ = (
    "MemoryAuthStore",
    "MemoryChangeNotifier",
    "MemoryConversationStore",
    "MemoryEndpointStore",
    "MemoryFlowStore",
    "MemoryModelStore",
    "MemoryRunStore",
    "MemoryScheduleStore",
    "MemorySecretStore",
)


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

    async def summaries(self, flow_ids: Collection[str]) -> list[FlowSummary]:
        return [self._record(flow_id).summary for flow_id in set(flow_ids) if flow_id in self._versions]

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


class MemoryEndpointStore:
    """An ``EndpointStore`` kept in dictionaries."""

    def __init__(self) -> None:
        self._endpoints: dict[str, EndpointRecord] = {}
        self._calls: list[CallRecord] = []
        self._ids = itertools.count(1)

    async def publish(self, record: EndpointRecord) -> EndpointRecord:
        owner = self._endpoints.get(record.slug)
        if owner is not None and owner.flow_id != record.flow_id:
            raise ConflictError(
                f"/f/{record.slug} is already published by flow {owner.flow_id!r}",
                extra={"slug": record.slug, "flow_id": owner.flow_id},
            )
        for slug in [s for s, e in self._endpoints.items() if e.flow_id == record.flow_id and s != record.slug]:
            del self._endpoints[slug]
        now = datetime.now(UTC)
        created = owner.created_at if owner is not None else now
        stored = msgspec.structs.replace(record, created_at=created, updated_at=now)
        self._endpoints[record.slug] = stored
        return stored

    async def unpublish(self, flow_id: str) -> list[str]:
        slugs = [s for s, e in self._endpoints.items() if e.flow_id == flow_id]
        for slug in slugs:
            del self._endpoints[slug]
        return slugs

    async def get(self, slug: str) -> EndpointRecord | None:
        return self._endpoints.get(slug)

    async def list(self, flow_id: str | None = None) -> list[EndpointRecord]:
        found = [e for e in self._endpoints.values() if flow_id is None or e.flow_id == flow_id]
        return sorted(found, key=lambda e: e.slug)

    async def record_calls(self, calls: list[CallRecord]) -> None:
        now = datetime.now(UTC)
        self._calls += [msgspec.structs.replace(c, id=next(self._ids), created_at=c.created_at or now) for c in calls]

    async def calls(self, slug: str, limit: int = 100) -> list[CallRecord]:
        found = [c for c in reversed(self._calls) if c.slug == slug][:limit]
        return [msgspec.structs.replace(c, outcome=call_outcome(c)) for c in found]

    async def stats(self) -> dict[str, EndpointStats]:
        by_slug: dict[str, list[CallRecord]] = {}
        for call in self._calls:
            by_slug.setdefault(call.slug, []).append(call)
        return {slug: _endpoint_stats(calls) for slug, calls in by_slug.items()}


def _percentile(values: list[float], fraction: float) -> float:
    """A continuous percentile (PostgreSQL's ``percentile_cont``) of sorted ``values``."""
    position = fraction * (len(values) - 1)
    low = int(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (position - low)


def _endpoint_stats(calls: list[CallRecord]) -> EndpointStats:
    durations = sorted(c.duration_ms for c in calls)
    stamps = [c.created_at for c in calls if c.created_at is not None]
    by_outcome: dict[str, list[float]] = {}
    for call in calls:
        by_outcome.setdefault(call_outcome(call), []).append(call.duration_ms)
    outcomes = [
        OutcomeStats(outcome=name, calls=len(found), p50_ms=_percentile(found, 0.5), p95_ms=_percentile(found, 0.95))
        for name in CALL_OUTCOMES
        if (found := sorted(by_outcome.get(name, [])))
    ]
    return EndpointStats(
        calls=len(calls),
        errors=sum(1 for c in calls if c.status >= 400),
        p50_ms=_percentile(durations, 0.5),
        p95_ms=_percentile(durations, 0.95),
        last_call_at=max(stamps) if stamps else None,
        by_outcome=outcomes,
    )


class MemoryScheduleStore:
    """A ``ScheduleStore`` kept in dictionaries (one process: every claim is this replica's)."""

    def __init__(self) -> None:
        self._schedules: dict[str, ScheduleRecord] = {}
        self._fires: dict[tuple[str, datetime], FireRecord] = {}

    def _require(self, schedule_id: str) -> ScheduleRecord:
        try:
            return self._schedules[schedule_id]
        except KeyError:
            raise NotFoundError(f"schedule {schedule_id!r} not found", extra={"schedule_id": schedule_id}) from None

    async def upsert(
        self,
        flow_id: str,
        flow_version: int,
        node_id: str,
        params: ScheduleTriggerParams,
        next_fire_at: datetime | None,
    ) -> ScheduleRecord:
        old = next((s for s in self._schedules.values() if s.flow_id == flow_id and s.node_id == node_id), None)
        await self._delete_where(lambda s: s.flow_id == flow_id and s.node_id != node_id)
        now = datetime.now(UTC)
        record = ScheduleRecord(
            id=old.id if old else uuid.uuid4().hex,
            flow_id=flow_id,
            flow_version=flow_version,
            node_id=node_id,
            cron=params.cron,
            interval_s=params.interval_s,
            timezone=params.timezone,
            inputs=dict(params.inputs),
            missed_policy=params.missed_policy,
            enabled=old.enabled if old else True,
            next_fire_at=next_fire_at,
            last_fire_at=old.last_fire_at if old else None,
            created_at=old.created_at if old else now,
            updated_at=now,
        )
        self._schedules[record.id] = record
        return record

    async def _delete_where(self, doomed: Callable[[ScheduleRecord], bool]) -> int:
        ids = [s.id for s in self._schedules.values() if doomed(s)]
        for schedule_id in ids:
            del self._schedules[schedule_id]
        self._fires = {key: fire for key, fire in self._fires.items() if key[0] not in ids}
        return len(ids)

    async def delete_for_flow(self, flow_id: str) -> int:
        return await self._delete_where(lambda s: s.flow_id == flow_id)

    async def list(self, flow_id: str | None = None) -> list[ScheduleRecord]:
        found = [s for s in self._schedules.values() if not flow_id or s.flow_id == flow_id]
        return sorted(found, key=lambda s: (s.next_fire_at is None, s.next_fire_at or datetime.min, s.id))

    async def get(self, schedule_id: str) -> ScheduleRecord:
        return self._require(schedule_id)

    async def set_enabled(self, schedule_id: str, enabled: bool, next_fire_at: datetime | None) -> ScheduleRecord:
        current = self._require(schedule_id)
        updated = msgspec.structs.replace(
            current, enabled=enabled, next_fire_at=next_fire_at, updated_at=datetime.now(UTC)
        )
        self._schedules[schedule_id] = updated
        return updated

    async def fires(self, schedule_id: str, limit: int = 100) -> list[FireRecord]:
        found = [f for (sid, _), f in self._fires.items() if sid == schedule_id]
        return sorted(found, key=lambda f: f.fire_at, reverse=True)[:limit]

    async def claim_due(self, next_after: NextFire, *, limit: int = 20) -> list[DueFire]:
        now = datetime.now(UTC)
        due_now = [s for s in self._schedules.values() if s.enabled and s.next_fire_at and s.next_fire_at <= now]
        claimed: list[DueFire] = []
        for record in sorted(due_now, key=lambda s: s.next_fire_at or now)[:limit]:
            due, following = plan_fires(record, now, next_after)
            for fire_at, run_id in classify_fires(record, due, now):
                if (record.id, fire_at) in self._fires:
                    continue
                status: Literal["fired", "missed"] = "missed" if run_id is None else "fired"
                self._fires[record.id, fire_at] = FireRecord(
                    schedule_id=record.id, fire_at=fire_at, status=status, run_id=run_id
                )
                if run_id is not None:
                    claimed.append(DueFire(schedule=record, fire_at=fire_at, run_id=run_id))
            last = due[-1] if due else record.last_fire_at
            self._schedules[record.id] = msgspec.structs.replace(record, next_fire_at=following, last_fire_at=last)
        return claimed

    async def mark_failed(self, schedule_id: str, fire_at: datetime, error: str) -> None:
        fire = self._fires.get((schedule_id, fire_at))
        if fire is not None:
            self._fires[schedule_id, fire_at] = msgspec.structs.replace(fire, status="failed", error=error[:2000])

    async def missed_count(self, schedule_id: str) -> int:
        return sum(1 for (sid, _), f in self._fires.items() if sid == schedule_id and f.status == "missed")


class MemorySecretStore:
    """A ``SecretStore`` in a dict (values kept as given: nothing here is at rest)."""

    def __init__(self) -> None:
        self._values: dict[str, tuple[str, SecretInfo]] = {}

    async def list(self) -> list[SecretInfo]:
        return [info for _, info in sorted(self._values.values(), key=lambda item: item[1].name)]

    async def set(self, name: str, value: str) -> SecretInfo:
        now = datetime.now(UTC)
        old = self._values.get(name)
        info = SecretInfo(name=name, created_at=old[1].created_at if old else now, updated_at=now)
        self._values[name] = (value, info)
        return info

    async def delete(self, name: str) -> None:
        if self._values.pop(name, None) is None:
            raise NotFoundError(f"secret {name!r} not found", extra={"secret": name})

    async def reveal(self, name: str) -> str:
        try:
            value = self._values[name][0]
        except KeyError:
            raise NotFoundError(f"secret {name!r} not found", extra={"secret": name}) from None
        secret_redactor().add(value)
        return value


class MemoryConversationStore:
    """A ``ConversationStore`` (``rivulet.sdk.models``) in a dict of message lists."""

    def __init__(self) -> None:
        self._sessions: dict[str, list[Message]] = {}

    async def history(self, session_id: str, limit: int) -> list[Message]:
        messages = self._sessions.get(session_id, [])
        return messages[-limit:] if limit > 0 else []

    async def append(self, session_id: str, messages: Sequence[Message]) -> None:
        if messages:
            self._sessions.setdefault(session_id, []).extend(messages)

    async def clear(self, session_id: str) -> None:
        self._sessions.pop(session_id, None)

    async def drop_last_turn(self, session_id: str) -> int:
        messages = self._sessions.get(session_id, [])
        last_user = next((i for i in range(len(messages) - 1, -1, -1) if messages[i].role == "user"), None)
        if last_user is None:
            return 0
        dropped = len(messages) - last_user
        del messages[last_user:]
        if not messages:
            self._sessions.pop(session_id, None)
        return dropped


class MemoryChangeNotifier:
    """A ``ChangeNotifier`` for one process: a notice runs the topic's callbacks at once."""

    def __init__(self) -> None:
        self._callbacks: dict[str, list[Callable[[], None]]] = {}

    def on(self, topic: str, callback: Callable[[], None]) -> None:
        self._callbacks.setdefault(topic, []).append(callback)

    async def notify(self, topic: str) -> None:
        for callback in self._callbacks.get(topic, ()):
            callback()


class _User(msgspec.Struct, kw_only=True):
    read: UserRead
    password_hash: str


class _Token(msgspec.Struct, frozen=True, kw_only=True):
    user_id: str
    kind: str
    expires_at: datetime


class MemoryAuthStore:
    """An ``AuthStore`` kept in dictionaries; like PostgreSQL, only hashes of passwords, tokens and keys are kept."""

    def __init__(self) -> None:
        self._users: dict[str, _User] = {}
        self._workspaces: dict[str, tuple[str, datetime]] = {}
        self._members: dict[tuple[str, str], Literal["editor", "viewer"]] = {}
        self._tokens: dict[str, _Token] = {}
        self._keys: dict[str, tuple[ApiKeyRead, str]] = {}

    def _user(self, user_id: str) -> _User:
        try:
            return self._users[user_id]
        except KeyError:
            raise NotFoundError(f"user {user_id!r} not found", extra={"user_id": user_id}) from None

    def _keep_an_admin(self) -> None:
        if not any(u.read.role == "admin" for u in self._users.values()):
            raise ConflictError("the last administrator cannot be removed or demoted")

    def _add_user(self, username: str, password: str, role: Role) -> UserRead:
        if any(u.read.username == username for u in self._users.values()):
            raise ConflictError(f"user {username!r} already exists", extra={"username": username})
        read = UserRead(
            id=uuid.uuid4().hex, username=username, role=role, is_admin=role == "admin", created_at=datetime.now(UTC)
        )
        self._users[read.id] = _User(read=read, password_hash=hash_password(password))
        return read

    async def ensure_admin(self, username: str, password: str | None) -> str | None:
        if self._users:
            return None
        generated = None if password else secrets.token_urlsafe(12)
        self._add_user(username, password or generated or "", "admin")
        return generated

    async def create_user(self, username: str, password: str, *, role: Role = "editor") -> UserRead:
        return self._add_user(username, password, role)

    async def list_users(self) -> list[UserRead]:
        return sorted((u.read for u in self._users.values()), key=lambda u: u.username)

    async def set_role(self, user_id: str, role: Role) -> UserRead:
        user = self._user(user_id)
        before = user.read
        user.read = msgspec.structs.replace(before, role=role, is_admin=role == "admin")
        try:
            self._keep_an_admin()
        except ConflictError:
            user.read = before
            raise
        return user.read

    async def delete_user(self, user_id: str) -> None:
        self._user(user_id)
        if not any(u.read.role == "admin" for uid, u in self._users.items() if uid != user_id):
            raise ConflictError("the last administrator cannot be removed or demoted")
        del self._users[user_id]
        self._tokens = {h: t for h, t in self._tokens.items() if t.user_id != user_id}
        self._keys = {i: k for i, k in self._keys.items() if k[0].owner_id != user_id}
        self._members = {m: r for m, r in self._members.items() if m[1] != user_id}

    async def create_workspace(self, name: str) -> WorkspaceRead:
        if any(n == name for n, _ in self._workspaces.values()):
            raise ConflictError(f"workspace {name!r} already exists", extra={"name": name})
        workspace_id = uuid.uuid4().hex
        self._workspaces[workspace_id] = (name, datetime.now(UTC))
        return await self.get_workspace(workspace_id)

    def _workspace(self, workspace_id: str) -> WorkspaceRead:
        name, created_at = self._workspaces[workspace_id]
        members = [
            WorkspaceMember(user_id=user_id, username=self._users[user_id].read.username, role=role)
            for (ws, user_id), role in self._members.items()
            if ws == workspace_id
        ]
        members.sort(key=lambda m: m.username)
        return WorkspaceRead(id=workspace_id, name=name, members=members, created_at=created_at)

    async def list_workspaces(self, user_id: str | None = None) -> list[WorkspaceRead]:
        found = [self._workspace(ws) for ws in self._workspaces if user_id is None or (ws, user_id) in self._members]
        return sorted(found, key=lambda w: w.name)

    async def get_workspace(self, workspace_id: str) -> WorkspaceRead:
        if workspace_id not in self._workspaces:
            raise NotFoundError(f"workspace {workspace_id!r} not found", extra={"workspace_id": workspace_id})
        return self._workspace(workspace_id)

    async def delete_workspace(self, workspace_id: str) -> None:
        await self.get_workspace(workspace_id)
        del self._workspaces[workspace_id]
        self._members = {m: r for m, r in self._members.items() if m[0] != workspace_id}

    async def set_member(
        self, workspace_id: str, user_id: str, role: Literal["editor", "viewer"] | None
    ) -> WorkspaceRead:
        if role is None:
            self._members.pop((workspace_id, user_id), None)
        elif workspace_id not in self._workspaces or user_id not in self._users:
            raise NotFoundError("no such workspace or user", extra={"workspace_id": workspace_id, "user_id": user_id})
        else:
            self._members[workspace_id, user_id] = role
        return await self.get_workspace(workspace_id)

    async def check_password(self, username: str, password: str) -> UserRead | None:
        user = next((u for u in self._users.values() if u.read.username == username), None)
        stored = user.password_hash if user else hash_password("timing-equaliser")
        ok = verify_password(password, stored)
        return user.read if user and ok else None

    async def issue_token(self, user_id: str, kind: str, ttl: timedelta) -> tuple[str, datetime]:
        secret = new_token()
        expires = datetime.now(UTC) + ttl
        self._tokens[hash_token(secret)] = _Token(user_id=user_id, kind=kind, expires_at=expires)
        return secret, expires

    async def change_password(self, user_id: str, password: str, *, keep_token: str | None) -> int:
        keep = None if keep_token is None else hash_token(keep_token)
        if user_id in self._users:
            self._users[user_id].password_hash = hash_password(password)
        doomed = [h for h, t in self._tokens.items() if t.user_id == user_id and h != keep]
        for token_hash in doomed:
            del self._tokens[token_hash]
        return len(doomed)

    async def revoke_token(self, secret: str) -> None:
        self._tokens.pop(hash_token(secret), None)

    async def principal_for_token(self, secret: str) -> Principal | None:
        token = self._tokens.get(hash_token(secret))
        if token is None or token.expires_at <= datetime.now(UTC) or token.user_id not in self._users:
            return None
        user = self._users[token.user_id].read
        workspaces: tuple[tuple[str, Literal["editor", "viewer"]], ...] = tuple(
            (ws, role) for (ws, uid), role in self._members.items() if uid == user.id
        )
        kind = "session" if token.kind == "session" else "token"
        return Principal(kind=kind, user_id=user.id, username=user.username, role=user.role, workspaces=workspaces)

    async def create_api_key(
        self,
        name: str,
        endpoints: list[str],
        rate_limit_per_minute: int | None,
        created_by: str | None,
        owner_id: str | None = None,
    ) -> tuple[ApiKeyRead, str]:
        secret = new_api_key()
        key = ApiKeyRead(
            id=uuid.uuid4().hex,
            name=name,
            prefix=secret[:10],
            endpoints=list(endpoints),
            rate_limit_per_minute=rate_limit_per_minute,
            created_by=created_by,
            owner_id=owner_id,
            created_at=datetime.now(UTC),
        )
        self._keys[key.id] = (key, hash_token(secret))
        return key, secret

    async def list_api_keys(self, owner_id: str | None = None) -> list[ApiKeyRead]:
        found = [k for k, _ in self._keys.values() if owner_id is None or k.owner_id == owner_id]
        return sorted(found, key=lambda k: k.created_at, reverse=True)

    async def get_api_key(self, key_id: str) -> ApiKeyRead:
        try:
            return self._keys[key_id][0]
        except KeyError:
            raise NotFoundError(f"API key {key_id!r} not found", extra={"key_id": key_id}) from None

    async def revoke_api_key(self, key_id: str) -> ApiKeyRead:
        key = await self.get_api_key(key_id)
        if key.revoked_at is None:
            key = msgspec.structs.replace(key, revoked_at=datetime.now(UTC))
            self._keys[key_id] = (key, self._keys[key_id][1])
        return key

    async def principal_for_key(self, secret: str) -> Principal | None:
        wanted = hash_token(secret)
        key = next((k for k, h in self._keys.values() if h == wanted and k.revoked_at is None), None)
        if key is None:
            return None
        return Principal(
            kind="api_key",
            key_id=key.id,
            key_name=key.name,
            endpoints=tuple(key.endpoints),
            rate_limit_per_minute=key.rate_limit_per_minute,
            key_owner_id=key.owner_id,
        )
