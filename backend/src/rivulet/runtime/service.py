"""``RunService``: starts runs of stored flow versions, records their history and tracks the active ones.

Lifecycle of a run: ``create_run`` (status ``running``, owner = this process) → the executor runs it in a task
while its events stream through the bus → at the end every event is flushed, node states are saved and the
run row gets its final status. A heartbeat marks this process's runs alive; on start, runs left ``running``
by a process that died (no heartbeat for ``stale_after_s``) become ``interrupted``, keeping their events.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

import msgspec

from rivulet.lib.exceptions import ConflictError, NotFoundError
from rivulet.lib.ids import random_id
from rivulet.lib.log import get_logger
from rivulet.records.runs import FinishedRun, NodeRunRecord, RunQuery, RunRecord, RunTrigger
from rivulet.runtime.cache import run_key
from rivulet.runtime.executor import Executor, RunHandle, RunOptions, RunResult
from rivulet.runtime.preview import preview
from rivulet.runtime.recorder import RunRecorder
from rivulet.runtime.reruns import resolve_variables, select_rerun

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Callable

    from rivulet.compiler.flow import FlowDocument
    from rivulet.compiler.graph import CompiledGraph
    from rivulet.records.events import Event
    from rivulet.runtime.bus import EventBus
    from rivulet.sdk.triggers import RunHistory
    from rivulet.storage.base import FlowStore, RunStore

__all__ = ("RunDetail", "RunRequest", "RunService", "RunServiceConfig")

_log = get_logger(__name__)
_KEEP_ENDED = 1024
INTERRUPTED_REASON = "the process executing this run stopped before it finished (crash, kill or restart)"


class RunDetail(msgspec.Struct, frozen=True, kw_only=True):
    """A run with the state of each node."""

    run: RunRecord
    nodes: list[NodeRunRecord]
    last_seq: int = 0
    """The seq of the latest event (subscribe with ``after_seq`` = this to get only new ones)."""


class RunRequest(msgspec.Struct, frozen=True, kw_only=True):
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
    live_after_s: float = 0.5
    """A run of ``RunService.execute`` still going after this long (checked every half of it) is recorded live
    from then on."""


class _Active:
    __slots__ = ("collected", "going_live", "handle", "record", "since", "supervisor")

    def __init__(self, record: RunRecord, handle: RunHandle, collected: list[Event] | None = None) -> None:
        self.record = record
        self.handle = handle
        self.supervisor: asyncio.Task[RunResult] | None = None
        self.collected = collected
        """The events so far of a run recorded at its end (``None``: the run is recorded live)."""
        self.going_live: asyncio.Future[None] | None = None
        self.since = time.monotonic()


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
        self.recorder = RunRecorder(runs.record_runs)
        """Writes runs recorded at their end, in groups."""
        self._active: dict[str, _Active] = {}
        self._heartbeat: asyncio.Task[None] | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._ended: OrderedDict[str, asyncio.Task[RunResult]] = OrderedDict()
        """The supervisors of the latest runs that ended (``wait`` after a quick run's end)."""
        self._executing: set[asyncio.Future[None]] = set()
        """One future per run of ``execute`` in flight, done once it is recorded."""

    async def start(self) -> list[str]:
        """Start the bus and the heartbeat; mark orphaned runs ``interrupted``. Returns their ids."""
        await self.bus.start()
        orphans = await self.runs.interrupt_orphans(
            owner=self.owner, stale_after_s=self.config.stale_after_s, reason=INTERRUPTED_REASON
        )
        if orphans:
            _log.warning("runs interrupted by a previous process", extra={"run_ids": orphans})
        self._heartbeat = asyncio.create_task(self._beat(), name="rivulet-run-heartbeat")
        self._sweeper = asyncio.create_task(self._sweep(), name="rivulet-run-sweeper")
        return orphans

    async def close(self) -> None:
        """Stop active runs (they end ``interrupted``), record them, flush events, stop the bus."""
        for task in (self._heartbeat, self._sweeper):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        supervisors = [a.supervisor for a in self._active.values() if a.supervisor is not None]
        for active in self._active.values():
            if active.handle.task is not None:
                active.handle.task.cancel()
        if supervisors:
            await asyncio.wait(supervisors, timeout=5)
        if self._executing:  # runs of ``execute`` record themselves
            await asyncio.wait(self._executing, timeout=5)
        await self.recorder.close()
        await self.bus.close()

    async def _sweep(self) -> None:
        """Runs recorded at their end that last longer than ``live_after_s`` go live (checked twice a period)."""
        while True:
            await asyncio.sleep(self.config.live_after_s / 2)
            due = time.monotonic() - self.config.live_after_s
            for active in list(self._active.values()):
                if active.collected is not None and active.since <= due:
                    self._go_live(active)

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
        graph = await asyncio.to_thread(self.compile_graph, document)  # big templates: seconds of CPU
        return await self.start_graph(graph, request)

    async def start_graph(self, graph: CompiledGraph, request: RunRequest, *, run_id: str | None = None) -> RunRecord:
        """Start running an already compiled graph (``rivulet run``, tests)."""
        record, options = await self._prepare(graph, request, run_id)
        await self.runs.create_run(record)
        handle = self.executor.start(graph, run_id=record.id, options=options)
        active = self._active[record.id] = _Active(record, handle)
        active.supervisor = asyncio.create_task(self._supervise(active), name=f"rivulet-supervise-{record.id}")
        return record

    async def execute(
        self, graph: CompiledGraph, request: RunRequest, *, history: RunHistory = "full", durable: bool = True
    ) -> RunResult:
        """Run ``graph`` to the end in the calling task (published endpoint calls).

        The run is recorded when it ends, in one write shared with the other runs ending then, instead of as it
        goes. One still going after ``RunServiceConfig.live_after_s``, or that somebody subscribes to, is
        recorded live from then on. Cancelling the calling task interrupts the run.

        Args:
            graph: What to run.
            request: Inputs and options.
            history: ``summary`` keeps only the run row and its start and end events of a run that succeeded;
                ``full`` (and any run that did not succeed) also keeps every node state and event.
            durable: Return once the run is committed; ``False`` returns at once (``get``/``events`` serve
                the run from memory until it is written; a crash before that loses its record).

        Raises:
            Exception: With ``durable``, the run could not be recorded (the store's error, after retries).
        """
        # endpoint calls are not re-run from the editor: keep their node outputs out of the re-run cache
        # a summary drops node events from the history, unless something happens that keeps the run whole
        record, options = await self._prepare(
            graph, request, None, keep_outputs=False, defer_node_events=history == "summary"
        )
        collected: list[Event] = []
        handle = self.executor.open(graph, run_id=record.id, options=options, publish=collected.append)
        task = asyncio.current_task()
        assert task is not None
        handle.attach(cast("asyncio.Task[RunResult]", task))
        active = self._active[record.id] = _Active(record, handle, collected)
        recorded = asyncio.get_running_loop().create_future()
        self._executing.add(recorded)
        try:
            return await self._execute_and_record(active, history, durable)
        finally:
            self._active.pop(record.id, None)
            self._executing.discard(recorded)
            recorded.set_result(None)

    async def _prepare(
        self,
        graph: CompiledGraph,
        request: RunRequest,
        run_id: str | None,
        *,
        keep_outputs: bool = True,
        defer_node_events: bool = False,
    ) -> tuple[RunRecord, RunOptions]:
        options, reuse_from = await self._options(
            graph, request, keep_outputs=keep_outputs, defer_node_events=defer_node_events
        )
        now = datetime.now(UTC)
        record = RunRecord(
            id=run_id or random_id(),
            flow_id=graph.flow_id,
            flow_version=graph.flow_version,
            status="running",
            trigger=request.trigger,
            inputs=_previews(request.inputs),
            reuse_from=reuse_from,
            owner=self.owner,
            created_at=now,
            started_at=now,
        )
        return record, options

    async def _execute_and_record(self, active: _Active, history: RunHistory, durable: bool) -> RunResult:
        result = await active.handle.execute()
        if active.going_live is not None:
            with contextlib.suppress(Exception):  # it did not go live after all: recorded at the end below
                await active.going_live
        if active.collected is None:
            await self._record_end(active.record.id, result)
            return result
        # it ends recorded at its end: from here on only the recorder knows it (no going live any more)
        self._active.pop(active.record.id, None)
        record = msgspec.structs.replace(
            active.record,
            status=result.status,
            outputs=_previews(result.outputs),
            error=result.error,
            finished_at=datetime.now(UTC),
        )
        events = active.collected
        # a summary drops node events, but the chunks of a streamed output are its value: keep those runs whole
        streamed = any(hasattr(value, "__aiter__") for value in result.outputs.values())
        if history == "summary" and result.status == "succeeded" and not streamed:
            summary = (events[0], msgspec.structs.replace(events[-1], seq=2))
            finished = FinishedRun(run=record, nodes=(), events=summary)
        else:
            finished = FinishedRun(run=record, nodes=result.node_records(), events=events)
        if durable:
            await self.recorder.record(finished)
        else:
            await self.recorder.submit(finished)
        return result

    def _go_live(self, active: _Active) -> asyncio.Future[None]:
        """Start recording a run recorded at its end live (idempotent); the future is done once it is."""
        if active.going_live is None:
            active.handle.materialize()  # its deferred node events first, then every event as it comes
            active.going_live = asyncio.ensure_future(self._make_live(active))
        return active.going_live

    async def _make_live(self, active: _Active) -> None:
        await self.runs.create_run(active.record)
        collected, active.collected = active.collected, None
        publish = self.bus.publish
        for event in collected or ():
            publish(event)
        active.handle.redirect(publish)

    async def _options(
        self, graph: CompiledGraph, request: RunRequest, *, keep_outputs: bool, defer_node_events: bool
    ) -> tuple[RunOptions, str | None]:
        editor = request.trigger == "editor"
        cache = self.executor.shared.cache
        base = RunOptions(
            inputs=dict(request.inputs),
            variables=resolve_variables(graph, request.variables or {}),
            trigger=request.trigger,
            deadline_s=request.deadline_s or self.config.default_deadline_s,
            use_cache=editor,
            record_outputs=keep_outputs and cache is not None,
            defer_node_events=defer_node_events,
        )
        if request.from_node is None and request.only_nodes is None:
            return base, None
        rerun = select_rerun(self.executor.plan(graph), request.from_node, request.only_nodes)
        latest = await self.runs.list_runs(RunQuery(flow_id=graph.flow_id, limit=1))
        reuse: dict[str, dict[str, Any]] = {}
        reuse_from = latest[0].id if latest else None
        if reuse_from is not None and cache is not None:
            for node_id in graph.order:
                recorded = None if node_id in rerun else cache.get(run_key(reuse_from, node_id))
                if recorded is not None:  # reused only where the node would run on the same things (scheduler)
                    reuse[node_id] = recorded
        return msgspec.structs.replace(base, reuse=reuse, rerun=frozenset(rerun)), reuse_from

    async def _supervise(self, active: _Active) -> RunResult:
        run_id = active.record.id
        try:
            result = await active.handle.result()
            await self._record_end(run_id, result)
            return result
        except Exception:
            _log.exception("recording the end of a run failed", extra={"run_id": run_id})
            raise
        finally:
            self._active.pop(run_id, None)
            if active.supervisor is not None:  # ``wait`` may come after the end of a quick run
                self._ended[run_id] = active.supervisor
                if len(self._ended) > _KEEP_ENDED:
                    self._ended.popitem(last=False)

    async def _record_end(self, run_id: str, result: RunResult) -> None:
        """The end of a live run: its last events, node states and final status."""
        await self.bus.flush()
        await self.runs.save_node_runs(run_id, result.node_records())
        await self.runs.update_run(
            run_id,
            status=result.status,
            outputs=_previews(result.outputs),
            error=result.error,
            finished_at=datetime.now(UTC),
        )

    # -- queries and control ----------------------------------------------------------------------------------

    async def get(self, run_id: str) -> RunDetail:
        """A run and its node states (live ones for an active run). Raises ``NotFoundError``."""
        active = self._active.get(run_id)
        if active is not None and active.collected is not None:  # not stored yet
            return RunDetail(run=active.record, nodes=active.handle.node_records(), last_seq=active.handle.last_seq)
        if (pending := self.recorder.pending(run_id)) is not None:  # ended, being written
            return RunDetail(run=pending.run, nodes=list(pending.nodes), last_seq=pending.events[-1].seq)
        record = await self.runs.get_run(run_id)
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
        active = self._active.get(run_id)
        pending = self.recorder.pending(run_id)
        if pending is not None or (active is not None and active.collected is not None):
            if active is not None and pending is None:
                active.handle.materialize()
            known = pending.events if pending is not None else active.collected if active is not None else None
            events = [event for event in known or () if event.seq > after_seq]
            return events if limit is None else events[:limit]
        await self.runs.get_run(run_id)
        return await self.bus.read(run_id, after_seq, limit)

    async def subscribe(self, run_id: str, after_seq: int = 0) -> AsyncGenerator[Event]:
        """Check the run exists, then follow it (``EventBus.subscribe``). Raises ``NotFoundError``."""
        active = self._active.get(run_id)
        if active is not None and active.collected is not None:
            await self._go_live(active)  # a watched run is recorded live, so the bus can serve it
        elif (pending := self.recorder.pending(run_id)) is not None:
            return _replay([event for event in pending.events if event.seq > after_seq])
        await self.runs.get_run(run_id)
        return self.bus.subscribe(run_id, after_seq)

    async def cancel(self, run_id: str, message: str = "cancelled by user") -> RunRecord:
        """Cancel an active run of this process.

        Raises:
            NotFoundError: No such run.
            ConflictError: The run already ended, or runs in another process.
        """
        active = self._active.get(run_id)
        if active is not None and active.collected is not None:
            active.handle.cancel(message)
            return active.record
        if (pending := self.recorder.pending(run_id)) is not None:
            extra = {"run_id": run_id, "run_status": pending.run.status}
            raise ConflictError(f"run {run_id!r} has already ended", extra=extra)
        record = await self.runs.get_run(run_id)
        if active is None:
            where = "has already ended" if record.status not in ("queued", "running") else "runs in another process"
            raise ConflictError(f"run {run_id!r} {where}", extra={"run_id": run_id, "run_status": record.status})
        active.handle.cancel(message)
        return record

    async def wait(self, run_id: str) -> RunResult:
        """Wait until a run started in this process is finished and recorded (at once for one that just ended)."""
        active = self._active.get(run_id)
        supervisor = active.supervisor if active is not None else self._ended.get(run_id)
        if supervisor is None:
            raise NotFoundError(f"run {run_id!r} is not active in this process", extra={"run_id": run_id})
        return await asyncio.shield(supervisor)

    @property
    def active_run_ids(self) -> tuple[str, ...]:
        """Runs this process is executing."""
        return tuple(self._active)


def _previews(values: dict[str, Any]) -> dict[str, Any]:
    """What run history keeps of inputs or outputs: a preview of each value, up to 64 KB each."""
    return {name: preview(value, 65_536)[0] for name, value in values.items()}


async def _replay(events: list[Event]) -> AsyncGenerator[Event]:
    for event in events:
        yield event
