"""Running one node (internal): attempts with timeout and retries, streams, and the error policy."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable
from typing import TYPE_CHECKING, Any

from rivulet.lib.exceptions import AppError
from rivulet.lib.redact import redact
from rivulet.records.events import ErrorInfo, NodeChunk, NodeFailed, NodeStarted, NodeSucceeded
from rivulet.runtime.context import ContextReads, NodeContext, TrackingContext
from rivulet.runtime.plan import DELIVER_COLLECT
from rivulet.runtime.preview import preview
from rivulet.runtime.streams import StreamFanout, join_collected
from rivulet.sdk.context import node_deadline
from rivulet.sdk.operator import Deferred

if TYPE_CHECKING:
    from rivulet.runtime._scheduler import RunState
    from rivulet.runtime.cache import Deps
    from rivulet.runtime.plan import NodePlan

__all__ = ("NodeState", "error_info", "run_node")

_YIELD_EVERY = 64
"""A node task that continues a chain yields to the event loop after this many nodes."""


class NodeState:
    """Mutable per-node bookkeeping of a run (turned into ``NodeRunRecord`` at the end)."""

    __slots__ = (
        "attempts",
        "cached",
        "duration_ms",
        "error",
        "finished",
        "inputs",
        "key",
        "outputs",
        "reads",
        "seq_done",
        "seq_started",
        "started",
        "status",
        "verify",
    )

    def __init__(self, status: str, inputs: dict[str, Any] | None = None) -> None:
        self.status = status
        self.inputs = inputs
        self.outputs: dict[str, Any] | None = None
        self.attempts = 0
        self.cached = False
        self.error: ErrorInfo | None = None
        self.started = time.time() if status == "running" else None
        self.finished: float | None = None
        self.key: str | None = None
        """The base key (``cache.node_key``) of a cacheable node looked up in the cache."""
        self.reads: ContextReads | None = None
        """What the node read from its context when it ran (recorded for nodes with a ``key``)."""
        self.verify: Deps | None = None
        """Reads recorded for ``key`` that name secrets not resolved yet in this run: ``run_node`` resolves them
        and looks the node up again before running it."""
        self.seq_started: int | None = None
        """The seq reserved for a deferred ``node_started`` (``RunState.quiet``)."""
        self.seq_done: int | None = None
        """The first seq reserved for the deferred ``node_output`` events and ``node_succeeded``."""
        self.duration_ms = 0.0


def error_info(exc: BaseException, node: NodePlan, attempt: int) -> ErrorInfo:
    """A located, client-safe description of why an attempt failed (secret values redacted from the message)."""
    node_id = node.node.id
    if isinstance(exc, TimeoutError):
        code, message = "timeout", f"node {node_id!r} timed out after {node.timeout_s:g} s"
    elif isinstance(exc, AppError):
        code, message = exc.code, redact(exc.detail)
    else:
        code, message = "operator_error", redact(f"{type(exc).__name__}: {exc}")
    return ErrorInfo(code=code, message=message, node_id=node_id, operator_id=node.operator_id, attempt=attempt)


async def _call(run: RunState, node: NodePlan, values: dict[str, Any], ctx: NodeContext) -> dict[str, Any]:
    operator = node.node.operator
    inputs = operator.build_inputs(values)
    if node.node.spec.cpu_bound:
        result = await asyncio.to_thread(asyncio.run, node.instance.run(ctx, node.node.params, inputs))
    else:
        result = await node.instance.run(ctx, node.node.params, inputs)
    return operator.output_values(result)


async def _attempt(run: RunState, node: NodePlan, values: dict[str, Any], ctx: NodeContext) -> dict[str, Any]:
    semaphore = run.shared.semaphores.get(node.operator_id)
    if semaphore is None:
        if node.timeout_s is None:
            return await _call(run, node, values, ctx)
        return await _timed(run, node, values, ctx, node.timeout_s)
    async with semaphore:
        if node.timeout_s is None:
            return await _call(run, node, values, ctx)
        return await _timed(run, node, values, ctx, node.timeout_s)


async def _timed(
    run: RunState, node: NodePlan, values: dict[str, Any], ctx: NodeContext, timeout_s: float
) -> dict[str, Any]:
    """``_call`` under the node's timeout, also published as ``node_deadline``.

    Work in worker threads (template rendering) stops at that moment instead of running on after the node failed.
    """
    async with asyncio.timeout(timeout_s):
        token = node_deadline.set(time.monotonic() + timeout_s)
        try:
            return await _call(run, node, values, ctx)
        finally:
            node_deadline.reset(token)


async def _produce(run: RunState, node: NodePlan, state: NodeState) -> dict[str, Any] | None:
    """Outputs of the first successful attempt, or ``None`` after the last one failed (already handled)."""
    policy = node.node.policy
    attempts = policy.retries + 1
    node_id = node.node.id
    for attempt in range(1, attempts + 1):
        state.attempts = attempt
        if run.quiet:  # the first attempt's event is built only if somebody asks for it
            run.seq += 1
            state.seq_started = run.seq
        else:
            run.publish(
                NodeStarted(run_id=run.run_id, seq=run.next_seq(), ts=time.time(), node_id=node_id, attempt=attempt)
            )
        # a node whose result goes into the cache records what it reads from its context (its key covers it)
        ctx = NodeContext(run.env, node_id) if state.key is None else TrackingContext(run.env, node_id)
        try:
            if node.direct:  # the common case: no limit, timeout or thread to set up
                outputs = await _call(run, node, state.inputs or {}, ctx)
            else:
                outputs = await _attempt(run, node, state.inputs or {}, ctx)
            if isinstance(ctx, TrackingContext):
                state.reads = ctx.reads
            return outputs
        except Exception as exc:  # noqa: BLE001 - any operator failure is reported as a located node error
            error = error_info(exc, node, attempt)
        retrying = attempt < attempts
        run.publish(
            NodeFailed(
                run_id=run.run_id, seq=run.next_seq(), ts=time.time(), node_id=node_id, error=error, retrying=retrying
            )
        )
        if not retrying:
            fail_node(run, node, state, error, node.out_edges)
            return None
        await asyncio.sleep(policy.retry_backoff_s * 2 ** (attempt - 1))
    return None


def _fail(run: RunState, node: NodePlan, state: NodeState, error: ErrorInfo, edges: Iterable[Any]) -> None:
    """The node failed for good (no retry left): ``node_failed``, then its ``on_error`` policy (``fail_node``)."""
    run.publish(NodeFailed(run_id=run.run_id, seq=run.next_seq(), ts=time.time(), node_id=node.node.id, error=error))
    fail_node(run, node, state, error, edges)


def fail_node(run: RunState, node: NodePlan, state: NodeState, error: ErrorInfo, edges: Iterable[Any]) -> None:
    """Apply the node's ``on_error`` policy to the edges that have not settled yet."""
    state.status = "failed"
    state.error = error
    state.finished = time.time()
    policy = node.node.policy.on_error
    if policy == "fail":
        run.fail_run(error)
        return
    routed = {"error": error} if policy == "route" else None
    run.settle(node, edges, routed, None)
    run.node_done()


async def run_node(run: RunState, node: NodePlan, state: NodeState) -> None:
    """The task of one node: produce outputs, then deliver them (streams are pumped here).

    When its outputs make other nodes ready, the task continues with the first of them itself (a chain runs in
    one task, without a loop turn per node); the others get their own tasks. A streaming node never continues:
    its consumers must run while it pumps.
    """
    handoff: tuple[NodePlan, NodeState] | None = (node, state)
    turns = 0
    while handoff is not None:
        node, state = handoff
        handoff = None
        if node.plain and run.quiet and run.tight:
            handoff, turns = await _run_plain(run, node, state, turns)
            continue
        turns += 1
        if turns % _YIELD_EVERY == 0:
            await asyncio.sleep(0)  # a long chain of quick nodes still lets other tasks run
        started = time.perf_counter()
        try:
            if state.verify is not None:  # its cache entry depends on secrets: resolve them, then look again
                outputs = await run.lookup_verified(node, state)
                if outputs is not None:
                    handoff = await _finish(run, node, state, outputs, started)
                    continue
            outputs = await _produce(run, node, state)
            if outputs is None:
                return
            if node.stream_ports and any(port in outputs for port in node.stream_ports):
                await _stream(run, node, state, outputs, started)
                return
            handoff = await _finish(run, node, state, outputs, started)
        except asyncio.CancelledError:
            state.status = "cancelled"
            state.finished = time.time()
            return


async def _run_plain(
    run: RunState, node: NodePlan, state: NodeState, turns: int
) -> tuple[tuple[NodePlan, NodeState] | None, int]:
    """Run plain nodes of a quiet run in a tight loop (what ``run_node`` does for them, with less machinery).

    Continues down a chain (``NodePlan.chain``) while its nodes are plain and the run stays quiet, deciding each
    next node in place; returns the node to continue with the ordinary way (or ``None``), and ``turns`` (the
    nodes the task has run, shared with ``run_node`` so that it yields every ``_YIELD_EVERY`` nodes whichever way
    they ran). Anything else (a failure, a deferred output, a fan-out, a node to skip) goes through the scheduler
    exactly as in ``run_node``.
    """
    try:
        while True:
            turns += 1
            if turns % _YIELD_EVERY == 0:
                await asyncio.sleep(0)  # a long chain of quick nodes still lets other tasks run
            started = time.perf_counter()
            compiled = node.node
            operator = compiled.operator
            state.attempts = 1
            run.seq += 1
            state.seq_started = run.seq
            try:
                inputs = operator.build_inputs(state.inputs or {})
                result = await node.instance.run(NodeContext(run.env, compiled.id), compiled.params, inputs)
                outputs = operator.output_values(result)
            except Exception as exc:  # noqa: BLE001 - any operator failure is reported as a located node error
                _fail(run, node, state, error_info(exc, node, 1), node.out_edges)
                return None, turns
            edge = node.chain
            if edge is None or not run.quiet or _has_deferred(outputs):
                return await _finish(run, node, state, outputs, started), turns
            # succeeded, quietly: seqs reserved for its events, its value handed down the chain
            run.succeed_quietly(state, outputs, (time.perf_counter() - started) * 1000)
            run.remaining -= 1  # never the last node: the next one is still to run
            if run.scope.cancelled:
                return None, turns
            target = edge.target
            values = {edge.target_port: outputs[edge.source_port]} if edge.source_port in outputs else {}
            run.values[target.index] = values
            run.waiting[target.index] = 0
            if not target.plain or run.skip_reason(target, values) is not None:
                return run.decide_next(target), turns
            node, state = target, NodeState("running", values)
            run.states[target.index] = state
    except asyncio.CancelledError:
        state.status = "cancelled"
        state.finished = time.time()
        return None, turns


async def _finish(
    run: RunState, node: NodePlan, state: NodeState, outputs: dict[str, Any], started: float
) -> tuple[NodePlan, NodeState] | None:
    """The end of a node that produced ``outputs`` (no streams): deferred values resolved, then ``succeed``."""
    if _has_deferred(outputs):
        try:
            outputs = await _resolve_deferred(outputs)
        except Exception as exc:  # noqa: BLE001 - a failing deferred output fails its node like any attempt
            _fail(run, node, state, error_info(exc, node, state.attempts), node.out_edges)
            return None
    run.handoff_open = True
    try:
        run.succeed(node, state, outputs, (time.perf_counter() - started) * 1000)
    finally:
        handoff = run.take_handoff()
    return handoff


def _has_deferred(outputs: dict[str, Any]) -> bool:
    for value in outputs.values():  # noqa: SIM110 - a loop, not any(genexpr): this runs for every node
        if isinstance(value, Deferred):
            return True
    return False


async def _resolve_deferred(outputs: dict[str, Any]) -> dict[str, Any]:
    """``outputs`` with every ``Deferred`` value awaited."""
    return {port: await value.resolve() if isinstance(value, Deferred) else value for port, value in outputs.items()}


async def _aiter(value: Any) -> AsyncIterator[Any]:
    if isinstance(value, AsyncIterator):
        async for item in value:  # pyright: ignore[reportUnknownVariableType]
            yield item
    else:
        for item in value:
            yield item


async def _stream(run: RunState, node: NodePlan, state: NodeState, outputs: dict[str, Any], started: float) -> None:
    node_id = node.node.id
    run_id = run.run_id

    def chunk_emitter(port: str) -> Any:
        def emit(index: int, item: Any) -> None:
            data = preview(item)[0]
            run.publish(
                NodeChunk(
                    run_id=run_id,
                    seq=run.next_seq(),
                    ts=time.time(),
                    node_id=node_id,
                    port=port,
                    data=data,
                    index=index,
                )
            )

        return emit

    fanouts = {
        port: StreamFanout(
            _aiter(outputs[port]), node_id=node_id, operator_id=node.operator_id, port=port, on_item=chunk_emitter(port)
        )
        for port in node.stream_ports
        if port in outputs
    }
    deferred = {port for port, value in outputs.items() if isinstance(value, Deferred)}
    late = [
        (edge.mode == DELIVER_COLLECT and edge.source_port in fanouts) or edge.source_port in deferred
        for edge in node.out_edges
    ]
    now = [edge for edge, is_late in zip(node.out_edges, late, strict=True) if not is_late]
    later = [edge for edge, is_late in zip(node.out_edges, late, strict=True) if is_late]
    for port, value in outputs.items():
        if port not in fanouts and port not in deferred:
            run.publish_output(node_id, port, value)
    run.settle(node, now, outputs, fanouts)
    try:
        await asyncio.gather(*(fanout.pump() for fanout in fanouts.values()))
        outputs = await _resolve_deferred(outputs)
    except Exception as exc:  # noqa: BLE001 - a failing stream fails its node like any attempt
        _fail(run, node, state, error_info(exc, node, state.attempts), later)
        return
    collected = {port: fanout.items for port, fanout in fanouts.items()}
    for port, items in collected.items():
        run.publish_output(node_id, port, join_collected(items, as_text=all(isinstance(i, str) for i in items)))
    for port in deferred:
        run.publish_output(node_id, port, outputs[port])
    run.settle(node, later, outputs, fanouts)
    state.status = "succeeded"
    state.outputs = {**outputs, **collected}
    state.finished = time.time()
    duration = (time.perf_counter() - started) * 1000
    run.publish(NodeSucceeded(run_id=run_id, seq=run.next_seq(), ts=time.time(), node_id=node_id, duration_ms=duration))
    run.node_done()
