"""The ready-set scheduler of one run (internal; ``executor.Executor`` is the public face).

Each node waits for its incoming edges to *settle*: an edge settles when its source delivers a value (or a live
stream) on it, or when it is known that the source will not (an untaken branch, a skipped or failed source).
When the last edge settles the node is *decided*: it is skipped when a required input is missing (or nothing at
all arrived), served from the reuse map or the cache, or started. Decisions run off an explicit work stack, never
by recursion, so a chain of any length runs in constant stack depth.

Where a node runs: the run's own task runs the first root; a node task that finishes continues with the first
node its outputs made ready (a *hand-off*); every other ready node gets a task of its own. So a chain runs in one
task without a loop turn per node, while the branches of a fan-out still overlap. A task that runs nodes is in
``scope.tasks`` while it does, so cancellation reaches it like any node task.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any, cast

from rivulet.lib.exceptions import NotFoundError
from rivulet.records.events import (
    ErrorInfo,
    NodeOutput,
    NodeProgress,
    NodeSkipped,
    NodeStarted,
    NodeSucceeded,
    RunCancelled,
    RunFinished,
    RunStarted,
)
from rivulet.runtime._nodes import NodeState, run_node
from rivulet.runtime.cache import content_key, deps_key, node_identity, node_key, run_key, secret_digest
from rivulet.runtime.cancellation import CancelScope
from rivulet.runtime.context import RunEnvironment
from rivulet.runtime.plan import DELIVER_COLLECT, DELIVER_STREAM
from rivulet.runtime.preview import preview
from rivulet.runtime.streams import join_collected

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from rivulet.records.events import Event
    from rivulet.runtime.cache import Deps
    from rivulet.runtime.executor import ExecutorShared, RunOptions
    from rivulet.runtime.plan import EdgePlan, ExecutionPlan, NodePlan
    from rivulet.runtime.streams import StreamFanout

__all__ = ("RunState",)

_SHUTDOWN = "the server shut down while the run was executing"


def _output_event(run_id: str, seq: int, ts: float, node_id: str, *, port: str, value: Any) -> NodeOutput:
    """``node_output`` with a bounded preview of ``value``."""
    shown, cut = preview(value)
    return NodeOutput(run_id=run_id, seq=seq, ts=ts, node_id=node_id, port=port, preview=shown, truncated=cut)


def _seq(event: Event) -> int:
    return event.seq


def _dropped_progress(node_id: str, value: float, maximum: float | None) -> None:
    """``node_progress`` reported after the end of its run: dropped."""


class RunState:
    """Everything about one run in flight."""

    def __init__(
        self,
        plan: ExecutionPlan,
        run_id: str,
        options: RunOptions,
        shared: ExecutorShared,
        publish: Callable[[Event], None] | None = None,
    ) -> None:
        count = len(plan.nodes)
        self.plan = plan
        self.run_id = run_id
        self.options = options
        self.shared = shared
        self.publish = shared.bus.publish if publish is None else publish
        """Where events go: the bus, or the caller's sink (switched with ``RunHandle.redirect``)."""
        self.quiet = False
        """Node events of successful nodes are deferred (``RunOptions.defer_node_events``): only their seqs are
        reserved; ``materialize`` builds them, and any other event published meanwhile calls it first."""
        self._sink = self.publish
        self._sealed = False
        self._defer = options.defer_node_events
        self._record = shared.cache is not None and options.record_outputs
        self._may_reuse = bool(options.reuse) or (shared.cache is not None and options.use_cache)
        """Whether ``_lookup`` can find anything for this run (reused outputs or the cache)."""
        self.tight = not self._may_reuse and not (shared.cache is not None and options.record_outputs)
        """Nothing is looked up or stored in the cache: a quiet run may run its plain nodes in a tight loop
        (``_nodes._run_plain``)."""
        self.seq = 0
        self.waiting = list(plan.waits)
        self.values: list[dict[str, Any] | None] = [None] * count
        self.states: list[NodeState | None] = [None] * count
        self.remaining = count
        self.scope = CancelScope()
        self.failure: ErrorInfo | None = None
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._stack: list[NodePlan] = []
        self._draining = False
        self.handoff_open = False
        """A node task is finishing and may continue with one node that becomes ready (``take_handoff``)."""
        self._handoff: tuple[NodePlan, NodeState] | None = None
        self.secret_digests: dict[str, bytes | None] = {}
        """``secret_digest`` of the secrets resolved for cache lookups in this run (``None``: not found)."""
        self.env = RunEnvironment(
            run_id=run_id,
            run_inputs=options.inputs,
            variables=options.variables,
            cancelled=self.scope.event,
            progress=self._progress,
            services=shared.services,
            secrets=shared.secrets,
        )

    def publish_output(self, node_id: str, port: str, value: Any) -> None:
        """Emit ``node_output`` with a bounded preview of ``value``."""
        self.publish(_output_event(self.run_id, self.next_seq(), time.time(), node_id, port=port, value=value))

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def _progress(self, node_id: str, value: float, maximum: float | None) -> None:
        if not self.done.done():
            seq = self.next_seq()
            self.publish(
                NodeProgress(run_id=self.run_id, seq=seq, ts=time.time(), node_id=node_id, value=value, max=maximum)
            )

    # -- run lifecycle -------------------------------------------------------------------------------------

    async def execute(self) -> float:
        """Run to the end; returns the duration in ms. Never raises (failures become the run status)."""
        started = time.perf_counter()
        graph = self.plan.graph
        self.publish(
            RunStarted(
                run_id=self.run_id,
                seq=self.next_seq(),
                ts=time.time(),
                flow_id=graph.flow_id,
                flow_version=graph.flow_version,
                node_ids=graph.order,
                trigger=self.options.trigger,
            )
        )
        if self._defer:
            self.quiet = True
            self._sink = self.publish
            self.publish = self._wake
        if self.options.deadline_s is not None:
            self.scope.set_deadline(self.options.deadline_s, self._deadline_expired)
        self._stack.extend(node for node in self.plan.nodes if node.waits_for == 0)
        self.handoff_open = True  # this task runs the first root itself (and the chain it starts)
        self._drain()
        first = self.take_handoff()
        if first is not None:
            await self._run_inline(*first)
        if self.remaining == 0 and not self.done.done():
            self.done.set_result(None)
        if not self.done.done():
            try:
                await asyncio.shield(self.done)
            except asyncio.CancelledError:
                self.scope.cancel("shutdown", _SHUTDOWN)
        self.scope.clear_deadline()
        if self.scope.cancelled:
            await self.scope.drain()
        return (time.perf_counter() - started) * 1000

    async def _run_inline(self, node: NodePlan, state: NodeState) -> None:
        """Run a node in the run's own task, cancellable like a node task while it runs."""
        task = cast("asyncio.Task[None]", asyncio.current_task())
        tasks = self.scope.tasks
        tasks.add(task)
        try:
            await run_node(self, node, state)
        finally:
            tasks.discard(task)
        if self.scope.cancelled:
            if task.cancelling():  # the run's own cancellation reached the node through this task: handled
                task.uncancel()
        elif task.cancelling():  # cancelled from outside while running the node: the process is stopping
            self.scope.cancel("shutdown", _SHUTDOWN)
            if not self.done.done():
                self.done.set_result(None)

    def _deadline_expired(self) -> None:
        seconds = self.options.deadline_s
        message = f"the run exceeded its deadline of {seconds:g} s"
        if not self.done.done() and self.scope.cancel("deadline", message):
            self.failure = ErrorInfo(code="deadline_exceeded", message=message, details={"deadline_s": seconds})
            self.done.set_result(None)

    def cancel(self, message: str) -> bool:
        """User cancellation: emits ``run_cancelled`` and stops every running node."""
        if self.done.done() or not self.scope.cancel("user", message):
            return False
        self.publish(RunCancelled(run_id=self.run_id, seq=self.next_seq(), ts=time.time(), reason=message))
        self.done.set_result(None)
        return True

    def fail_run(self, error: ErrorInfo) -> None:
        """A node failed under ``on_error: fail``: stop the run."""
        if self.failure is None:
            self.failure = error
        self.scope.cancel("failure", error.message)
        if not self.done.done():
            self.done.set_result(None)

    def _wake(self, event: Event) -> None:
        """An event while node events are deferred: the deferred ones go first."""
        self.materialize()
        self.publish(event)

    def materialize(self) -> None:
        """Publish the deferred node events (in seq order) and publish every later event as it comes."""
        self._defer = False  # called before the run started: it never defers
        if not self.quiet:
            return
        self.quiet = False
        self.publish = sink = self._sink
        if self._sealed:  # the run ended quietly: its history keeps only its start and end
            return
        run_id = self.run_id
        events: list[Event] = []
        for plan, state in zip(self.plan.nodes, self.states, strict=True):
            if state is None:
                continue
            node_id = plan.node.id
            if state.seq_started is not None:
                ts = state.started or 0.0
                events.append(NodeStarted(run_id=run_id, seq=state.seq_started, ts=ts, node_id=node_id, attempt=1))
            if state.seq_done is not None:
                seq, ts = state.seq_done, state.finished or 0.0
                for port, value in (state.outputs or {}).items():
                    events.append(_output_event(run_id, seq, ts, node_id, port=port, value=value))
                    seq += 1
                duration, cached = state.duration_ms, state.cached
                events.append(
                    NodeSucceeded(run_id=run_id, seq=seq, ts=ts, node_id=node_id, duration_ms=duration, cached=cached)
                )
        events.sort(key=_seq)
        for event in events:
            sink(event)

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
        self.publish(
            RunFinished(
                run_id=self.run_id,
                seq=self.next_seq(),
                ts=time.time(),
                status=status,  # type: ignore[arg-type]
                outputs=previews,
                error=self.failure,
                duration_ms=duration_ms,
            )
        )

    # -- deciding and settling ------------------------------------------------------------------------------

    def node_done(self) -> None:
        self.remaining -= 1
        if self.remaining == 0 and not self.done.done():
            self.done.set_result(None)

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

    def skip_reason(self, node: NodePlan, values: dict[str, Any]) -> str | None:
        if node.node.disabled:
            return "the node is disabled"
        for port in node.required:
            if port not in values:
                return f"required input {port!r} was not produced"
        if node.has_inputs and not values:
            return "no input was produced"
        return None

    def _decide(self, node: NodePlan) -> None:
        if self.scope.cancelled:
            return
        values = self.values[node.index] or {}
        reason = self.skip_reason(node, values)
        if reason is not None:
            self.states[node.index] = NodeState("skipped")
            seq = self.next_seq()
            self.publish(NodeSkipped(run_id=self.run_id, seq=seq, ts=time.time(), node_id=node.node.id, reason=reason))
            self.settle(node, node.out_edges, None, None)
            self.node_done()
            return
        state = NodeState("running", values)
        self.states[node.index] = state
        reused = self._lookup(node, state) if self._may_reuse else None
        if reused is not None:
            state.cached = True
            self.succeed(node, state, reused, 0.0)
            return
        if self._record and state.key is None:
            self._base_key(node, state)  # its recorded outputs carry what they were computed from
        if self.handoff_open and self._handoff is None:
            self._handoff = (node, state)  # the finishing node task runs it next: no new task, no loop turn
            return
        task = asyncio.get_running_loop().create_task(run_node(self, node, state))
        tasks = self.scope.tasks
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    def decide_next(self, node: NodePlan) -> tuple[NodePlan, NodeState] | None:
        """Decide ``node`` (its inputs have all settled) for the calling node task.

        Returns the node and its state when that task should run it next, else ``None`` (skipped, served from
        the cache or reused outputs, or given a task of its own).
        """
        self.handoff_open = True
        self._decide(node)
        return self.take_handoff()

    def take_handoff(self) -> tuple[NodePlan, NodeState] | None:
        """The node handed to the calling node task while ``handoff_open`` was set (then closes the hand-off)."""
        handoff, self._handoff = self._handoff, None
        self.handoff_open = False
        return handoff

    def _base_key(self, node: NodePlan, state: NodeState) -> str | None:
        """The node's base key on its inputs (kept in ``state.key``: the node records its reads when it runs)."""
        identity = node.identity
        if identity is None:
            identity = node.identity = node_identity(node.node, self.plan.graph.flow_id) or b""
        state.key = key = node_key(node.node, state.inputs or {}, identity) if identity else None
        return key

    def _lookup(self, node: NodePlan, state: NodeState) -> dict[str, Any] | None:
        options = self.options
        node_id = node.node.id
        selected = options.rerun is not None and node_id in options.rerun
        if options.reuse and node_id in options.reuse and not selected:
            reused = self._reusable(node, state, options.reuse[node_id])
            if reused is not None:
                return reused
        cache = self.shared.cache
        if cache is None or not options.use_cache or not node.cacheable:
            return None
        base = state.key if state.key is not None else self._base_key(node, state)
        if base is None or selected:
            return None  # a selected node runs (and its result replaces the cached one)
        entry = cache.get(deps_key(base))
        if entry is None:
            return None
        deps: Deps = entry["deps"]
        digests = self.secret_digests
        for name in deps[2]:
            if name not in digests:
                state.verify = deps  # ``run_node`` resolves the secrets, then calls ``lookup_verified``
                return None
        key = self._content_key(node, base, deps, digests)
        return None if key is None else cache.get(key)

    def _reusable(self, node: NodePlan, state: NodeState, recorded: dict[str, Any]) -> dict[str, Any] | None:
        """The outputs an earlier run recorded for the node (``remember``), if it would run on the same things.

        Same operator, params, inputs and context values, that is: only what the node does not control (a
        model's answer, the clock) is reused. A node that read a secret this run has not resolved yet runs.
        """
        fingerprint, deps = recorded.get("key"), recorded.get("deps")
        if fingerprint is None or deps is None:
            return None
        base = self._base_key(node, state)
        digests = self.secret_digests
        if base is None or any(name not in digests for name in deps[2]):
            return None
        if self._content_key(node, base, deps, digests) != fingerprint:
            return None
        outputs: dict[str, Any] = recorded["outputs"]
        return outputs

    def _content_key(self, node: NodePlan, base: str, deps: Deps, secrets: dict[str, bytes | None]) -> str | None:
        env = self.env
        return content_key(
            base, deps, run_inputs=env.run_inputs, variables=env.variables, node_id=node.node.id, secrets=secrets
        )

    async def lookup_verified(self, node: NodePlan, state: NodeState) -> dict[str, Any] | None:
        """The cached outputs of a node whose recorded reads name secrets (``NodeState.verify``), or ``None``.

        Resolves each secret not resolved yet in this run and keeps only its ``secret_digest``; a store that fails
        is a miss (the node runs and reports the failure itself).
        """
        deps, state.verify = state.verify, None
        cache = self.shared.cache
        if deps is None or cache is None or state.key is None:
            return None
        digests = self.secret_digests
        resolve = self.env.secrets
        for name in deps[2]:
            if name in digests:
                continue
            if resolve is None:
                digests[name] = None
                continue
            try:
                digests[name] = secret_digest(await resolve(name))
            except NotFoundError:
                digests[name] = None
            except Exception:  # noqa: BLE001 - any other failure of the store: not a hit
                return None
        key = self._content_key(node, state.key, deps, digests)
        outputs = None if key is None else cache.get(key)
        if outputs is not None:
            state.cached = True
        return outputs

    def settle(
        self,
        node: NodePlan,
        edges: Iterable[EdgePlan],
        outputs: dict[str, Any] | None,
        fanouts: dict[str, StreamFanout] | None,
    ) -> None:
        """Deliver ``outputs`` along ``edges`` (``None``: nothing produced) and decide nodes that became ready."""
        waiting = self.waiting
        stack = self._stack
        for edge in edges:
            if outputs is not None and edge.source_port in outputs:
                target = edge.target
                bucket = self.values[target.index]
                if bucket is None:
                    bucket = self.values[target.index] = {}
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

    def succeed(self, node: NodePlan, state: NodeState, outputs: dict[str, Any], duration_ms: float) -> None:
        """A non-streaming success (or a cache hit): outputs, edges, ``node_succeeded``."""
        if self.quiet:
            self.succeed_quietly(state, outputs, duration_ms)
            self.settle(node, node.out_edges, outputs, None)
        else:
            state.status = "succeeded"
            state.outputs = outputs
            state.finished = time.time()
            node_id = node.node.id
            for port, value in outputs.items():
                self.publish_output(node_id, port, value)
            self.settle(node, node.out_edges, outputs, None)
            self.publish(
                NodeSucceeded(
                    run_id=self.run_id,
                    seq=self.next_seq(),
                    ts=time.time(),
                    node_id=node_id,
                    duration_ms=duration_ms,
                    cached=state.cached,
                )
            )
        if self.shared.cache is not None:
            self.remember(node, state, outputs)
        self.node_done()

    def succeed_quietly(self, state: NodeState, outputs: dict[str, Any], duration_ms: float) -> None:
        """Record a success while node events are deferred.

        Sets the node's state and reserves the seqs of its ``node_output`` events and ``node_succeeded`` (built by
        ``materialize`` only if asked for). Delivering the outputs is the caller's.
        """
        state.status = "succeeded"
        state.outputs = outputs
        state.finished = time.time()
        state.seq_done = self.seq + 1
        state.duration_ms = duration_ms
        self.seq += len(outputs) + 1

    def remember(self, node: NodePlan, state: NodeState, outputs: dict[str, Any]) -> None:
        """Keep what the node computed: under the run (``record_outputs``) and in the content cache."""
        cache = self.shared.cache
        if cache is None or state.cached:
            return
        base, reads = state.key, state.reads
        deps = key = None
        if base is not None and reads is not None:
            deps = reads.deps(pinned=True)  # with a volatile read, still what a partial re-run checks
            key = self._content_key(node, base, deps, reads.secrets)
        if self._record:
            cache.put(run_key(self.run_id, node.node.id), {"outputs": outputs, "deps": deps, "key": key})
        if key is None or deps is None or reads is None or reads.volatile:
            return  # not cacheable, or it read the run id or a service: not a function of the run
        if self.options.use_cache and node.cacheable and cache.put(key, outputs):
            cache.put(deps_key(base or ""), {"deps": deps})
