"""Schedules: a schedule every second fires and records runs; two app instances (in one process, and as two
``rivulet serve`` processes) on one database fire each time once."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import msgspec

from rivulet.compiler.flow import encode_flow
from rivulet.publishing.schedules import next_fire_after
from rivulet.sdk.triggers import ScheduleTriggerParams
from rivulet.storage.postgres.schedules import PostgresScheduleStore
from tests.conftest import ADMIN_PASSWORD, alogin_token, free_port, serve_app
from tests.integration.publishing_support import schedule_flow

if TYPE_CHECKING:
    from psycopg_pool import AsyncConnectionPool

    from tests.conftest import LiveServer


async def publish_schedule(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    document = msgspec.json.decode(encode_flow(schedule_flow(**params)))
    flow_id = (await client.post("/api/flows", json={"document": document})).json()["summary"]["id"]
    published = await client.post(f"/api/flows/{flow_id}/publish", json={})
    assert published.status_code == 200, published.text
    result: dict[str, Any] = published.json()
    return result


async def wait_for_runs(client: httpx.AsyncClient, flow_id: str, count: int) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = []
    for _ in range(600):
        runs = (await client.get("/api/runs", params={"flow_id": flow_id})).json()
        if sum(r["status"] == "succeeded" for r in runs) >= count:
            return runs
        await asyncio.sleep(0.05)
    raise AssertionError(f"expected {count} scheduled runs, got {runs}")


async def test_a_schedule_every_second_fires_and_records_runs(live_server: LiveServer) -> None:
    async with live_server.client() as client:
        result = await publish_schedule(client, interval_s=1.0, inputs={"city": "Lyon"})
        schedule = result["schedule"]
        assert len(schedule["upcoming"]) == 5
        assert result["endpoint"] is None
        runs = await wait_for_runs(client, result["flow_id"], 2)
        schedule_id = schedule["schedule"]["id"]
        fires = (await client.get(f"/api/schedules/{schedule_id}/fires")).json()
        disabled = await client.patch(f"/api/schedules/{schedule_id}", json={"enabled": False})
        listed = (await client.get("/api/schedules")).json()
    assert {r["trigger"] for r in runs} == {"schedule"}
    finished = [r for r in runs if r["status"] == "succeeded"]
    assert all(r["outputs"]["at"] for r in finished)
    assert {f["run_id"] for f in fires if f["status"] == "fired"} >= {r["id"] for r in finished}
    assert disabled.json()["schedule"]["enabled"] is False
    assert disabled.json()["upcoming"] == []
    assert listed[0]["schedule"]["next_fire_at"] is None


async def test_two_app_instances_on_one_database_fire_each_time_once(live_server: LiveServer, db_url: str) -> None:
    async with serve_app(db_url, live_server.settings) as replica, live_server.client() as client:
        assert replica.app.state["services"].schedules is not live_server.app.state["services"].schedules
        result = await publish_schedule(client, interval_s=1.0)
        await wait_for_runs(client, result["flow_id"], 4)
        await client.patch(f"/api/schedules/{result['schedule']['schedule']['id']}", json={"enabled": False})
        await asyncio.sleep(0.5)  # let runs already started finish recording
        fires = (await client.get(f"/api/schedules/{result['schedule']['schedule']['id']}/fires")).json()
        runs = (await client.get("/api/runs", params={"flow_id": result["flow_id"]})).json()
    fired = [f for f in fires if f["status"] == "fired"]
    assert len({f["fire_at"] for f in fires}) == len(fires)
    assert sorted(f["run_id"] for f in fired) == sorted(r["id"] for r in runs)
    scheduled_at = [r["inputs"]["scheduled_at"] for r in runs]
    assert len(scheduled_at) == len(set(scheduled_at)) >= 4


async def test_missed_fires_are_recorded_and_coalesced(pool: AsyncConnectionPool) -> None:
    store = PostgresScheduleStore(pool)
    past = datetime.now(UTC) - timedelta(minutes=5, seconds=30)
    skip = ScheduleTriggerParams(interval_s=60, missed_policy="skip")
    catch_up = ScheduleTriggerParams(interval_s=60, missed_policy="run_once")
    skipped = await store.upsert("f1", 1, "tick", skip, past)
    caught = await store.upsert("f2", 1, "tick", catch_up, past)
    claimed = await store.claim_due(next_fire_after)
    assert [c.schedule.id for c in claimed] == [caught.id]
    skipped_fires = await store.fires(skipped.id)
    caught_fires = await store.fires(caught.id)
    assert [f.status for f in skipped_fires] == ["missed"] * 6
    assert [f.status for f in caught_fires] == ["fired"] + ["missed"] * 5
    assert caught_fires[0].run_id == claimed[0].run_id
    assert await store.missed_count(skipped.id) == 6
    after = await store.get(caught.id)
    assert after.next_fire_at is not None
    assert after.next_fire_at > datetime.now(UTC)
    assert await store.claim_due(next_fire_after) == []


def test_cron_fire_times_follow_the_time_zone() -> None:
    params = ScheduleTriggerParams(cron="30 9 * * *", timezone="Europe/Paris")
    record = _record(params)
    fire = next_fire_after(record, datetime(2026, 1, 15, 12, 0, tzinfo=UTC))
    assert fire is not None
    assert fire.astimezone(UTC) == datetime(2026, 1, 16, 8, 30, tzinfo=UTC)
    summer = next_fire_after(record, datetime(2026, 7, 15, 12, 0, tzinfo=UTC))
    assert summer is not None
    assert summer.astimezone(UTC) == datetime(2026, 7, 16, 7, 30, tzinfo=UTC)


def _record(params: ScheduleTriggerParams) -> Any:
    from rivulet.storage.base import ScheduleRecord

    now = datetime.now(UTC)
    return ScheduleRecord(
        id="s",
        flow_id="f",
        flow_version=1,
        node_id="n",
        cron=params.cron,
        interval_s=params.interval_s,
        timezone=params.timezone,
        inputs={},
        missed_policy=params.missed_policy,
        enabled=True,
        next_fire_at=None,
        last_fire_at=None,
        created_at=now,
        updated_at=now,
    )


RIVULET = str(Path(sys.executable).with_name("rivulet"))


def _serve(db_url: str, home: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "RIVULET_DATABASE_URL": db_url,
        "RIVULET_HOME": str(home),
        "RIVULET_FRONTEND_DIR": str(home / "none"),
        "RIVULET_ADMIN_PASSWORD": ADMIN_PASSWORD,
    }
    return subprocess.Popen(
        [RIVULET, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


async def _wait_healthy(url: str, proc: subprocess.Popen[bytes]) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=2) as client:
        for _ in range(600):
            assert proc.poll() is None, "rivulet serve exited during startup"
            with contextlib.suppress(httpx.TransportError):
                if (await client.get("/api/health")).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise AssertionError("rivulet serve did not become healthy")


async def test_two_rivulet_serve_processes_fire_each_time_once(db_url: str, tmp_path: Path) -> None:
    ports = [free_port(), free_port()]
    procs = [_serve(db_url, tmp_path / f"home{i}", port) for i, port in enumerate(ports)]
    try:
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        for url, proc in zip(urls, procs, strict=True):
            await _wait_healthy(url, proc)
        token = await alogin_token(urls[0])
        async with httpx.AsyncClient(base_url=urls[1], headers={"Authorization": f"Bearer {token}"}) as client:
            result = await publish_schedule(client, interval_s=1.0)
            schedule_id = result["schedule"]["schedule"]["id"]
            await wait_for_runs(client, result["flow_id"], 4)
            await client.patch(f"/api/schedules/{schedule_id}", json={"enabled": False})
            await asyncio.sleep(0.5)  # let runs already started finish recording
            fires = (await client.get(f"/api/schedules/{schedule_id}/fires")).json()
            runs = (await client.get("/api/runs", params={"flow_id": result["flow_id"]})).json()
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=30)
    fired = [f for f in fires if f["status"] == "fired"]
    assert sorted(f["run_id"] for f in fired) == sorted(r["id"] for r in runs)
    scheduled_at = [r["inputs"]["scheduled_at"] for r in runs]
    assert len(scheduled_at) == len(set(scheduled_at)) >= 4
