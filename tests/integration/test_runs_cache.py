"""Editor runs and the node cache over the real HTTP API: a cached result never hides a changed run input."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import httpx

    from tests.conftest import LiveServer

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(120)]


def question_flow(name: str) -> dict[str, Any]:
    """``core.input(q) -> core.template("Q: {{ q }}") -> core.output(answer)`` (the issue's flow)."""
    return {
        "name": name,
        "nodes": [
            {"id": "in", "operator": "core.input", "params": {"name": "q", "type": "Text"}},
            {"id": "tpl", "operator": "core.template", "params": {"template": "Q: {{ q }}"}},
            {"id": "out", "operator": "core.output", "params": {"name": "answer"}},
        ],
        "edges": [
            {"id": "e1", "source": "in", "source_port": "value", "target": "tpl", "target_port": "q"},
            {"id": "e2", "source": "tpl", "source_port": "text", "target": "out", "target_port": "value"},
        ],
    }


async def create(client: httpx.AsyncClient, name: str) -> str:
    created = await client.post("/api/flows", json={"document": question_flow(name)})
    assert created.status_code == 201, created.text
    return str(created.json()["summary"]["id"])


async def run(client: httpx.AsyncClient, flow_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Start an editor run, wait for its end; returns the run detail (run + nodes)."""
    created = await client.post(f"/api/flows/{flow_id}/runs", json={"trigger": "editor", **body})
    assert created.status_code == 201, created.text
    run_id = created.json()["id"]
    for _ in range(500):
        detail: dict[str, Any] = (await client.get(f"/api/runs/{run_id}")).json()
        if detail["run"]["status"] not in ("queued", "running"):
            assert detail["run"]["status"] == "succeeded", detail
            return detail
        await asyncio.sleep(0.02)
    raise AssertionError(f"run {run_id} did not finish")


def cached(detail: dict[str, Any]) -> dict[str, bool]:
    return {node["node_id"]: node["cached"] for node in detail["nodes"]}


async def test_an_editor_run_with_a_new_input_is_not_served_a_stale_answer(live_server: LiveServer) -> None:
    async with live_server.client() as client:
        flow_id = await create(client, "questions")
        first = await run(client, flow_id, {"inputs": {"q": "first question"}})
        assert first["run"]["outputs"] == {"answer": "Q: first question"}

        second = await run(client, flow_id, {"inputs": {"q": "second question"}})
        assert second["run"]["outputs"] == {"answer": "Q: second question"}
        assert cached(second) == {"in": False, "tpl": False, "out": False}
        nodes = {node["node_id"]: node for node in second["nodes"]}
        assert nodes["in"]["outputs_preview"] == {"value": "second question"}

        # nothing changed: every node is served from the cache, with the same answer
        again = await run(client, flow_id, {"inputs": {"q": "second question"}})
        assert again["run"]["outputs"] == {"answer": "Q: second question"}
        assert cached(again) == {"in": True, "tpl": True, "out": True}

        # another flow with the same params: its own inputs, never the other flow's cached answer
        other_id = await create(client, "same params")
        other = await run(client, other_id, {"inputs": {"q": "Why is the sky blue?"}})
        assert other["run"]["outputs"] == {"answer": "Q: Why is the sky blue?"}
        assert cached(other) == {"in": False, "tpl": False, "out": False}
        # nor learns from a cached flag what the first flow was asked: entries are not shared between flows
        probe = await run(client, other_id, {"inputs": {"q": "second question"}})
        assert probe["run"]["outputs"] == {"answer": "Q: second question"}
        assert cached(probe) == {"in": False, "tpl": False, "out": False}
        back = await run(client, flow_id, {"inputs": {"q": "first question"}})
        assert back["run"]["outputs"] == {"answer": "Q: first question"}


async def test_a_partial_rerun_with_a_new_input_runs_the_input_again(live_server: LiveServer) -> None:
    async with live_server.client() as client:
        flow_id = await create(client, "rerun")
        await run(client, flow_id, {"inputs": {"q": "first question"}})
        same = await run(client, flow_id, {"inputs": {"q": "first question"}, "from_node": "tpl"})
        assert same["run"]["outputs"] == {"answer": "Q: first question"}
        assert cached(same) == {"in": True, "tpl": False, "out": False}
        changed = await run(client, flow_id, {"inputs": {"q": "second question"}, "from_node": "tpl"})
        assert changed["run"]["outputs"] == {"answer": "Q: second question"}
        assert cached(changed)["in"] is False
