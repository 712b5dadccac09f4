"""``RunState``: one run in flight, its events and its ready set (internal; ``executor.Executor`` is the public face).

Each node waits for its incoming edges to *settle*: an edge settles when its source delivers a value (or a live
stream) on it, or when it is known that the source will not (an untaken branch, a skipped or failed source).
When the last edge settles the node is *decided*: it is skipped when a required input is missing (or nothing at
all arrived), served from the reuse map or the cache, or started. Decisions run off an explicit work stack, never
by recursion, so a chain of any length runs in constant stack depth.

Where a node runs: the run's own task runs the first root; a node task that finishes continues with the first
node its outputs made ready (a *hand-off*); every other ready node gets a task of its own (running ``run_node``,
which the executor gives: this module does not import the node runner). So a chain runs in one task without a
loop turn per node, while the branches of a fan-out still overlap. A task that runs nodes is in ``scope.tasks``
while it does, so cancellation reaches it like any node task.

What a node runner may do with a run (its whole API): ``start_attempt`` and ``retrying`` for attempts,
``publish_output``/``publish_chunk``/``deliver`` for a stream as it flows, and one outcome when the node ends:
``succeed`` (the only way a node succeeds, whether it ran, was served from the cache or streamed), ``fail`` or
``cancel_node``; skips are decided here. Seqs are reserved here only: in a quiet run (``quiet``) the events of
successful nodes are not built, only their seqs reserved, and ``materialize`` builds them if asked.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any, cast

from rivulet.records.events import (
    ErrorInfo,
    NodeChunk,
    NodeFailed,
    NodeOutput,
    NodeProgress,
    NodeSkipped,
    NodeStarted,
    NodeSucceeded,
    RunCancelled,
    RunFinished,
    RunStarted,
)
from rivulet.runtime._node_state import NodeState
from rivulet.runtime._reuse import run_reuse
from rivulet.runtime.cancellation import CancelScope
from rivulet.runtime.context import RunEnvironment
from rivulet.runtime.plan import DELIVER_COLLECT, DELIVER_STREAM
from rivulet.runtime.preview import preview
from rivulet.runtime.streams import join_collected

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine, Iterable

    from rivulet.records.events import Event
    from rivulet.runtime.options import ExecutorShared, RunOptions
    from rivulet.runtime.plan import EdgePlan, ExecutionPlan, NodePlan
    from rivulet.runtime.streams import StreamFanout

__all__ = ("Handoff", "RunState")

Handoff = tuple["NodePlan", NodeState] | None
"""The node a finishing node task runs next (decided and started in its state), or ``None``."""

_SHUTDOWN = "the server shut down while the run was executing"


def _output_event(run_id: str, seq: int, ts: float, node_id: str, *, port: str, value: Any) -> NodeOutput:
    """``node_output`` with a bounded preview of ``value``."""
    shown, cut = preview(value)
    return NodeOutput(run_id=run_id, seq=seq, ts=ts, node_id=node_id, port=port, preview=shown, truncated=cut)


def _succeeded_event(run_id: str, seq: int, ts: float, node_id: str, state: NodeState) -> NodeSucceeded:
    duration, cached = state.duration_ms, state.cached
    return NodeSucceeded(run_id=run_id, seq=seq, ts=ts, node_id=node_id, duration_ms=duration, cached=cached)


def _deferred_events(run_id: str, node_id: str, state: NodeState) -> list[Event]:
    """The events of a node whose seqs a quiet run reserved (``node_started``; outputs and ``node_succeeded``)."""
    events: list[Event] = []
    if state.seq_started is not None:
        ts = state.started or 0.0
        events.append(NodeStarted(run_id=run_id, seq=state.seq_started, ts=ts, node_id=node_id, attempt=1))
    if state.seq_done is not None:
        seq, ts = state.seq_done, state.finished or 0.0
        for port, value in (state.outputs or {}).items():
            events.append(_output_event(run_id, seq, ts, node_id, port=port, value=value))
            seq += 1
        events.append(_succeeded_event(run_id, seq, ts, node_id, state))
    return events


def _seq(event: Event) -> int:
    return event.seq


def _dropped_progress(node_id: str, value: float, maximum: float | None) -> None:
    """``node_progress`` reported after the end of its run: dropped."""


def _skip_reason(node: NodePlan, values: dict[str, Any]) -> str | None:
    """Why a node whose inputs have all settled does not run, or ``None``."""
    if node.node.disabled:
        return "the node is disabled"
    for port in node.required:
        if port not in values:
            return f"required input {port!r} was not produced"
    if node.has_inputs and not values:
        return "no input was produced"
    return None


class RunState:
    """Everything about one run in flight.

    Args:
        plan: The graph's execution plan.
        run_id: The run.
        options: How it runs.
        shared: What the executor's runs share.
        run_node: Runs one node to its end, in a node task (``_nodes.run_node``).
        publish: Where its events go (default: the bus).
    """

    def __init__(
        self,
        plan: ExecutionPlan,
        run_id: str,
        options: RunOptions,
        shared: ExecutorShared,
        *,
        run_node: Callable[[RunState, NodePlan, NodeState], Coroutine[Any, Any, None]],
        publish: Callable[[Event], None] | None = None,
    ) -> None:
        count = len(plan.nodes)
        self.plan = plan
        self.run_id = run_id
        self._options = options
        self.semaphores = shared.semaphores
        """Per-operator concurrency limits."""
        self._run_node = run_node
        self._publish = shared.bus.publish if publish is None else publish
        """Where events go: the bus, or the caller's sink (switched with ``redirect``)."""
        self.quiet = False
        """Node events of successful nodes are deferred (``RunOptions.defer_node_events``): only their seqs are
        reserved; ``materialize`` builds them, and any other event published meanwhile calls it first."""
        self._sink = self._publish
        self._sealed = False
        self._defer = options.defer_node_events
        self.reuse = run_reuse(plan.graph.flow_id, run_id, options, shared)
        """Cache lookups and recording (``None``: the run does neither)."""
        self.tight = self.reuse is None
        """Nothing is looked up or stored in the cache: a quiet run may run its plain nodes in a tight loop
        (``_nodes._run_plain``)."""
        self.seq = 0
        """The seq of the latest event (published or reserved)."""
        self._waiting = list(plan.waits)
        self._values: list[dict[str, Any] | None] = [None] * count
        self.states: list[NodeState | None] = [None] * count
        """Each node's state by plan index (``None``: not decided yet)."""
        self._remaining = count
        self.scope = CancelScope()
        self.failure: ErrorInfo | None = None
        self._done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._stack: list[NodePlan] = []
        self._draining = False
        self._handoff_open = False
        """A node task is finishing and may continue with one node that becomes ready (``_take_handoff``)."""
        self._handoff: Handoff = None
        self.env = RunEnvironment(
            run_id=run_id,
            run_inputs=options.inputs,
            variables=options.variables,
            cancelled=self.scope.event,
            progress=self._progress,
            services=shared.services,
            secrets=shared.secrets,
        )

    # -- events --------------------------------------------------------------------------------------------

    def _next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def publish_output(self, node_id: str, port: str, value: Any) -> None:
        """Emit ``node_output`` with a bounded preview of ``value``."""
        self._publish(_output_event(self.run_id, self._next_seq(), time.time(), node_id, port=port, value=value))

    def publish_chunk(self, node_id: str, port: str, index: int, item: Any) -> None:
        """Emit ``node_chunk``: one item of a stream, previewed."""
        data = preview(item)[0]
        seq = self._next_seq()
        self._publish(
            NodeChunk(run_id=self.run_id, seq=seq, ts=time.time(), node_id=node_id, port=port, data=data, index=index)
        )

    def _progress(self, node_id: str, value: float, maximum: float | None) -> None:
        if not self._done.done():
            seq = self._next_seq()
            self._publish(
                NodeProgress(run_id=self.run_id, seq=seq, ts=time.time(), node_id=node_id, value=value, max=maximum)
            )

    def _wake(self, event: Event) -> None:
        """An event while node events are deferred: the deferred ones go first."""
        self.materialize()
        self._publish(event)

    def materialize(self) -> None:
        """Publish the deferred node events (in seq order) and publish every later event as it comes."""
        self._defer = False  # called before the run started: it never defers
        if not self.quiet:
            return
        self.quiet = False
        self._publish = sink = self._sink
        if self._sealed:  # the run ended quietly: its history keeps only its start and end
            return
        events: list[Event] = []
        for plan, state in zip(self.plan.nodes, self.states, strict=True):
            if state is not None:
                events.extend(_deferred_events(self.run_id, plan.node.id, state))
        events.sort(key=_seq)
        for event in events:
            sink(event)

    def redirect(self, publish: Callable[[Event], None]) -> None:
        """Send the run's next events to ``publish`` (the deferred ones first go where events went so far)."""
        self.materialize()
        self._publish = publish

    # -- run lifecycle -------------------------------------------------------------------------------------

    async def execute(self) -> float:
        """Run to the end; returns the duration in ms. Never raises (failures become the run status)."""
        started = time.perf_counter()
        self._start()
        self._stack.extend(node for node in self.plan.nodes if node.waits_for == 0)
        self._handoff_open = True  # this task runs the first root itself (and the chain it starts)
        self._drain()
        first = self._take_handoff()
        if first is not None:
            await self._run_inline(*first)
        if self._remaining == 0 and not self._done.done():
            self._done.set_result(None)
        if not self._done.done():
            try:
                await asyncio.shield(self._done)
            except asyncio.CancelledError:
                self.scope.cancel("shutdown", _SHUTDOWN)
        self.scope.clear_deadline()
        if self.scope.cancelled:
            await self.scope.drain()
        return (time.perf_counter() - started) * 1000

    def _start(self) -> None:
        """``run_started``; then deferring node events (a quiet run) and the deadline."""
        graph = self.plan.graph
        self._publish(
            RunStarted(
                run_id=self.run_id,
                seq=self._next_seq(),
                ts=time.time(),
                flow_id=graph.flow_id,
                flow_version=graph.flow_version,
                node_ids=graph.order,
                trigger=self._options.trigger,
            )
        )
        if self._defer:
            self.quiet = True
            self._sink = self._publish
            self._publish = self._wake
        if self._options.deadline_s is not None:
            self.scope.set_deadline(self._options.deadline_s, self._deadline_expired)

    async def _run_inline(self, node: NodePlan, state: NodeState) -> None:
        """Run a node in the run's own task, cancellable like a node task while it runs."""
        task = cast("asyncio.Task[None]", asyncio.current_task())
        tasks = self.scope.tasks
        tasks.add(task)
        try:
            await self._run_node(self, node, state)
        finally:
            tasks.discard(task)
        if self.scope.cancelled:
            if task.cancelling():  # the run's own cancellation reached the node through this task: handled
                task.uncancel()
        elif task.cancelling():  # cancelled from outside while running the node: the process is stopping
            self.scope.cancel("shutdown", _SHUTDOWN)
            if not self._done.done():
                self._done.set_result(None)

    def _deadline_expired(self) -> None:
        seconds = self._options.deadline_s
        message = f"the run exceeded its deadline of {seconds:g} s"
        if not self._done.done() and self.scope.cancel("deadline", message):
            self.failure = ErrorInfo(code="deadline_exceeded", message=message, details={"deadline_s": seconds})
            self._done.set_result(None)

    def cancel(self, message: str) -> bool:
        """User cancellation: emits ``run_cancelled`` and stops every running node."""
        if self._done.done() or not self.scope.cancel("user", message):
            return False
        self._publish(RunCancelled(run_id=self.run_id, seq=self._next_seq(), ts=time.time(), reason=message))
        self._done.set_result(None)
        return True

    def _fail_run(self, error: ErrorInfo) -> None:
        """A node failed under ``on_error: fail``: stop the run."""
        if self.failure is None:
            self.failure = error
        self.scope.cancel("failure", error.message)
        if not self._done.done():
            self._done.set_result(None)

    def finish(self, status: str, outputs: dict[str, Any], duration_ms: float) -> None:
        """Emit the final ``run_finished``.

        Also unlinks the run's environment from this state (progress after the end is dropped anyway): without
        that reference cycle the run is freed as soon as the last reference goes, not by the cycle collector.
        """
        self.env.progress = _dropped_progress
        if self.quiet:
            if status == "succeeded":  # nothing but successes: the deferred node events are never needed
                self._sealed = True
            self.materialize()
        previews = {name: preview(value, 16_384)[0] for name, value in outputs.items()}
        self._publish(
            RunFinished(
                run_id=self.run_id,
                seq=self._next_seq(),
                ts=time.time(),
                status=status,  # type: ignore[arg-type]
                outputs=previews,
                error=self.failure,
                duration_ms=duration_ms,
            )
        )

    # -- attempts and outcomes -----------------------------------------------------------------------------

    def start_attempt(self, state: NodeState, node_id: str, attempt: int) -> None:
        """``node_started`` (in a quiet run only its seq: the event is built only if somebody asks for it)."""
        state.attempts = attempt
        if self.quiet:
            self.seq += 1
            state.seq_started = self.seq
        else:
            seq = self._next_seq()
            self._publish(NodeStarted(run_id=self.run_id, seq=seq, ts=time.time(), node_id=node_id, attempt=attempt))

    def retrying(self, node_id: str, error: ErrorInfo) -> None:
        """An attempt failed and another one follows: ``node_failed`` with ``retrying``."""
        seq = self._next_seq()
        self._publish(
            NodeFailed(run_id=self.run_id, seq=seq, ts=time.time(), node_id=node_id, error=error, retrying=True)
        )

    def succeed(
        self, node: NodePlan, state: NodeState, outputs: dict[str, Any], duration_ms: float, *, streamed: bool = False
    ) -> Handoff:
        """The one success path: a node that ran, was served from the cache or reused, or streamed to its end.

        ``node_output`` events, its edges settled, ``node_succeeded``; then it is remembered in the cache. In a
        quiet run the seqs of those events are reserved first (``materialize`` builds them), then its edges
        settle. A ``streamed`` node has published and delivered its outputs as they flowed: only
        ``node_succeeded`` is left, and nothing is remembered. Returns the node that the calling node task runs
        next, when its outputs made one ready (a hand-off). Written inline: it runs for every node.
        """
        state.status = "succeeded"
        state.outputs = outputs
        state.finished = now = time.time()
        state.duration_ms = duration_ms
        self._handoff_open = True
        try:
            if streamed:
                self._publish(_succeeded_event(self.run_id, self._next_seq(), time.time(), node.node.id, state))
            elif self.quiet:
                state.seq_done = self.seq + 1
                self.seq += len(outputs) + 1
                chain = node.chain
                if chain is not None and self.tight and not self._draining:
                    # ``deliver``, shorter: the next node of a chain waits for nothing else; in a run that never
                    # serves a node from the cache, deciding it cannot succeed a node, so it is decided at once
                    target = chain.target
                    values = {chain.target_port: outputs[chain.source_port]} if chain.source_port in outputs else {}
                    self._values[target.index] = values
                    self._waiting[target.index] = 0
                    if self.scope.reason is None and _skip_reason(target, values) is None:
                        self.states[target.index] = ready = NodeState("running", values, now)
                        self._handoff = (target, ready)
                    else:
                        self._decide(target)
                else:
                    self.deliver(node.out_edges, outputs)
            else:
                self._publish_success(node, state, outputs)
            if self.reuse is not None and not streamed:
                self.reuse.remember(node, state, outputs)
            self._remaining -= 1  # ``_node_done``
            if self._remaining == 0 and not self._done.done():
                self._done.set_result(None)
        finally:
            handoff, self._handoff = self._handoff, None  # ``_take_handoff``
            self._handoff_open = False
        return handoff

    def _publish_success(self, node: NodePlan, state: NodeState, outputs: dict[str, Any]) -> None:
        """``node_output`` events, then its edges settle, then ``node_succeeded``."""
        node_id = node.node.id
        for port, value in outputs.items():
            self.publish_output(node_id, port, value)
        self.deliver(node.out_edges, outputs)
        self._publish(_succeeded_event(self.run_id, self._next_seq(), time.time(), node_id, state))

    def fail(self, node: NodePlan, state: NodeState, error: ErrorInfo, edges: Iterable[EdgePlan] | None = None) -> None:
        """The node failed for good: ``node_failed``, then its ``on_error`` policy.

        ``edges``: those that have not settled yet (default: all its edges).
        """
        node_id = node.node.id
        self._publish(
            NodeFailed(run_id=self.run_id, seq=self._next_seq(), ts=time.time(), node_id=node_id, error=error)
        )
        state.status = "failed"
        state.error = error
        state.finished = time.time()
        policy = node.node.policy.on_error
        if policy == "fail":
            self._fail_run(error)
            return
        routed = {"error": error} if policy == "route" else None
        self.deliver(node.out_edges if edges is None else edges, routed)
        self._node_done()

    def cancel_node(self, state: NodeState) -> None:
        """The node's task was cancelled (the run is being cancelled)."""
        state.status = "cancelled"
        state.finished = time.time()

    def _skip(self, node: NodePlan, reason: str) -> None:
        self.states[node.index] = NodeState("skipped")
        seq = self._next_seq()
        self._publish(NodeSkipped(run_id=self.run_id, seq=seq, ts=time.time(), node_id=node.node.id, reason=reason))
        self.deliver(node.out_edges, None)
        self._node_done()

    def _node_done(self) -> None:
        self._remaining -= 1
        if self._remaining == 0 and not self._done.done():
            self._done.set_result(None)

    # -- delivering and deciding ----------------------------------------------------------------------------

    def deliver(
        self, edges: Iterable[EdgePlan], outputs: dict[str, Any] | None, fanouts: dict[str, StreamFanout] | None = None
    ) -> None:
        """Deliver ``outputs`` along ``edges`` (``None``: nothing produced) and decide nodes that became ready."""
        waiting = self._waiting
        stack = self._stack
        for edge in edges:
            if outputs is not None and edge.source_port in outputs:
                target = edge.target
                bucket = self._values[target.index]
                if bucket is None:
                    bucket = self._values[target.index] = {}
                if edge.mode == DELIVER_STREAM and fanouts is not None:
                    bucket[edge.target_port] = fanouts[edge.source_port].consume()
                elif edge.mode == DELIVER_COLLECT and fanouts is not None:
                    bucket[edge.target_port] = join_collected(fanouts[edge.source_port].items, as_text=edge.as_text)
                else:
                    bucket[edge.target_port] = outputs[edge.source_port]
            index = edge.target.index
            left = waiting[index] - 1
            waiting[index] = left
            if left == 0:
                stack.append(edge.target)
        self._drain()

    def _drain(self) -> None:
        if self._draining:
            return
        self._draining = True
        try:
            stack = self._stack
            while stack:
                self._decide(stack.pop())
        finally:
            self._draining = False

    def _decide(self, node: NodePlan) -> None:
        if self.scope.cancelled:
            return
        values = self._values[node.index] or {}
        reason = _skip_reason(node, values)
        if reason is not None:
            self._skip(node, reason)
            return
        state = NodeState("running", values)
        self.states[node.index] = state
        reuse = self.reuse
        if reuse is not None:
            found = reuse.lookup(node, state)
            if found is not None:
                state.cached = True
                opened, handoff = self._handoff_open, self._handoff  # the hand-off of the deciding task: kept
                self.succeed(node, state, found, 0.0)
                self._handoff_open, self._handoff = opened, handoff
                return
        if self._handoff_open and self._handoff is None:
            self._handoff = (node, state)  # the finishing node task runs it next: no new task, no loop turn
            return
        task = asyncio.get_running_loop().create_task(self._run_node(self, node, state))
        tasks = self.scope.tasks
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    def _take_handoff(self) -> Handoff:
        """The node handed to the calling node task while ``_handoff_open`` was set (then closes the hand-off)."""
        handoff, self._handoff = self._handoff, None
        self._handoff_open = False
        return handoff
