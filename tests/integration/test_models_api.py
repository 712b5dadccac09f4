"""``/api/models`` and ``/api/secrets`` on the live app, and a chat flow streaming tokens from the local model."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from rivulet.compiler.flow import Edge, FlowDocument, Node
from tests.integration.openai_server import API_KEY, serve_openai
from tests.integration.runs_support import create_flow, receive, receive_until_finished

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import httpx

    from tests.conftest import LiveServer

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(180)]


@pytest.fixture
async def client(live_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with live_server.client(timeout=120) as c:
        yield c


async def test_builtin_models_are_listed(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/models")
    assert response.status_code == 200
    items = response.json()["items"]
    assert [(m["name"], m["builtin"], m["is_default"]) for m in items] == [
        ("default", True, True),
        ("default-embedding", True, True),
    ]


async def test_add_test_default_and_delete_a_remote_model(client: httpx.AsyncClient) -> None:
    async with serve_openai() as server:
        assert (await client.put("/api/secrets/openai-key", json={"value": API_KEY})).status_code == 200
        body: dict[str, Any] = {
            "name": "remote",
            "provider": "openai_compatible",
            "params": {"base_url": server.url, "model": "gpt-test", "api_key_secret": "openai-key"},
            "allow_private_network": True,
            "concurrency": 2,
            "timeout_s": 30,
        }
        created = await client.post("/api/models", json=body)
        assert created.status_code == 201, created.text
        assert created.json()["params"]["api_key_secret"] == "openai-key"
        assert (await client.post("/api/models", json=body)).status_code == 409

        probe = (await client.post("/api/models/remote/test")).json()
        assert probe["ok"] is True, probe
        assert probe["output"] == "Hello from the server"
        assert (probe["prompt_tokens"], probe["completion_tokens"]) == (11, 5)
        assert probe["latency_ms"] > 0
        assert probe["ttft_ms"] is not None
        health = (await client.get("/api/models/remote/health")).json()
        assert health["ok"] is True

        calls = (await client.get("/api/models/calls", params={"model": "remote"})).json()
        assert [c["origin"] for c in calls["items"]] == ["test", "test"]
        assert calls["completion_tokens"] == 10

        assert (await client.post("/api/models/remote/default")).status_code == 200
        assert (await client.get("/api/models/default")).json()["name"] == "remote"
        assert (await client.delete("/api/models/remote")).status_code == 204
        assert (await client.get("/api/models/default")).json()["name"] == "default"
        assert (await client.get("/api/models/remote")).status_code == 404


async def test_failing_model_test_reports_the_error(client: httpx.AsyncClient) -> None:
    body = {
        "name": "nowhere",
        "provider": "openai_compatible",
        "params": {"base_url": "http://10.255.255.1/v1", "model": "m"},
    }
    assert (await client.post("/api/models", json=body)).status_code == 201
    probe = (await client.post("/api/models/nowhere/test")).json()
    assert probe["ok"] is False
    assert probe["error_code"] == "blocked_address"
    assert "private address" in probe["error"]


async def test_bad_model_config_is_a_located_422(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/models", json={"name": "bad", "provider": "openai_compatible", "params": {"base_url": "ftp://x"}}
    )
    assert response.status_code == 422
    assert "$.params.base_url" in response.json()["detail"]
    response = await client.post("/api/models", json={"name": "Bad Name", "provider": "local_llamacpp"})
    assert response.status_code == 422


async def test_secrets_are_write_only_and_encrypted_at_rest(client: httpx.AsyncClient, live_server: LiveServer) -> None:
    value = "super-secret-value-42"
    response = await client.put("/api/secrets/db_password", json={"value": value})
    assert response.status_code == 200
    assert value not in response.text
    listed = await client.get("/api/secrets")
    assert [s["name"] for s in listed.json()["items"]] == ["db_password"]
    assert value not in listed.text
    services = live_server.app.state["services"]
    async with services.pool.connection() as conn:
        row = await (await conn.execute("SELECT ciphertext FROM secrets WHERE name = 'db_password'")).fetchone()
    assert value.encode() not in bytes(row[0])
    assert await services.secrets.reveal("db_password") == value
    key_file = Path(live_server.settings.home) / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert (await client.put("/api/secrets/bad name", json={"value": "x"})).status_code == 422
    assert (await client.delete("/api/secrets/db_password")).status_code == 204
    assert (await client.delete("/api/secrets/db_password")).status_code == 404


def chat_flow() -> FlowDocument:
    """``core.input(text) → llm.chat(prompt) → core.output(answer)`` on the local default model."""
    return FlowDocument(
        name="chat",
        nodes=[
            Node(id="in", operator="core.input", params={"name": "text", "type": "Text"}),
            Node(id="chat", operator="llm.chat", params={"temperature": 0, "max_tokens": 8}),
            Node(id="out", operator="core.output", params={"name": "answer"}),
        ],
        edges=[
            Edge(id="e1", source="in", source_port="value", target="chat", target_port="prompt"),
            Edge(id="e2", source="chat", source_port="message", target="out", target_port="value"),
        ],
    )


async def test_chat_flow_streams_tokens_from_the_local_model(
    live_server: LiveServer, client: httpx.AsyncClient
) -> None:
    flow_id = await create_flow(live_server, chat_flow())
    async with live_server.ws() as ws:
        await ws.send(json.dumps({"type": "run_start", "flow_id": flow_id, "inputs": {"text": "What is 2+2?"}}))
        accepted = await receive(ws)
        assert accepted["type"] == "run_accepted", accepted
        run_id = accepted["run_id"]
        events = await receive_until_finished(ws, run_id, timeout=120)
    chunks = [e for e in events if e["type"] == "node_chunk"]
    assert len(chunks) >= 2
    assert {(e["node_id"], e["port"]) for e in chunks} == {("chat", "tokens")}
    assert [e["index"] for e in chunks] == list(range(len(chunks)))
    text = "".join(e["data"] for e in chunks)
    finished = events[-1]
    assert finished["status"] == "succeeded", finished
    assert finished["outputs"]["answer"] == {"role": "assistant", "content": text, "name": None, "tool_call_id": None}
    message_output = next(e for e in events if e["type"] == "node_output" and e["port"] == "message")
    assert events.index(message_output) > events.index(chunks[-1])  # the message comes after its tokens
    calls = (await client.get("/api/models/calls", params={"run_id": run_id})).json()
    [call] = calls["items"]
    assert (call["node_id"], call["model"], call["status"]) == ("chat", "default", "ok")
    assert call["completion_tokens"] == len(chunks)
