"""Real DB-GPT exports imported over HTTP answer a question with the embedded default model; bad input is refused.

The exports in ``tests/fixtures/dbgpt`` (see its README) are DB-GPT's and dbgpts' own chat flow templates: the
3-node ``simple_streaming_chat_flow.json`` (trigger → higher-order streaming LLM → output), the 5-node
``awel_flow_simple_streaming_chat.json`` (trigger → conversation composer with a prompt template → streaming LLM
→ output) and the 9-node ``awel_flow_example_chat.json`` (nodes known only by their flow name).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from rivulet.templates.dbgpt import MAX_DEPTH

if TYPE_CHECKING:
    import httpx

    from tests.conftest import LiveServer

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(180)]

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "dbgpt"
RIVULET = str(Path(sys.executable).with_name("rivulet"))
CHAT_EXPORTS = (
    "simple_streaming_chat_flow.json",
    "awel_flow_simple_streaming_chat.json",
    "awel_flow_example_chat.json",
)


def _export(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def _nested(depth: int, *, wrap: bool = False) -> str:
    """The 3-node export (as JSON text) with a parameter value nested ``depth`` lists deep (``wrap``: in a request
    body ``{"export": …}``); built as text, since Python's own encoder cannot nest that deep."""
    export = _export("simple_streaming_chat_flow.json")
    export["flow"]["flow_data"]["nodes"][0]["data"]["parameters"][0]["value"] = "@DEEP@"
    text = json.dumps({"export": export} if wrap else export)
    return text.replace('"@DEEP@"', "[" * depth + '"deep"' + "]" * depth)


async def _flow_count(client: httpx.AsyncClient) -> int:
    return len((await client.get("/api/flows", params={"limit": 500})).json()["items"])


async def _run(client: httpx.AsyncClient, flow_id: str, inputs: dict[str, Any]) -> dict[str, Any]:
    started = await client.post(f"/api/flows/{flow_id}/runs", json={"inputs": inputs})
    assert started.status_code in (200, 201, 202), started.text
    run_id = started.json()["id"]
    for _ in range(3000):
        body: dict[str, Any] = (await client.get(f"/api/runs/{run_id}")).json()
        if body["run"]["status"] not in ("queued", "running"):
            return body["run"]
        await asyncio.sleep(0.05)
    raise AssertionError("run did not finish")


@pytest.mark.parametrize("name", CHAT_EXPORTS)
async def test_real_dbgpt_chat_export_imports_and_answers(name: str, live_server: LiveServer) -> None:
    async with live_server.client(timeout=60) as client:
        response = await client.post("/api/templates/import-dbgpt", json={"export": _export(name)})
        assert response.status_code == 201, response.text
        body = response.json()
        assert [d for d in body["diagnostics"] if d["severity"] == "error"] == []
        saved = (await client.get(f"/api/flows/{body['flow_id']}")).json()
        assert saved["validation"]["ok"], saved["validation"]
        document = saved["document"]
        # the report names exactly the nodes that were saved
        mapped = sorted(n["node_id"] for n in body["nodes"] if n["status"] == "mapped")
        assert mapped == sorted(n["id"] for n in document["nodes"])
        chat = next(n for n in document["nodes"] if n["operator"] == "llm.chat")
        assert chat["params"].get("model", "default") == "default"
        run = await _run(client, body["flow_id"], {"user_input": "What is the capital of France?"})
        assert run["status"] == "succeeded", run
        answer = run["outputs"]["answer"]
        assert answer["role"] == "assistant"
        assert answer["content"].strip()


async def test_a_default_llm_client_folds_to_the_default_model_never_its_label(live_server: LiveServer) -> None:
    export = _export("simple_streaming_chat_flow.json")
    canvas = export["flow"]["flow_data"]
    llm = canvas["nodes"][1]["id"]
    client_id = "resource_dbgpt.model.cluster.client.DefaultLLMClient_0"
    canvas["nodes"].append(
        {
            "id": client_id,
            "position": {"x": 0, "y": 0},
            "data": {
                "type_name": "DefaultLLMClient",
                "type_cls": "dbgpt.model.cluster.client.DefaultLLMClient",
                "label": "Default LLM Client",
                "name": "default_llm_client",
                "parameters": [{"name": "auto_convert_message", "category": "common", "value": None}],
            },
        }
    )
    canvas["edges"].append(
        {
            "source": client_id,
            "target": llm,
            "source_handle": f"{client_id}|outputs|0",
            "target_handle": f"{llm}|parameters|2",
        }
    )
    async with live_server.client(timeout=60) as client:
        body = (await client.post("/api/templates/import-dbgpt", json={"export": export})).json()
        folded = next(n for n in body["nodes"] if n["dbgpt_id"] == client_id)
        assert folded["status"] == "folded"
        chat = next(n for n in body["document"]["nodes"] if n["operator"] == "llm.chat")
        assert chat["params"]["model"] == "default"
        run = await _run(client, body["flow_id"], {"user_input": "Say hello."})
        assert run["status"] == "succeeded", run


async def test_save_false_answers_200_and_creates_nothing(live_server: LiveServer) -> None:
    export = _export("awel_flow_simple_streaming_chat.json")
    async with live_server.client() as client:
        before = await _flow_count(client)
        preview = await client.post("/api/templates/import-dbgpt", json={"export": export, "save": False})
        assert preview.status_code == 200, preview.text
        assert preview.json()["flow_id"] is None
        assert await _flow_count(client) == before
        saved = await client.post("/api/templates/import-dbgpt", json={"export": export, "save": True})
        assert saved.status_code == 201, saved.text
        assert saved.json()["flow_id"]
        assert await _flow_count(client) == before + 1


@pytest.mark.parametrize("depth", [100, 1_000, 100_000])
async def test_deeply_nested_export_is_a_located_client_error(depth: int, live_server: LiveServer) -> None:
    async with live_server.client() as client:
        before = await _flow_count(client)
        response = await client.post(
            "/api/templates/import-dbgpt",
            content=_nested(depth, wrap=True),
            headers={"content-type": "application/json"},
        )
        assert response.status_code in (400, 422), response.text
        problem = json.dumps(response.json())
        if depth == 100:  # decoded by the server, refused by the importer, which names where
            assert f"nested deeper than {MAX_DEPTH} levels" in problem
            assert "$.flow.flow_data.nodes[0].data.parameters[0].value" in problem
        else:  # refused while decoding the request body, at a byte position
            assert re.search(r"nested (too deeply at byte \d+|deeper than)", problem), problem
        assert "Traceback" not in response.text
        assert await _flow_count(client) == before


async def test_duplicate_node_ids_are_reported_and_the_report_matches_the_saved_flow(
    live_server: LiveServer,
) -> None:
    export = _export("awel_flow_simple_streaming_chat.json")
    nodes = export["nodes"]
    twin = json.loads(json.dumps(nodes[0]))  # the streaming LLM node again, under the same id
    twin["data"]["label"] = "Second LLM"
    nodes.append(twin)
    async with live_server.client() as client:
        body = (await client.post("/api/templates/import-dbgpt", json={"export": export})).json()
        assert len(body["nodes"]) == len(nodes)
        duplicate = body["nodes"][-1]
        assert duplicate["status"] == "unmapped"
        assert duplicate["label"] == "Second LLM"
        assert "duplicate node id" in duplicate["reason"]
        saved = (await client.get(f"/api/flows/{body['flow_id']}")).json()["document"]
        reported = {n["node_id"]: n["operator"] for n in body["nodes"] if n["status"] == "mapped"}
        assert reported == {n["id"]: n["operator"] for n in saved["nodes"]}
        assert len({n["id"] for n in saved["nodes"]}) == len(saved["nodes"])


def test_cli_refuses_a_deeply_nested_export_in_one_line(tmp_path: Path, db_url: str) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text(_nested(1_000))
    env = {**os.environ, "RIVULET_HOME": str(tmp_path / "home"), "RIVULET_DATABASE_URL": db_url}
    result = subprocess.run(
        [RIVULET, "template", "import-dbgpt", str(deep)], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("rivulet: error:")
    assert "nested deeper than" in lines[0]


async def test_an_export_over_the_servers_node_limit_is_refused(live_server: LiveServer) -> None:
    export = _export("awel_flow_simple_streaming_chat.json")
    limit = live_server.settings.max_flow_nodes
    export["nodes"] += [{"id": f"extra_{i}", "data": {"name": "unknown"}} for i in range(limit)]
    async with live_server.client() as client:
        before = await _flow_count(client)
        response = await client.post("/api/templates/import-dbgpt", json={"export": export})
        assert response.status_code == 422, response.text
        assert f"more than the limit of {limit} (setting RIVULET_MAX_FLOW_NODES) at $.nodes" in response.text
        assert await _flow_count(client) == before
