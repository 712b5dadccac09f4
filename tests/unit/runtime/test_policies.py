"""Per-node policies (retries, timeout, on_error), cancellation and the run deadline."""

from __future__ import annotations

import asyncio
import time

import pytest

from rivulet.compiler.flow import NodePolicy
from rivulet.records.events import Event, NodeFailed, NodeStarted, RunCancelled, RunFinished
from rivulet.runtime.executor import Executor, RunOptions
from rivulet.runtime.memory import MemoryEventBus
from rivulet.storage.memory import MemoryRunStore
from tests.unit.runtime.fakes import Boom, Echo, Flaky, Handler, Sleep, SleepSource, Source, build_graph

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def bus() -> MemoryEventBus:
    return MemoryEventBus(MemoryRunStore())


async def events_of(bus: MemoryEventBus, run_id: str) -> list[Event]:
    await bus.flush()
    return await bus.read(run_id)


async def test_retries_with_exponential_backoff_then_success(bus: MemoryEventBus) -> None:
    Flaky.calls.pop("retry", None)
    graph = build_graph(
        [("f", Flaky, {"failures": 2, "key": "retry"})],
        [],
        policies={"f": NodePolicy(retries=3, retry_backoff_s=0.02)},
    )
    result = await Executor(bus).run(graph, run_id="retry")
    assert result.status == "succeeded"
    assert result.outputs == {"f": 3}
    assert result.nodes["f"].attempts == 3
    calls = Flaky.calls["retry"]
    assert calls[1] - calls[0] >= 0.02
    assert calls[2] - calls[1] >= 0.04  # doubled
    events = await events_of(bus, "retry")
    assert [e.attempt for e in events if isinstance(e, NodeStarted)] == [1, 2, 3]
    failed = [e for e in events if isinstance(e, NodeFailed)]
    assert [(e.error.attempt, e.retrying) for e in failed] == [(1, True), (2, True)]
    assert failed[0].error.code == "operator_error"
    assert failed[0].error.message == "attempt 1 failed"


async def test_retries_exhausted_fail_the_run_with_a_located_error(bus: MemoryEventBus) -> None:
    Flaky.calls.pop("never", None)
    graph = build_graph(
        [("f", Flaky, {"failures": 10, "key": "never"}), ("after", Echo)],
        ["f.value -> after.value"],
        policies={"f": NodePolicy(retries=1, retry_backoff_s=0)},
    )
    result = await Executor(bus).run(graph, run_id="never")
    assert result.status == "failed"
    assert result.error is not None
    assert (result.error.node_id, result.error.operator_id, result.error.attempt) == ("f", "test.flaky", 2)
    final = (await events_of(bus, "never"))[-1]
    assert isinstance(final, RunFinished)
    assert final.status == "failed"
    assert final.error == result.error
    assert "after" not in result.nodes  # never decided


async def test_timeout_fails_the_attempt(bus: MemoryEventBus) -> None:
    graph = build_graph(
        [("src", Source, {"value": 1}), ("slow", Sleep, {"seconds": 5})],
        ["src.value -> slow.value"],
        policies={"slow": NodePolicy(timeout_s=0.05)},
    )
    began = time.perf_counter()
    result = await Executor(bus).run(graph)
    assert time.perf_counter() - began < 1
    assert result.status == "failed"
    assert result.error is not None
    assert result.error.code == "timeout"
    assert result.error.message == "node 'slow' timed out after 0.05 s"


async def test_on_error_continue_skips_downstream_and_run_succeeds(bus: MemoryEventBus) -> None:
    graph = build_graph(
        [("boom", Boom), ("after", Echo), ("other", Source, {"value": 7})],
        ["boom.value -> after.value"],
        policies={"boom": NodePolicy(on_error="continue")},
    )
    result = await Executor(bus).run(graph)
    assert result.status == "succeeded"
    assert result.nodes["boom"].status == "failed"
    assert result.nodes["boom"].error is not None
    assert result.nodes["boom"].error.message == "ValueError: kaboom"
    assert result.nodes["after"].status == "skipped"
    assert result.outputs == {"other": 7}


async def test_on_error_route_sends_the_error_to_the_error_port(bus: MemoryEventBus) -> None:
    graph = build_graph(
        [("boom", Boom), ("happy", Echo), ("handler", Handler)],
        ["boom.value -> happy.value", "boom.error -> handler.error"],
        policies={"boom": NodePolicy(on_error="route")},
    )
    result = await Executor(bus).run(graph)
    assert result.status == "succeeded"
    assert result.nodes["happy"].status == "skipped"
    assert result.outputs == {"handler": "handled operator_error"}


async def test_on_error_fail_is_the_default(bus: MemoryEventBus) -> None:
    graph = build_graph([("boom", Boom), ("slow", SleepSource, {"seconds": 5})], [])
    began = time.perf_counter()
    result = await Executor(bus).run(graph)
    assert result.status == "failed"
    assert time.perf_counter() - began < 1  # the other running node was cancelled
    assert result.nodes["slow"].status == "cancelled"


async def test_cancellation_stops_running_nodes_within_a_second(bus: MemoryEventBus) -> None:
    Sleep.log.clear()
    graph = build_graph(
        [("src", Source, {"value": 1})] + [(f"s{i}", Sleep, {"seconds": 30}) for i in range(10)],
        [f"src.value -> s{i}.value" for i in range(10)],
    )
    handle = Executor(bus).start(graph, run_id="cancel")
    await asyncio.sleep(0.05)
    asked = time.perf_counter()
    assert handle.cancel("stop please")
    result = await handle.result()
    assert time.perf_counter() - asked < 1.0
    assert result.status == "cancelled"
    cancelled = [t for _, what, t in Sleep.log if what == "cancelled"]
    assert len(cancelled) == 10
    assert max(cancelled) - asked < 1.0
    assert not handle.cancel("again")
    events = await events_of(bus, "cancel")
    assert isinstance(events[-2], RunCancelled)
    assert events[-2].reason == "stop please"
    assert isinstance(events[-1], RunFinished)
    assert events[-1].status == "cancelled"


async def test_cancelled_flag_is_visible_to_cooperative_operators(bus: MemoryEventBus) -> None:
    graph = build_graph([("s", SleepSource, {"seconds": 10})], [])
    handle = Executor(bus).start(graph)
    await asyncio.sleep(0.01)
    handle.cancel()
    result = await handle.result()
    assert result.nodes["s"].status == "cancelled"


async def test_run_deadline_fails_the_run(bus: MemoryEventBus) -> None:
    graph = build_graph([("s", SleepSource, {"seconds": 10})], [])
    began = time.perf_counter()
    result = await Executor(bus).run(graph, options=RunOptions(deadline_s=0.1))
    assert time.perf_counter() - began < 1.0
    assert result.status == "failed"
    assert result.error is not None
    assert result.error.code == "deadline_exceeded"


async def test_shutdown_marks_the_run_interrupted(bus: MemoryEventBus) -> None:
    graph = build_graph([("s", SleepSource, {"seconds": 10})], [])
    handle = Executor(bus).start(graph, run_id="shut")
    await asyncio.sleep(0.01)
    handle.task.cancel()
    result = await handle.result()
    assert result.status == "interrupted"
