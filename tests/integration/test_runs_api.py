"""The runs HTTP API on the live app."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import pytest

from tests.integration.runs_support import create_flow, delay_flow, use_test_compiler

if TYPE_CHECKING:
    import httpx

    from tests.conftest import LiveServer

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(120)]


async def wait_finished(client: httpx.AsyncClient, run_id: str) -> dict[str, Any]:
    for _ in range(200):
        body: dict[str, Any] = (await client.get(f"/api/runs/{run_id}")).json()
        if body["run"]["status"] not in ("queued", "running"):
            return body
        await asyncio.sleep(0.02)
    raise AssertionError(f"run {run_id} did not finish")


async def test_start_read_history_and_events(live_server: LiveServer) -> None:
    use_test_compiler(live_server)
    flow_id = await create_flow(live_server, delay_flow(0.01))
    async with live_server.client() as client:
        created = await client.post(f"/api/flows/{flow_id}/runs", json={"inputs": {"text": "yo"}})
        assert created.status_code == 201, created.text
        run = created.json()
        assert (run["status"], run["trigger"], run["flow_version"], run["inputs"]) == (
            "running",
            "api",
            1,
            {"text": "yo"},
        )
        detail = await wait_finished(client, run["id"])
        assert detail["run"]["status"] == "succeeded"
        assert detail["run"]["outputs"] == {"answer": "yo"}
        nodes = {n["node_id"]: n for n in detail["nodes"]}
        assert {k: v["status"] for k, v in nodes.items()} == {
            "in": "succeeded",
            "wait": "succeeded",
            "out": "succeeded",
        }
        assert nodes["wait"]["attempts"] == 1
        assert nodes["wait"]["inputs_preview"] == {"value": "yo"}
        events = (await client.get(f"/api/runs/{run['id']}/events")).json()
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
        assert detail["last_seq"] == len(events)
        tail = (await client.get(f"/api/runs/{run['id']}/events", params={"after_seq": len(events) - 2})).json()
        assert [e["type"] for e in tail] == ["node_succeeded", "run_finished"]
        listed = (await client.get("/api/runs", params={"flow_id": flow_id})).json()
        assert [r["id"] for r in listed] == [run["id"]]
        assert (await client.get("/api/runs", params={"status": "failed", "flow_id": flow_id})).json() == []
        since = detail["run"]["created_at"]
        assert len((await client.get("/api/runs", params={"since": since})).json()) >= 1
        assert (await client.get("/api/runs", params={"until": since, "flow_id": flow_id})).json() == []
        conflict = await client.post(f"/api/runs/{run['id']}/cancel")
        assert conflict.status_code == 409
        assert conflict.json()["code"] == "conflict"


async def test_cancel_and_errors(live_server: LiveServer) -> None:
    use_test_compiler(live_server)
    flow_id = await create_flow(live_server, delay_flow(30))
    async with live_server.client() as client:
        run = (await client.post(f"/api/flows/{flow_id}/runs", json={"inputs": {"text": "x"}})).json()
        await asyncio.sleep(0.1)
        cancelled = await client.post(f"/api/runs/{run['id']}/cancel")
        assert cancelled.status_code == 202
        detail = await wait_finished(client, run["id"])
        assert detail["run"]["status"] == "cancelled"
        assert (await client.get("/api/runs/ghost")).status_code == 404
        assert (await client.post("/api/flows/ghost/runs", json={})).status_code == 404
        bad = await client.post(f"/api/flows/{flow_id}/runs", json={"inputs": {}, "speed": "max"})
        assert bad.status_code == 422
        partial = await client.post(f"/api/flows/{flow_id}/runs", json={"from_node": "nope"})
        assert partial.status_code == 422
        assert partial.json()["errors"][0]["path"] == "$.from_node"
