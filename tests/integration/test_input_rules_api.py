"""Issue 16 over real HTTP: a flow that could only fail at run time for a missing input does not compile.

``llm.chat`` with neither ``messages`` nor ``prompt`` connected: the editor's validate shows the located
diagnostic, a run is refused before it starts, publishing (endpoint or schedule) is refused with the diagnostics
in the problem+json and publishes nothing, and the catalog exports the rule so the editor can show it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec

from rivulet.compiler.flow import Edge, FlowDocument, Node, encode_flow

if TYPE_CHECKING:
    import httpx

    from tests.conftest import LiveServer

CHAT_RULE = {"kind": "at_least_one", "inputs": ["messages", "prompt"], "params": [], "hint": ""}


def chat_flow(*, connected: bool, trigger: str = "http") -> FlowDocument:
    """``trigger -> llm.chat -> core.output``; the chat's ``prompt`` is connected only when ``connected``."""
    if trigger == "http":
        source = Node(id="in", operator="trigger.http", params={"slug": "ask", "fields": [{"name": "question"}]})
        port = "question"
    else:
        source = Node(id="in", operator="trigger.schedule", params={"interval_s": 3600})
        port = "scheduled_at"
    edges = [Edge(id="e2", source="answer", source_port="message", target="out", target_port="value")]
    if connected:
        edges.insert(0, Edge(id="e1", source="in", source_port=port, target="answer", target_port="prompt"))
    return FlowDocument(
        name=f"ask ({trigger})",
        nodes=[
            source,
            Node(id="answer", operator="llm.chat", params={"system_prompt": "Be brief."}),
            Node(id="out", operator="core.output", params={"name": "answer"}),
        ],
        edges=edges,
    )


def _json(document: FlowDocument) -> Any:
    return msgspec.json.decode(encode_flow(document))


async def _create(client: httpx.AsyncClient, document: FlowDocument) -> str:
    created = await client.post("/api/flows", json={"document": _json(document)})
    assert created.status_code == 201, created.text
    flow_id: str = created.json()["summary"]["id"]
    return flow_id


def _rule_diagnostics(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [d for d in body["diagnostics"] if d["code"] == "required_input_group_missing"]


def _assert_located(diagnostic: dict[str, Any]) -> None:
    assert diagnostic["node_id"] == "answer"
    assert diagnostic["path"] == "$.nodes[1]"
    assert diagnostic.get("severity", "error") == "error"  # the default is omitted on the wire
    assert diagnostic["choices"] == ["messages", "prompt"]
    assert "'messages' or 'prompt'" in diagnostic["message"]


async def test_validate_shows_the_located_diagnostic(live_server: LiveServer) -> None:
    async with live_server.client() as client:
        draft = await client.post("/api/flows/validate", json=_json(chat_flow(connected=False)))
        fixed = await client.post("/api/flows/validate", json=_json(chat_flow(connected=True)))
        flow_id = await _create(client, chat_flow(connected=False))
        saved = await client.post(f"/api/flows/{flow_id}/validate")
        read = await client.get(f"/api/flows/{flow_id}")
    assert draft.status_code == 200, draft.text
    assert draft.json()["ok"] is False
    [diagnostic] = _rule_diagnostics(draft.json())
    _assert_located(diagnostic)
    assert fixed.json() == {"ok": True, "diagnostics": []}
    assert saved.json() == draft.json()
    assert read.json()["validation"] == draft.json()


async def test_a_run_is_refused_before_it_starts(live_server: LiveServer) -> None:
    async with live_server.client() as client:
        flow_id = await _create(client, chat_flow(connected=False))
        started = await client.post(f"/api/flows/{flow_id}/runs", json={"inputs": {}})
    assert started.status_code == 422, started.text
    assert started.headers["content-type"].startswith("application/problem+json")
    assert started.json()["code"] == "compile_error"
    _assert_located(_rule_diagnostics(started.json())[0])


async def test_publishing_an_endpoint_that_does_not_compile_is_refused(live_server: LiveServer) -> None:
    async with live_server.client() as client:
        flow_id = await _create(client, chat_flow(connected=False))
        refused = await client.post(f"/api/flows/{flow_id}/publish", json={})
        endpoints = await client.get("/api/endpoints")
    live = await live_server.app.state["services"].published.resolve("ask")
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    body = refused.json()
    assert (body["code"], body["status"]) == ("compile_error", 422)
    assert "'messages' or 'prompt'" in body["detail"]
    _assert_located(_rule_diagnostics(body)[0])
    assert [e for e in endpoints.json() if e["endpoint"]["flow_id"] == flow_id] == []
    assert live is None


async def test_publishing_a_schedule_that_does_not_compile_is_refused(live_server: LiveServer) -> None:
    async with live_server.client() as client:
        flow_id = await _create(client, chat_flow(connected=False, trigger="schedule"))
        refused = await client.post(f"/api/flows/{flow_id}/publish", json={})
        schedules = await client.get("/api/schedules", params={"flow_id": flow_id})
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "compile_error"
    _assert_located(_rule_diagnostics(refused.json())[0])
    assert schedules.json() == []


async def test_republishing_a_version_that_does_not_compile_keeps_the_live_one(live_server: LiveServer) -> None:
    async with live_server.client() as client:
        flow_id = await _create(client, chat_flow(connected=True))
        published = await client.post(f"/api/flows/{flow_id}/publish", json={})
        saved = await client.put(
            f"/api/flows/{flow_id}", json={"document": _json(chat_flow(connected=False)), "base_version": 1}
        )
        refused = await client.post(f"/api/flows/{flow_id}/publish", json={"version": 2})
        endpoints = await client.get("/api/endpoints", params={"flow_id": flow_id})
    assert published.status_code == 200, published.text
    assert saved.status_code == 200, saved.text
    assert refused.status_code == 422, refused.text
    assert [(e["endpoint"]["slug"], e["endpoint"]["flow_version"]) for e in endpoints.json()] == [("ask", 1)]


async def test_enabling_a_schedule_whose_version_does_not_compile_is_refused(live_server: LiveServer) -> None:
    services = live_server.app.state["services"]
    async with live_server.client() as client:
        flow_id = await _create(client, chat_flow(connected=False, trigger="schedule"))
        record = await services.flows.get(flow_id)
        node = record.document.nodes[0]
        params = services.registry.get("trigger.schedule").params_type(**node.params)
        stored = await services.schedules.upsert(flow_id, record.summary.version, node.id, params, None)
        disabled = await services.schedules.set_enabled(stored.id, False, None)
        enabled = await client.patch(f"/api/schedules/{disabled.id}", json={"enabled": True})
        still = await client.get("/api/schedules", params={"flow_id": flow_id})
    assert enabled.status_code == 422, enabled.text
    assert enabled.json()["code"] == "compile_error"
    _assert_located(_rule_diagnostics(enabled.json())[0])
    assert [s["schedule"]["enabled"] for s in still.json()] == [False]


async def test_the_catalog_exports_the_rules(live_server: LiveServer) -> None:
    async with live_server.client() as client:
        catalog = (await client.get("/api/operators")).json()
        merge = await client.post("/api/operators/core.merge/ports", json={"params": {"count": 4}})
    rules = {op["id"]: op["input_rules"] for op in catalog["operators"] if op["latest"]}
    assert rules["llm.chat"] == [{**CHAT_RULE, "hint": "the model needs something to answer"}]
    assert rules["core.http_request"] == [{"kind": "at_least_one", "inputs": ["url"], "params": ["url"], "hint": ""}]
    assert rules["core.constant"] == []
    assert merge.status_code == 200, merge.text
    assert merge.json()["input_rules"][0]["inputs"] == ["in_1", "in_2", "in_3", "in_4"]
