"""``/api/ws`` over real WebSockets on loopback against the app served by uvicorn with embedded Postgres."""

from __future__ import annotations

import asyncio
import json
import time
from typing import TYPE_CHECKING, Any

import pytest
import websockets

from tests.integration.runs_support import create_flow, delay_flow, receive, receive_until_finished, use_test_compiler

if TYPE_CHECKING:
    from tests.conftest import LiveServer

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(120)]


async def start_run(ws: Any, flow_id: str, text: str = "hi", **extra: Any) -> str:
    await ws.send(json.dumps({"type": "run_start", "flow_id": flow_id, "inputs": {"text": text}, **extra}))
    accepted = await receive(ws)
    assert accepted["type"] == "run_accepted", accepted
    assert accepted["flow_id"] == flow_id
    return str(accepted["run_id"])


def seqs(events: list[dict[str, Any]]) -> list[int]:
    return [e["seq"] for e in events]


async def test_start_and_follow_a_run(live_server: LiveServer) -> None:
    use_test_compiler(live_server)
    flow_id = await create_flow(live_server, delay_flow(0.05))
    async with live_server.ws() as ws:
        run_id = await start_run(ws, flow_id, request_id="r-1")
        subscribed = await receive(ws)
        assert subscribed == {"type": "subscribed", "run_id": run_id, "after_seq": 0, "request_id": "r-1"}
        events = await receive_until_finished(ws, run_id)
    assert seqs(events) == list(range(1, len(events) + 1))
    assert events[0]["type"] == "run_started"
    assert events[0]["node_ids"] == ["in", "wait", "out"]
    assert events[-1]["status"] == "succeeded"
    assert events[-1]["outputs"] == {"answer": "hi"}
    types = [e["type"] for e in events]
    assert types.count("node_succeeded") == 3
    # the history has the same events, persisted
    async with live_server.ws() as ws:
        await ws.send(json.dumps({"type": "subscribe", "run_id": run_id, "after_seq": 0}))
        assert (await receive(ws))["type"] == "subscribed"
        replay = await receive_until_finished(ws, run_id)
    assert replay == events


async def test_two_observers_see_every_event(live_server: LiveServer) -> None:
    use_test_compiler(live_server)
    flow_id = await create_flow(live_server, delay_flow(0.3))
    url = f"{live_server.ws_url}/api/ws"
    async with (
        websockets.connect(url, additional_headers=live_server.headers) as first,
        websockets.connect(url, additional_headers=live_server.headers) as second,
    ):
        run_id = await start_run(first, flow_id)
        assert (await receive(first))["type"] == "subscribed"
        await second.send(json.dumps({"type": "subscribe", "run_id": run_id, "after_seq": 0}))
        assert (await receive(second))["type"] == "subscribed"
        a, b = await asyncio.gather(receive_until_finished(first, run_id), receive_until_finished(second, run_id))
    assert a == b
    assert seqs(a) == list(range(1, len(a) + 1))


async def test_reconnect_with_after_seq_gets_exactly_the_missed_events(live_server: LiveServer) -> None:
    use_test_compiler(live_server)
    flow_id = await create_flow(live_server, delay_flow(0.4))
    url = f"{live_server.ws_url}/api/ws"
    async with websockets.connect(url, additional_headers=live_server.headers) as ws:
        run_id = await start_run(ws, flow_id)
        assert (await receive(ws))["type"] == "subscribed"
        seen = [await receive(ws) for _ in range(3)]
    assert seqs(seen) == [1, 2, 3]
    async with websockets.connect(url, additional_headers=live_server.headers) as ws:
        await ws.send(json.dumps({"type": "subscribe", "run_id": run_id, "after_seq": 3}))
        assert (await receive(ws))["after_seq"] == 3
        rest = await receive_until_finished(ws, run_id)
    assert rest[0]["seq"] == 4
    assert seqs(seen + rest) == list(range(1, len(rest) + 4))
    assert rest[-1]["status"] == "succeeded"


async def test_cancel_over_the_socket(live_server: LiveServer) -> None:
    use_test_compiler(live_server)
    flow_id = await create_flow(live_server, delay_flow(30))
    async with live_server.ws() as ws:
        run_id = await start_run(ws, flow_id)
        assert (await receive(ws))["type"] == "subscribed"
        while (await receive(ws))["type"] != "node_started":
            pass
        while True:  # wait until the delay node runs
            message = await receive(ws)
            if message.get("type") == "node_started" and message.get("node_id") == "wait":
                break
        asked = time.perf_counter()
        await ws.send(json.dumps({"type": "cancel", "run_id": run_id, "request_id": "c"}))
        frames = await receive_until_finished(ws, run_id)
        elapsed = time.perf_counter() - asked
    assert elapsed < 1.0
    assert [f["type"] for f in frames][-2:] == ["run_cancelled", "run_finished"]
    assert frames[-1]["status"] == "cancelled"


async def test_bad_messages_get_located_errors_and_the_socket_stays_open(live_server: LiveServer) -> None:
    async with live_server.ws() as ws:
        await ws.send("{not json")
        error = await receive(ws)
        assert (error["type"], error["code"], error["path"]) == ("error", "invalid_message", "$")
        await ws.send(json.dumps({"type": "subscribe", "run_id": "x", "after_seq": -1}))
        error = await receive(ws)
        assert (error["code"], error["path"]) == ("invalid_message", "$.after_seq")
        await ws.send(json.dumps({"type": "teleport"}))
        error = await receive(ws)
        assert error["code"] == "invalid_message"
        assert "teleport" in error["message"]
        await ws.send(json.dumps({"type": "subscribe", "run_id": "ghost", "request_id": "q"}))
        error = await receive(ws)
        assert (error["code"], error["path"], error["run_id"], error["request_id"]) == (
            "not_found", "$.run_id", "ghost", "q",
        )  # fmt: skip
        await ws.send(json.dumps({"type": "run_start", "flow_id": "ghost"}))
        error = await receive(ws)
        assert (error["code"], error["path"]) == ("not_found", "$.flow_id")
        await ws.send(json.dumps({"type": "ping", "request_id": "p"}))
        assert await receive(ws) == {"type": "pong", "request_id": "p"}
