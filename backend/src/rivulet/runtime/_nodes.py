"""Running one node (internal): attempts with timeout and retries, streams, and the error policy.

A node reports to its run only through ``RunState``'s node API (attempts, stream delivery, one outcome).
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from rivulet.lib.exceptions import AppError
from rivulet.lib.redact import redact
from rivulet.records.events import ErrorInfo
from rivulet.runtime.context import NodeContext, TrackingContext
from rivulet.runtime.plan import DELIVER_COLLECT
from rivulet.runtime.streams import StreamFanout, join_collected
from rivulet.sdk.context import node_deadline
from rivulet.sdk.operator import Deferred

if TYPE_CHECKING:
    from rivulet.runtime._node_state import NodeState
    from rivulet.runtime._run_state import Handoff, RunState
    from rivulet.runtime.plan import EdgePlan, NodePlan

__all__ = ("error_info", "run_node")

_YIELD_EVERY = 64
"""A node task that continues a chain yields to the event loop after this many nodes."""


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
    semaphore = run.semaphores.get(node.operator_id)
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
    """Outputs of the first successful attempt, or ``None`` after the last one failed (the node failed)."""
    policy = node.node.policy
    attempts = policy.retries + 1
    node_id = node.node.id
    for attempt in range(1, attempts + 1):
        run.start_attempt(state, node_id, attempt)
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
        if attempt == attempts:
            run.fail(node, state, error)
            return None
        run.retrying(node_id, error)
        await asyncio.sleep(policy.retry_backoff_s * 2 ** (attempt - 1))
    return None


async def run_node(run: RunState, node: NodePlan, state: NodeState) -> None:
    """The task of one node: produce outputs, then deliver them (streams are pumped here).

    When its outputs make other nodes ready, the task continues with the first of them itself (a chain runs in
    one task, without a loop turn per node); the others get their own tasks. A streaming node never continues:
    its consumers must run while it pumps.
    """
    handoff: Handoff = (node, state)
    turns = 0
    while handoff is not None:
        node, state = handoff
        if node.plain and run.quiet and run.tight:
            handoff, turns = await _run_plain(run, node, state, turns)
            continue
        turns += 1
        if turns % _YIELD_EVERY == 0:
            await asyncio.sleep(0)  # a long chain of quick nodes still lets other tasks run
        started = time.perf_counter()
        try:
            if state.verify is not None and run.reuse is not None:  # its cache entry depends on secrets:
                outputs = await run.reuse.lookup_verified(node, state)  # resolve them, then look again
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
            run.cancel_node(state)
            return


async def _run_plain(run: RunState, node: NodePlan, state: NodeState, turns: int) -> tuple[Handoff, int]:
    """Run plain nodes of a quiet run in a tight loop (what ``run_node`` does for them, with less machinery).

    Continues with the node each success hands off while it is plain and the run stays quiet; returns the node
    to continue with the ordinary way (or ``None``), and ``turns`` (the nodes the task has run, shared with
    ``run_node`` so that it yields every ``_YIELD_EVERY`` nodes whichever way they ran). Outcomes go through
    the run exactly as in ``run_node``.
    """
    try:
        while True:
            turns += 1
            if turns % _YIELD_EVERY == 0:
                await asyncio.sleep(0)  # a long chain of quick nodes still lets other tasks run
            started = time.perf_counter()
            compiled = node.node
            operator = compiled.operator
            run.start_attempt(state, compiled.id, 1)
            try:
                inputs = operator.build_inputs(state.inputs or {})
                result = await node.instance.run(NodeContext(run.env, compiled.id), compiled.params, inputs)
                outputs = operator.output_values(result)
            except Exception as exc:  # noqa: BLE001 - any operator failure is reported as a located node error
                run.fail(node, state, error_info(exc, node, 1))
                return None, turns
            if _has_deferred(outputs):
                return await _finish(run, node, state, outputs, started), turns
            handoff = run.succeed(node, state, outputs, (time.perf_counter() - started) * 1000)
            if handoff is None or not handoff[0].plain or not run.quiet:
                return handoff, turns
            node, state = handoff
    except asyncio.CancelledError:
        run.cancel_node(state)
        return None, turns


async def _finish(run: RunState, node: NodePlan, state: NodeState, outputs: dict[str, Any], started: float) -> Handoff:
    """The end of a node that produced ``outputs`` (no streams): deferred values resolved, then ``succeed``."""
    if _has_deferred(outputs):
        try:
            outputs = await _resolve_deferred(outputs)
        except Exception as exc:  # noqa: BLE001 - a failing deferred output fails its node like any attempt
            run.fail(node, state, error_info(exc, node, state.attempts))
            return None
    return run.succeed(node, state, outputs, (time.perf_counter() - started) * 1000)


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


def _fanouts(run: RunState, node: NodePlan, outputs: dict[str, Any]) -> dict[str, StreamFanout]:
    """A fan-out for each stream output, emitting ``node_chunk`` for each item."""
    node_id = node.node.id
    return {
        port: StreamFanout(
            _aiter(outputs[port]),
            node_id=node_id,
            operator_id=node.operator_id,
            port=port,
            on_item=functools.partial(run.publish_chunk, node_id, port),
        )
        for port in node.stream_ports
        if port in outputs
    }


async def _stream(run: RunState, node: NodePlan, state: NodeState, outputs: dict[str, Any], started: float) -> None:
    """Deliver a node with stream outputs: values and live streams at once, collected and deferred ones at the end."""
    node_id = node.node.id
    fanouts = _fanouts(run, node, outputs)
    deferred = {port for port, value in outputs.items() if isinstance(value, Deferred)}
    now: list[EdgePlan] = []
    later: list[EdgePlan] = []
    for edge in node.out_edges:
        is_late = (edge.mode == DELIVER_COLLECT and edge.source_port in fanouts) or edge.source_port in deferred
        (later if is_late else now).append(edge)
    for port, value in outputs.items():
        if port not in fanouts and port not in deferred:
            run.publish_output(node_id, port, value)
    run.deliver(now, outputs, fanouts)
    try:
        await asyncio.gather(*(fanout.pump() for fanout in fanouts.values()))
        outputs = await _resolve_deferred(outputs)
    except Exception as exc:  # noqa: BLE001 - a failing stream fails its node like any attempt
        run.fail(node, state, error_info(exc, node, state.attempts), later)
        return
    collected = {port: fanout.items for port, fanout in fanouts.items()}
    for port, items in collected.items():
        run.publish_output(node_id, port, join_collected(items, as_text=all(isinstance(i, str) for i in items)))
    for port in deferred:
        run.publish_output(node_id, port, outputs[port])
    run.deliver(later, outputs, fanouts)
    run.succeed(node, state, {**outputs, **collected}, (time.perf_counter() - started) * 1000, streamed=True)
