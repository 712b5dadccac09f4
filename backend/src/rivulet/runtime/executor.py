"""``Executor``: runs a ``CompiledGraph`` with the ready-set scheduler and publishes ``rivulet.events/v1``.

Example:
    >>> async def main(graph):  # doctest: +SKIP
    ...     executor = Executor(MemoryEventBus(MemoryRunStore()))
    ...     result = await executor.run(graph, options=RunOptions(inputs={"question": "hi"}))
    ...     return result.status, result.outputs
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import msgspec

from rivulet.lib.ids import random_id
from rivulet.records.events import ErrorInfo, RunStatus
from rivulet.records.runs import NodeRunRecord
from rivulet.runtime._node_state import NodeState
from rivulet.runtime._nodes import run_node
from rivulet.runtime._run_state import RunState
from rivulet.runtime.options import ExecutorShared, RunOptions
from rivulet.runtime.plan import ExecutionPlan
from rivulet.runtime.preview import preview_map

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping

    from rivulet.compiler.graph import CompiledGraph
    from rivulet.records.events import Event
    from rivulet.runtime.bus import EventBus
    from rivulet.runtime.cache import NodeCache

__all__ = ("Executor", "ExecutorShared", "RunHandle", "RunOptions", "RunResult")


class RunResult(msgspec.Struct, frozen=True):
    """The outcome of a run."""

    run_id: str
    status: RunStatus
    outputs: dict[str, Any]
    """Values of the output nodes (``core.output`` nodes, else the leaves) by name or node id."""
    error: ErrorInfo | None
    duration_ms: float
    nodes: dict[str, NodeState]

    def node_outputs(self, node_id: str) -> dict[str, Any] | None:
        """The port values a node produced, when it succeeded."""
        state = self.nodes.get(node_id)
        return None if state is None or state.status != "succeeded" else state.outputs

    def node_records(self, preview_bytes: int = 2048) -> list[NodeRunRecord]:
        """Per-node history rows with bounded previews."""
        return [_record(node_id, state, preview_bytes) for node_id, state in self.nodes.items()]


def _stamp(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


def _record(node_id: str, state: NodeState, preview_bytes: int) -> NodeRunRecord:
    duration = None if state.started is None or state.finished is None else (state.finished - state.started) * 1000
    return NodeRunRecord(
        node_id=node_id,
        status=state.status,  # type: ignore[arg-type]
        attempts=state.attempts,
        cached=state.cached,
        started_at=_stamp(state.started),
        finished_at=_stamp(state.finished),
        duration_ms=duration,
        error=state.error,
        inputs_preview=preview_map(state.inputs or {}, preview_bytes),
        outputs_preview=preview_map(state.outputs or {}, preview_bytes),
    )


class RunHandle:
    """A run in flight: await ``result()``, or ``cancel()`` it.

    ``Executor.start`` runs it in a task of its own; ``Executor.open`` leaves it to the caller, who awaits
    ``execute()`` in the task that ``attach`` named (cancelling that task interrupts the run).
    """

    __slots__ = ("_state", "run_id", "task")

    def __init__(self, state: RunState, task: asyncio.Task[RunResult] | None = None) -> None:
        self._state = state
        self.run_id = state.run_id
        self.task: asyncio.Task[RunResult] | None = task

    def attach(self, task: asyncio.Task[RunResult]) -> None:
        """The task that executes the run (and whose result ``result()`` returns)."""
        self.task = task

    async def execute(self) -> RunResult:
        """Execute the run in the calling task (a handle from ``Executor.open``)."""
        return await _execute(self._state)

    def redirect(self, publish: Callable[[Event], None]) -> None:
        """Send the run's next events to ``publish`` (a run recorded at its end going live)."""
        self._state.redirect(publish)

    def materialize(self) -> None:
        """Publish the node events deferred so far (``RunOptions.defer_node_events``) and stop deferring."""
        self._state.materialize()

    def cancel(self, message: str = "cancelled by user") -> bool:
        """Request cancellation; ``False`` when the run already ended or is already being cancelled."""
        return self._state.cancel(message)

    @property
    def last_seq(self) -> int:
        """The seq of the latest event of the run."""
        return self._state.seq

    def node_records(self, preview_bytes: int = 2048) -> list[NodeRunRecord]:
        """A snapshot of every node's state (``pending`` for nodes not reached yet)."""
        state = self._state
        return [
            NodeRunRecord(node_id=plan.node.id, status="pending")
            if (node := state.states[plan.index]) is None
            else _record(plan.node.id, node, preview_bytes)
            for plan in state.plan.nodes
        ]

    async def result(self) -> RunResult:
        """Wait for the end of the run."""
        assert self.task is not None, "the run was opened but never attached to a task"
        return await asyncio.shield(self.task)

    def done(self) -> bool:
        """Whether the run has finished."""
        return self.task is not None and self.task.done()


class Executor:
    """Executes compiled graphs. One instance per process: it owns the per-operator concurrency limits.

    Args:
        bus: Where events go.
        cache: The node cache (``None``: no caching, no partial re-runs).
        services: Shared services by Protocol type, for ``RunContext.service``.
        secrets: Resolves a secret by name for ``RunContext.secret``.
    """

    def __init__(
        self,
        bus: EventBus,
        *,
        cache: NodeCache | None = None,
        services: Mapping[type[Any], Any] | None = None,
        secrets: Callable[[str], Awaitable[str]] | None = None,
    ) -> None:
        self.shared = ExecutorShared(bus=bus, cache=cache, services=services or {}, secrets=secrets)
        self._plans: OrderedDict[int, ExecutionPlan] = OrderedDict()

    def plan(self, graph: CompiledGraph) -> ExecutionPlan:
        """The execution plan of ``graph`` (memoised for the most recent graphs)."""
        plan = self._plans.get(id(graph))
        if plan is not None and plan.graph is graph:
            self._plans.move_to_end(id(graph))
            return plan
        plan = ExecutionPlan(graph)
        self._plans[id(graph)] = plan
        if len(self._plans) > 256:
            self._plans.popitem(last=False)
        semaphores = self.shared.semaphores
        for node in plan.nodes:
            limit = node.node.spec.concurrency
            if limit is not None and node.operator_id not in semaphores:
                semaphores[node.operator_id] = asyncio.Semaphore(limit)
        return plan

    def start(self, graph: CompiledGraph, *, run_id: str | None = None, options: RunOptions | None = None) -> RunHandle:
        """Start a run in a new task and return its handle at once."""
        handle = self.open(graph, run_id=run_id, options=options)
        handle.attach(asyncio.get_running_loop().create_task(handle.execute(), name=f"rivulet-run-{handle.run_id}"))
        return handle

    def open(
        self,
        graph: CompiledGraph,
        *,
        run_id: str | None = None,
        options: RunOptions | None = None,
        publish: Callable[[Event], None] | None = None,
    ) -> RunHandle:
        """Prepare a run without starting it (``RunHandle.execute``); ``publish`` replaces the bus for its events."""
        plan, options = self.plan(graph), options or RunOptions()
        state = RunState(plan, run_id or random_id(), options, self.shared, run_node=run_node, publish=publish)
        return RunHandle(state)

    async def run(
        self, graph: CompiledGraph, *, run_id: str | None = None, options: RunOptions | None = None
    ) -> RunResult:
        """Run to the end."""
        return await self.start(graph, run_id=run_id, options=options).result()


def _outputs(state: RunState) -> dict[str, Any]:
    explicit = bool(state.plan.graph.output_nodes)
    outputs: dict[str, Any] = {}
    for node_id in state.plan.output_ids:
        node = state.plan.by_id[node_id]
        record = state.states[node.index]
        if record is None or record.status != "succeeded":
            continue
        values = (record.inputs if explicit else record.outputs) or {}
        name = getattr(node.node.params, "name", None)
        key = name if isinstance(name, str) and name else node_id
        outputs[key] = next(iter(values.values())) if len(values) == 1 else values
    return outputs


async def _execute(state: RunState) -> RunResult:
    duration = await state.execute()
    reason = state.scope.reason
    status: RunStatus
    if state.failure is not None:
        status = "failed"
    elif reason == "shutdown":
        status = "interrupted"
    elif reason == "user":
        status = "cancelled"
    else:
        status = "succeeded"
    outputs = _outputs(state) if status == "succeeded" else {}
    state.finish(status, outputs, duration)
    nodes = {
        node.node.id: node_state
        for node, node_state in zip(state.plan.nodes, state.states, strict=True)
        if node_state is not None
    }
    return RunResult(state.run_id, status, outputs, state.failure, duration, nodes)
