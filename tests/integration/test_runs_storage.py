"""``RunStore`` conformance (memory and PostgreSQL) and the LISTEN/NOTIFY bus across two replicas."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from rivulet.lib.exceptions import ConflictError, NotFoundError
from rivulet.records.events import ErrorInfo, NodeOutput, NodeStarted, RunFinished, RunStarted
from rivulet.records.runs import FinishedRun, NodeRunRecord, RunQuery, RunRecord
from rivulet.runtime.postgres import PostgresEventBus
from rivulet.storage.memory import MemoryRunStore
from rivulet.storage.postgres.runs import PostgresRunStore

if TYPE_CHECKING:
    from psycopg_pool import AsyncConnectionPool

    from rivulet.storage.base import RunStore

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(120)]


@pytest.fixture(params=["memory", "postgres"])
async def store(request: pytest.FixtureRequest, pool: AsyncConnectionPool) -> RunStore:
    return MemoryRunStore() if request.param == "memory" else PostgresRunStore(pool)


def run(run_id: str, *, flow: str = "f", status: str = "running", owner: str = "me", age_s: float = 0) -> RunRecord:
    return RunRecord(
        id=run_id, flow_id=flow, flow_version=1, status=status, trigger="api", inputs={"q": [1, "x"]},  # type: ignore[arg-type]
        owner=owner, created_at=datetime.now(UTC) - timedelta(seconds=age_s),
    )  # fmt: skip


async def test_runs_round_trip_and_filter(store: RunStore) -> None:
    await store.create_run(run("a", age_s=30))
    await store.create_run(run("b", flow="g", age_s=20))
    await store.create_run(run("c", age_s=10))
    with pytest.raises(ConflictError):
        await store.create_run(run("a"))
    assert (await store.get_run("a")).inputs == {"q": [1, "x"]}
    with pytest.raises(NotFoundError):
        await store.get_run("zzz")
    assert [r.id for r in await store.list_runs(RunQuery())] == ["c", "b", "a"]
    assert [r.id for r in await store.list_runs(RunQuery(flow_id="f"))] == ["c", "a"]
    assert [r.id for r in await store.list_runs(RunQuery(limit=1, offset=1))] == ["b"]
    since = datetime.now(UTC) - timedelta(seconds=15)
    assert [r.id for r in await store.list_runs(RunQuery(since=since))] == ["c"]
    assert [r.id for r in await store.list_runs(RunQuery(until=since))] == ["b", "a"]
    error = ErrorInfo(code="operator_error", message="boom", node_id="n1")
    await store.update_run("a", status="failed", error=error, outputs={"x": 1}, finished_at=datetime.now(UTC))
    updated = await store.get_run("a")
    assert (updated.status, updated.error, updated.outputs) == ("failed", error, {"x": 1})
    assert updated.finished_at is not None
    assert [r.id for r in await store.list_runs(RunQuery(status="failed"))] == ["a"]


async def test_node_runs_upsert(store: RunStore) -> None:
    await store.create_run(run("a"))
    await store.save_node_runs(
        "a", [NodeRunRecord(node_id="n2", status="running"), NodeRunRecord(node_id="n1", status="pending")]
    )
    await store.save_node_runs(
        "a", [NodeRunRecord(node_id="n2", status="succeeded", attempts=2, outputs_preview={"v": 1})]
    )
    nodes = await store.list_node_runs("a")
    assert [(n.node_id, n.status) for n in nodes] == [("n1", "pending"), ("n2", "succeeded")]
    assert nodes[1].outputs_preview == {"v": 1}
    assert nodes[1].attempts == 2


async def test_events_append_is_idempotent_and_ordered(store: RunStore) -> None:
    await store.create_run(run("a"))
    first = RunStarted(run_id="a", seq=1, ts=time.time(), flow_id="f", flow_version=1)
    events = [first] + [NodeStarted(run_id="a", seq=s, ts=time.time(), node_id=f"n{s}") for s in range(2, 6)]
    await store.append_events(events[3:])
    await store.append_events(events[:4])
    assert await store.list_events("a") == events
    assert [e.seq for e in await store.list_events("a", after_seq=2, limit=2)] == [3, 4]
    assert await store.last_event("a") == events[-1]
    assert await store.last_event("nothing") is None


async def test_orphans_are_interrupted_with_a_final_event(store: RunStore) -> None:
    await store.create_run(run("dead", owner="other"))
    await store.create_run(run("mine", owner="me"))
    await store.create_run(run("done", owner="other", status="succeeded"))
    await store.append_events([RunStarted(run_id="dead", seq=1, ts=time.time(), flow_id="f", flow_version=1)])
    assert await store.interrupt_orphans(owner="me", stale_after_s=60, reason="gone") == []
    assert await store.interrupt_orphans(owner="me", stale_after_s=0, reason="gone") == ["dead"]
    dead = await store.get_run("dead")
    assert dead.status == "interrupted"
    assert dead.error == ErrorInfo(code="interrupted", message="gone")
    events = await store.list_events("dead")
    assert [e.seq for e in events] == [1, 2]
    assert isinstance(events[1], RunFinished)
    assert events[1].status == "interrupted"
    assert (await store.get_run("mine")).status == "running"


async def test_postgres_bus_fans_out_across_replicas(pool: AsyncConnectionPool) -> None:
    store = PostgresRunStore(pool)
    await store.create_run(run("x"))
    publisher = PostgresEventBus(store, pool, interval_s=0.005)
    replica = PostgresEventBus(store, pool, interval_s=0.005)
    await publisher.start()
    await replica.start()
    try:
        publisher.publish(RunStarted(run_id="x", seq=1, ts=time.time(), flow_id="f", flow_version=1))
        await publisher.flush()

        async def follow() -> list[int]:
            return [e.seq async for e in replica.subscribe("x", after_seq=0)]

        task = asyncio.create_task(follow())
        await asyncio.sleep(0.05)
        big = "x" * 20_000  # too large for NOTIFY: the replica reads it from run_events
        for seq in range(2, 40):
            if seq == 20:
                publisher.publish(NodeOutput(run_id="x", seq=seq, ts=time.time(), node_id="n", port="p", preview=big))
            else:
                publisher.publish(NodeStarted(run_id="x", seq=seq, ts=time.time(), node_id=f"n{seq}"))
            if seq % 7 == 0:
                await asyncio.sleep(0.01)
        publisher.publish(RunFinished(run_id="x", seq=40, ts=time.time(), status="succeeded"))
        assert await asyncio.wait_for(task, 10) == list(range(1, 41))
        replayed = await replica.read("x", after_seq=19, limit=1)
        assert isinstance(replayed[0], NodeOutput)
        assert replayed[0].preview == big
    finally:
        await publisher.close()
        await replica.close()


async def test_event_payloads_with_escapes_round_trip(store: RunStore) -> None:
    await store.create_run(run("esc"))
    tricky = 'back\\slash\ttab\nnewline\r"quote" \\N ünïcode \u2028'
    event = NodeOutput(run_id="esc", seq=1, ts=time.time(), node_id="n\t1", port="p", preview={"k\n": [tricky]})
    await store.append_events([event])
    assert await store.list_events("esc") == [event]


async def test_record_runs_stores_whole_finished_runs_in_one_go(store: RunStore) -> None:
    now = datetime.now(UTC)
    tricky = 'back\\slash\ttab\nnewline "quote" \\N ünïcode \u2028'
    error = ErrorInfo(code="operator_error", message=tricky, node_id="n1", operator_id="core.x", attempt=2)
    failed = RunRecord(
        id="rec-failed", flow_id="f", flow_version=3, status="failed", trigger="api", inputs={"q": tricky},
        outputs={}, error=error, owner="me", created_at=now, started_at=now, finished_at=now,
    )  # fmt: skip
    quiet = RunRecord(
        id="rec-ok", flow_id="f", flow_version=3, status="succeeded", trigger="schedule", inputs={},
        outputs={"text": [1, {"a": None}]}, reuse_from="rec-failed", created_at=now, started_at=now, finished_at=now,
    )  # fmt: skip
    node = NodeRunRecord(node_id="n1", status="failed", attempts=2, error=error, inputs_preview={"x": tricky})
    failed_events = [
        RunStarted(run_id="rec-failed", seq=1, ts=1.0, flow_id="f", flow_version=3, node_ids=("n1",), trigger="api"),
        NodeStarted(run_id="rec-failed", seq=2, ts=2.0, node_id="n1", attempt=1),
        NodeOutput(run_id="rec-failed", seq=3, ts=2.5, node_id="n1", port="p", preview={"nul": "a\x00b", "t": tricky}),
        RunFinished(run_id="rec-failed", seq=4, ts=3.0, status="failed", outputs={}, error=error, duration_ms=5.0),
    ]
    quiet_events = [
        RunStarted(run_id="rec-ok", seq=1, ts=1.0, flow_id="f", flow_version=3, node_ids=("n1",), trigger="schedule"),
        RunFinished(run_id="rec-ok", seq=2, ts=2.0, status="succeeded", outputs={"text": "x"}, duration_ms=1.5),
    ]
    await store.record_runs(
        [
            FinishedRun(run=failed, nodes=[node], events=failed_events),
            FinishedRun(run=quiet, nodes=(), events=quiet_events),
        ]
    )
    assert await store.get_run("rec-failed") == failed
    assert await store.get_run("rec-ok") == quiet
    assert await store.list_node_runs("rec-failed") == [node]
    assert await store.list_node_runs("rec-ok") == []
    assert await store.list_events("rec-failed") == failed_events
    assert await store.list_events("rec-ok", after_seq=1) == quiet_events[1:]
    with pytest.raises(ConflictError):
        await store.record_runs([FinishedRun(run=quiet, nodes=(), events=quiet_events)])
    assert await store.list_events("rec-ok") == quiet_events  # the refused group changed nothing
