"""``RunService``: starts runs of stored flow versions, records their history and tracks the active ones.

Lifecycle of a run: ``create_run`` (status ``running``, owner = this process) → the executor runs it in a task
while its events stream through the bus → at the end every event is flushed, node states are saved and the
run row gets its final status. A heartbeat marks this process's runs alive; on start, runs left ``running``
by a process that died (no heartbeat for ``stale_after_s``) become ``interrupted``, keeping their events.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import socket
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import msgspec

from rivulet.lib.exceptions import ConflictError, NotFoundError
from rivulet.lib.log import get_logger
from rivulet.runtime.cache import run_key
from rivulet.runtime.executor import Executor, RunHandle, RunOptions, RunResult
from rivulet.runtime.preview import preview
from rivulet.runtime.reruns import resolve_variables, select_rerun
from rivulet.storage.base import NodeRunRecord, RunQuery, RunRecord, RunTrigger

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Callable

    from rivulet.compiler.flow import FlowDocument
    from rivulet.compiler.graph import CompiledGraph
    from rivulet.runtime.bus import EventBus
    from rivulet.runtime.events import Event
    from rivulet.storage.base import FlowStore, RunStore

__all__ = ("RunDetail", "RunRequest", "RunService", "RunServiceConfig")

_log = get_logger(__name__)
INTERRUPTED_REASON = "the process executing this run stopped before it finished (crash, kill or restart)"


class RunDetail(msgspec.Struct, frozen=True, kw_only=True):
    """A run with the state of each node."""

    run: RunRecord
    nodes: list[NodeRunRecord]
    last_seq: int = 0
    """The seq of the latest event (subscribe with ``after_seq`` = this to get only new ones)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RunRequest:
    """What to run and how."""

    inputs: dict[str, Any]
    version: int | None = None
    """The flow version (latest when ``None``)."""
    trigger: RunTrigger = "api"
    variables: dict[str, Any] | None = None
    from_node: str | None = None
    """Re-run this node and everything downstream; reuse the latest run's results for the rest."""
    only_nodes: Sequence[str] | None = None
    """Re-run exactly these nodes; reuse the latest run's results for the rest."""
    deadline_s: float | None = None


@dataclass(frozen=True, slots=True)
class RunServiceConfig:
    """Tuning of the run service."""

    stale_after_s: float = 30.0
    """A run without heartbeat for this long belongs to a dead process (0 with a single-process database)."""
    heartbeat_s: float = 10.0
    """How often the heartbeat of active runs is written."""
    default_deadline_s: float | None = None
    """Deadline for runs that do not ask for one."""


class _Active:
    __slots__ = ("handle", "record", "supervisor")

    def __init__(self, record: RunRecord, handle: RunHandle) -> None:
        self.record = record
        self.handle = handle
        self.supervisor: asyncio.Task[RunResult] | None = None


class RunService:
    """Runs flows and answers questions about runs.

    Args:
        flows: Where flow versions come from.
        runs: Run history.
        bus: The event bus (persisting into ``runs``).
        executor: Executes compiled graphs (its cache enables partial re-runs).
        compile_graph: ``FlowDocument → CompiledGraph`` (the compiler with this process's registry).
        config: Tuning.
    """

    def __init__(
        self,
        *,
        flows: FlowStore,
        runs: RunStore,
        bus: EventBus,
        executor: Executor,
        compile_graph: Callable[[FlowDocument], CompiledGraph],
        config: RunServiceConfig | None = None,
    ) -> None:
        self.flows = flows
        self.runs = runs
        self.bus = bus
        self.executor = executor
        self.compile_graph = compile_graph
        self.config = config or RunServiceConfig()
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._active: dict[str, _Active] = {}
        self._heartbeat: asyncio.Task[None] | None = None

    async def start(self) -> list[str]:
        """Start the bus and the heartbeat; mark orphaned runs ``interrupted``. Returns their ids."""
        await self.bus.start()
        orphans = await self.runs.interrupt_orphans(
            owner=self.owner, stale_after_s=self.config.stale_after_s, reason=INTERRUPTED_REASON
        )
        if orphans:
            _log.warning("runs interrupted by a previous process", extra={"run_ids": orphans})
        self._heartbeat = asyncio.create_task(self._beat(), name="rivulet-run-heartbeat")
        return orphans

    async def close(self) -> None:
        """Stop active runs (they end ``interrupted``), record them, flush events, stop the bus."""
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
        supervisors = [a.supervisor for a in self._active.values() if a.supervisor is not None]
        for active in self._active.values():
            active.handle.task.cancel()
        if supervisors:
            await asyncio.wait(supervisors, timeout=5)
        await self.bus.close()

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.config.heartbeat_s)
            try:
                await self.runs.heartbeat(self.owner, list(self._active))
            except Exception:  # noqa: BLE001 - a missed heartbeat is retried next period
                _log.warning("run heartbeat failed", exc_info=True)

    # -- starting runs ----------------------------------------------------------------------------------------

    async def start_flow_run(self, flow_id: str, request: RunRequest) -> RunRecord:
        """Compile a stored flow version and start running it.

        Raises:
            NotFoundError: No such flow or version.
            CompileError: The flow does not compile (nothing is recorded).
            ValidationError: A bad ``from_node``/``only_nodes`` or a missing required variable.
        """
        if request.version is None:
            document = (await self.flows.get(flow_id)).document
        else:
            document = (await self.flows.get_version(flow_id, request.version)).document
        graph = self.compile_graph(document)
        return await self.start_graph(graph, request)

    async def start_graph(self, graph: CompiledGraph, request: RunRequest, *, run_id: str | None = None) -> RunRecord:
        """Start running an already compiled graph (``rivulet run``, tests)."""
        options, reuse_from = await self._options(graph, request)
        record = RunRecord(
            id=run_id or uuid.uuid4().hex,
            flow_id=graph.flow_id,
            flow_version=graph.flow_version,
            status="running",
            trigger=request.trigger,
            inputs={name: preview(value, 65_536)[0] for name, value in request.inputs.items()},
            reuse_from=reuse_from,
            owner=self.owner,
            created_at=datetime.now(UTC),
            started_at=datetime.now(UTC),
        )
        await self.runs.create_run(record)
        handle = self.executor.start(graph, run_id=record.id, options=options)
        active = self._active[record.id] = _Active(record, handle)
        active.supervisor = asyncio.create_task(self._supervise(active), name=f"rivulet-supervise-{record.id}")
        return record

    async def _options(self, graph: CompiledGraph, request: RunRequest) -> tuple[RunOptions, str | None]:
        editor = request.trigger == "editor"
        cache = self.executor.shared.cache
        base = RunOptions(
            inputs=dict(request.inputs),
            variables=resolve_variables(graph, request.variables or {}),
            trigger=request.trigger,
            deadline_s=request.deadline_s or self.config.default_deadline_s,
            use_cache=editor,
            record_outputs=cache is not None,
        )
        if request.from_node is None and request.only_nodes is None:
            return base, None
        rerun = select_rerun(self.executor.plan(graph), request.from_node, request.only_nodes)
        latest = await self.runs.list_runs(RunQuery(flow_id=graph.flow_id, limit=1))
        reuse: dict[str, dict[str, Any]] = {}
        reuse_from = latest[0].id if latest else None
        if reuse_from is not None and cache is not None:
            for node_id in graph.order:
                outputs = None if node_id in rerun else cache.get(run_key(reuse_from, node_id))
                if outputs is not None:
                    reuse[node_id] = outputs
        return dataclasses.replace(base, reuse=reuse, rerun=frozenset(rerun)), reuse_from

    async def _supervise(self, active: _Active) -> RunResult:
        run_id = active.record.id
        try:
            result = await active.handle.result()
            await self.bus.flush()
            await self.runs.save_node_runs(run_id, result.node_records())
            outputs = {name: preview(value, 65_536)[0] for name, value in result.outputs.items()}
            await self.runs.update_run(
                run_id, status=result.status, outputs=outputs, error=result.error, finished_at=datetime.now(UTC)
            )
            return result
        except Exception:
            _log.exception("recording the end of a run failed", extra={"run_id": run_id})
            raise
        finally:
            self._active.pop(run_id, None)

    # -- queries and control ----------------------------------------------------------------------------------

    async def get(self, run_id: str) -> RunDetail:
        """A run and its node states (live ones for an active run). Raises ``NotFoundError``."""
        record = await self.runs.get_run(run_id)
        active = self._active.get(run_id)
        if active is not None:
            return RunDetail(run=record, nodes=active.handle.node_records(), last_seq=active.handle.last_seq)
        nodes = await self.runs.list_node_runs(run_id)
        return RunDetail(run=record, nodes=nodes, last_seq=await self._last_seq(run_id))

    async def _last_seq(self, run_id: str) -> int:
        event = await self.runs.last_event(run_id)
        return 0 if event is None else event.seq

    async def list(self, query: RunQuery) -> list[RunRecord]:
        """Runs matching ``query``, newest first."""
        return await self.runs.list_runs(query)

    async def events(self, run_id: str, after_seq: int = 0, limit: int | None = None) -> list[Event]:
        """Events published so far with ``seq > after_seq``. Raises ``NotFoundError``."""
        await self.runs.get_run(run_id)
        return await self.bus.read(run_id, after_seq, limit)

    async def subscribe(self, run_id: str, after_seq: int = 0) -> AsyncGenerator[Event]:
        """Check the run exists, then follow it (``EventBus.subscribe``). Raises ``NotFoundError``."""
        await self.runs.get_run(run_id)
        return self.bus.subscribe(run_id, after_seq)

    async def cancel(self, run_id: str, message: str = "cancelled by user") -> RunRecord:
        """Cancel an active run of this process.

        Raises:
            NotFoundError: No such run.
            ConflictError: The run already ended, or runs in another process.
        """
        record = await self.runs.get_run(run_id)
        active = self._active.get(run_id)
        if active is None:
            where = "has already ended" if record.status not in ("queued", "running") else "runs in another process"
            raise ConflictError(f"run {run_id!r} {where}", extra={"run_id": run_id, "run_status": record.status})
        active.handle.cancel(message)
        return record

    async def wait(self, run_id: str) -> RunResult:
        """Wait until an active run of this process is finished and recorded."""
        active = self._active.get(run_id)
        if active is None or active.supervisor is None:
            raise NotFoundError(f"run {run_id!r} is not active in this process", extra={"run_id": run_id})
        return await asyncio.shield(active.supervisor)

    @property
    def active_run_ids(self) -> tuple[str, ...]:
        """Runs this process is executing."""
        return tuple(self._active)
