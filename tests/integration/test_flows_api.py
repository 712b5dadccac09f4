"""``/api/flows`` over real HTTP against the real app and PostgreSQL."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import httpx

    from tests.conftest import LiveServer


def node(node_id: str, operator: str, **params: Any) -> dict[str, Any]:
    return {"id": node_id, "operator": operator, "params": params}


def edge(edge_id: str, source: str, source_port: str, target: str, target_port: str) -> dict[str, Any]:
    return {"id": edge_id, "source": source, "source_port": source_port, "target": target, "target_port": target_port}


GOOD = {
    "name": "Greeting",
    "nodes": [
        node("who", "core.input", name="who", type="Text"),
        node("greet", "core.template", template="Hello {{ who }}!"),
        node("out", "core.output", name="greeting"),
    ],
    "edges": [edge("e1", "who", "value", "greet", "who"), edge("e2", "greet", "text", "out", "value")],
}


@pytest.fixture
async def client(live_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with live_server.client() as c:
        yield c


async def test_crud_versions_restore_and_duplicate(client: httpx.AsyncClient) -> None:
    created = await client.post("/api/flows", json={"document": GOOD, "message": "first"})
    assert created.status_code == 201, created.text
    body = created.json()
    fid = body["summary"]["id"]
    assert body["summary"]["version"] == 1
    assert body["validation"] == {"ok": True, "diagnostics": []}

    renamed = {**GOOD, "name": "Greeting v2"}
    saved = await client.put(f"/api/flows/{fid}", json={"document": renamed, "base_version": 1, "message": "rename"})
    assert saved.status_code == 200
    assert saved.json()["summary"]["version"] == 2

    stale = await client.put(f"/api/flows/{fid}", json={"document": GOOD, "base_version": 1})
    assert stale.status_code == 409
    assert stale.json()["latest_version"] == 2

    versions = (await client.get(f"/api/flows/{fid}/versions")).json()["items"]
    assert [(v["version"], v["message"]) for v in versions] == [(2, "rename"), (1, "first")]
    v1 = (await client.get(f"/api/flows/{fid}/versions/1")).json()
    assert v1["document"]["name"] == "Greeting"

    restored = (await client.post(f"/api/flows/{fid}/versions/1/restore")).json()
    assert (restored["summary"]["version"], restored["document"]["name"]) == (3, "Greeting")

    copy = (await client.post(f"/api/flows/{fid}/duplicate")).json()
    assert copy["summary"]["id"] != fid
    assert copy["document"]["name"] == "Greeting (copy)"

    listed = (await client.get("/api/flows", params={"search": "copy"})).json()
    assert [f["id"] for f in listed["items"]] == [copy["summary"]["id"]]

    assert (await client.delete(f"/api/flows/{fid}")).status_code == 204
    for path in (f"/api/flows/{fid}", f"/api/flows/{fid}/versions", f"/api/flows/{fid}/versions/1"):
        missing = await client.get(path)
        assert missing.status_code == 404, path
        assert missing.json()["code"] == "not_found"


async def test_drafts_that_do_not_compile_are_saved_with_their_diagnostics(client: httpx.AsyncClient) -> None:
    draft = {"name": "draft", "nodes": [node("t", "core.template", template="{{ x }}")], "edges": []}
    created = await client.post("/api/flows", json={"document": draft})
    assert created.status_code == 201
    report = created.json()["validation"]
    assert report["ok"] is False
    assert [(d["code"], d["node_id"]) for d in report["diagnostics"]] == [("missing_required_input", "t")]


async def test_validate_reports_five_distinct_faults_at_once(client: httpx.AsyncClient) -> None:
    flow = {
        "name": "five faults",
        "nodes": [
            node("ghost", "core.no_such_operator"),
            node("slow", "core.delay", seconds="soon"),
            node("num", "core.input", name="n", type="Int"),
            node("fetch", "core.http_request"),
            node("lonely", "core.output", name="result"),
            node("a", "core.template", template="{{ x }}"),
            node("b", "core.template", template="{{ y }}"),
        ],
        "edges": [
            edge("mismatch", "num", "value", "fetch", "url"),
            edge("ab", "a", "text", "b", "y"),
            edge("ba", "b", "text", "a", "x"),
        ],
    }
    response = await client.post("/api/flows/validate", json=flow)
    assert response.status_code == 200
    report = response.json()
    assert report["ok"] is False
    found = {(d["code"], d["node_id"], d["path"]) for d in report["diagnostics"]}
    assert found == {
        ("unknown_operator", "ghost", "$.nodes[0].operator"),
        ("invalid_params", "slow", "$.nodes[1].params.seconds"),
        ("type_mismatch", "fetch", "$.edges[0]"),
        ("missing_required_input", "lonely", "$.nodes[4]"),
        ("cycle", "a", "$.edges[2]"),
    }
    mismatch = next(d for d in report["diagnostics"] if d["code"] == "type_mismatch")
    assert (mismatch["expected"], mismatch["got"]) == ("Optional[Text]", "Int")
    ghost = next(d for d in report["diagnostics"] if d["code"] == "unknown_operator")
    assert "core.no_such_operator" in ghost["message"]


async def test_unknown_document_field_is_a_located_422(client: httpx.AsyncClient) -> None:
    bad = {**GOOD, "nodes": [{**GOOD["nodes"][0], "parms": {}}]}
    response = await client.post("/api/flows", json={"document": bad})
    assert response.status_code == 422
    body = response.json()
    assert "parms" in response.text
    assert body["code"] == "validation_error"
    assert (await client.get("/api/flows")).json()["items"] == []
