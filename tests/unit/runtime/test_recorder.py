"""``RunRecorder``: group commit, per-run failures, retries, ``submit`` back-pressure and pending reads."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from rivulet.lib.exceptions import ConflictError
from rivulet.records.runs import FinishedRun, RunRecord
from rivulet.runtime.recorder import RunRecorder

if TYPE_CHECKING:
    from collections.abc import Sequence

pytestmark = pytest.mark.timeout(30)


def finished(run_id: str) -> FinishedRun:
    run = RunRecord(
        id=run_id, flow_id="f", flow_version=1, status="succeeded", trigger="api", created_at=datetime.now(UTC)
    )
    return FinishedRun(run=run, nodes=[], events=[])


class Store:
    """Records each write's run ids; ``gate`` holds writes while clear; ``bad`` ids are refused."""

    def __init__(self, *, bad: frozenset[str] = frozenset(), transient: int = 0) -> None:
        self.writes: list[list[str]] = []
        self.bad = bad
        self.transient = transient
        self.gate = asyncio.Event()
        self.gate.set()

    async def write(self, runs: Sequence[FinishedRun]) -> None:
        await self.gate.wait()
        if self.transient > 0:
            self.transient -= 1
            raise ConnectionError("database restarting")
        ids = [r.run.id for r in runs]
        if self.bad & set(ids):
            raise ConflictError("a run id already exists")
        self.writes.append(ids)


async def test_runs_ending_during_a_write_share_the_next_one() -> None:
    store = Store()
    recorder = RunRecorder(store.write)
    store.gate.clear()
    first = asyncio.create_task(recorder.record(finished("r0")))
    await asyncio.sleep(0.01)  # r0's write is in flight and held
    rest = [asyncio.create_task(recorder.record(finished(f"r{i}"))) for i in range(1, 50)]
    await asyncio.sleep(0.01)
    store.gate.set()
    await asyncio.gather(first, *rest)
    assert store.writes == [["r0"], [f"r{i}" for i in range(1, 50)]]
    assert (recorder.groups, recorder.recorded) == (2, 50)


async def test_one_refused_run_fails_alone() -> None:
    store = Store(bad=frozenset({"bad"}))
    recorder = RunRecorder(store.write, retry_delay_s=0.001)
    store.gate.clear()
    calls = [asyncio.create_task(recorder.record(finished(run_id))) for run_id in ("a", "bad", "b")]
    await asyncio.sleep(0.01)
    store.gate.set()
    outcomes = await asyncio.gather(*calls, return_exceptions=True)
    assert outcomes[0] is None
    assert outcomes[2] is None
    assert isinstance(outcomes[1], ConflictError)
    assert sorted(run_id for write in store.writes for run_id in write) == ["a", "b"]


async def test_a_transient_failure_is_retried() -> None:
    store = Store(transient=2)
    recorder = RunRecorder(store.write, retry_delay_s=0.001)
    await recorder.record(finished("r"))
    assert store.writes == [["r"]]


async def test_after_the_last_retry_the_caller_gets_the_error() -> None:
    store = Store(transient=10)
    recorder = RunRecorder(store.write, retries=2, retry_delay_s=0.001)
    with pytest.raises(ConnectionError):
        await recorder.record(finished("r"))
    assert store.writes == []
    assert recorder.pending("r") is None


async def test_submit_returns_before_the_write_and_pending_serves_the_run_until_then() -> None:
    store = Store()
    recorder = RunRecorder(store.write)
    store.gate.clear()
    await recorder.submit(finished("r"))
    pending = recorder.pending("r")
    assert pending is not None
    assert pending.run.id == "r"
    assert store.writes == []
    store.gate.set()
    await recorder.close()
    assert store.writes == [["r"]]
    assert recorder.pending("r") is None


async def test_submit_waits_while_max_pending_runs_are_queued() -> None:
    store = Store()
    recorder = RunRecorder(store.write, max_pending=2)
    store.gate.clear()
    await recorder.submit(finished("a"))
    await recorder.submit(finished("b"))
    third = asyncio.create_task(recorder.submit(finished("c")))
    await asyncio.sleep(0.05)
    assert not third.done()  # back-pressure: nothing more is queued until a write frees room
    store.gate.set()
    await asyncio.wait_for(third, 5)
    await recorder.close()
    assert sorted(run_id for write in store.writes for run_id in write) == ["a", "b", "c"]


async def test_a_refused_submitted_run_is_logged_once_by_id(caplog: pytest.LogCaptureFixture) -> None:
    store = Store(bad=frozenset({"bad"}))
    recorder = RunRecorder(store.write, retries=0)
    store.gate.clear()
    for run_id in ("a", "bad", "b"):
        await recorder.submit(finished(run_id))
    store.gate.set()
    await recorder.close()
    assert sorted(run_id for write in store.writes for run_id in write) == ["a", "b"]
    refused = [r for r in caplog.records if r.getMessage() == "a submitted run could not be recorded"]
    assert [getattr(r, "run_id", None) for r in refused] == ["bad"]
    assert recorder.pending("bad") is None
