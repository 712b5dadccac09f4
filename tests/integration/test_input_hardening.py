"""Hostile input over real HTTP: NUL characters, invalid UTF-8, deep JSON, oversized flows, the offline /api/docs."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import TYPE_CHECKING, Any

import msgspec
import psycopg
import pytest
from litestar.handlers import HTTPRouteHandler

from rivulet.compiler.flow import Edge, FlowDocument, Node, encode_flow
from tests.integration.publishing_support import greet_flow
from tests.integration.runs_support import create_flow, delay_flow
from tests.integration.test_publishing import create_and_publish

if TYPE_CHECKING:
    import httpx

    from tests.conftest import LiveServer

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(180)]

NUL = "\x00"
JSON = {"content-type": "application/json"}


def no_traceback_logged(caplog: pytest.LogCaptureFixture) -> None:
    logged = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert not logged, [f"{r.name}: {r.getMessage()}" for r in logged]


async def recorded_run(server: LiveServer, client: httpx.AsyncClient, run_id: str) -> dict[str, Any]:
    """The run as read back from PostgreSQL (endpoint runs are written by the recorder shortly after the answer)."""
    recorder = server.app.state["services"].runs.recorder
    response = None
    for _ in range(250):
        if recorder.pending(run_id) is not None:  # queued or being written: not what we came to check
            await asyncio.sleep(0.02)
            continue
        response = await client.get(f"/api/runs/{run_id}")
        if response.status_code == 200 and response.json()["run"]["status"] not in ("queued", "running"):
            detail: dict[str, Any] = response.json()
            return detail
        await asyncio.sleep(0.02)
    raise AssertionError(f"run {run_id} was never recorded: {response and response.text[:300]}")


async def test_an_endpoint_call_with_nul_in_its_input_is_answered_and_recorded(
    live_server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    async with live_server.client() as client:
        await create_and_publish(client, greet_flow())
        called = await client.post("/f/greet", json={"name": f"A{NUL}da"})
        assert called.status_code == 200, called.text
        assert called.json() == f"Hello, A{NUL}da!"
        detail = await recorded_run(live_server, client, called.headers["x-rivulet-run-id"])
        assert detail["run"]["status"] == "succeeded"
        assert detail["run"]["inputs"]["name"] == f"A{NUL}da"
        assert detail["run"]["outputs"] == {"greeting": f"Hello, A{NUL}da!"}
        events = (await client.get(f"/api/runs/{called.headers['x-rivulet-run-id']}/events")).json()
        assert events[-1]["type"] == "run_finished"
        assert events[-1]["outputs"] == {"greeting": f"Hello, A{NUL}da!"}
        # a GET endpoint's query parameters are inputs too, and keep their NUL
        await create_and_publish(client, greet_flow("hello", method="GET"))
        by_query = await client.get("/f/hello", params={"name": f"B{NUL}"})
        assert by_query.status_code == 200, by_query.text
        assert by_query.json() == f"Hello, B{NUL}!"
        by_query_run = await recorded_run(live_server, client, by_query.headers["x-rivulet-run-id"])
        assert by_query_run["run"]["inputs"]["name"] == f"B{NUL}"
    assert "recording finished runs failed" not in caplog.text
    no_traceback_logged(caplog)


async def test_an_editor_run_with_nul_in_its_input_is_recorded_whole(
    live_server: LiveServer, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    flow_id = await create_flow(live_server, delay_flow(0.01))
    text = f"{NUL}yo{NUL}\\u0000 {{'rivulet.nul/v1': 1}}"
    async with live_server.client() as client:
        created = await client.post(f"/api/flows/{flow_id}/runs", json={"inputs": {"text": text}})
        assert created.status_code == 201, created.text
        detail = await recorded_run(live_server, client, created.json()["id"])
        # an input that *is* the storage wrapper's shape comes back as sent, too
        wrapper = {"rivulet.nul/v1": '{"text": "x"}'}
        shaped = await client.post(f"/api/flows/{flow_id}/runs", json={"inputs": {"text": "x", **wrapper}})
        assert shaped.status_code == 201, shaped.text
        shaped_detail = await recorded_run(live_server, client, shaped.json()["id"])
    assert detail["run"]["status"] == "succeeded", detail["run"]
    assert detail["run"]["inputs"] == {"text": text}
    assert detail["run"]["outputs"] == {"answer": text}
    nodes = {n["node_id"]: n for n in detail["nodes"]}
    assert nodes["wait"]["inputs_preview"] == {"value": text}
    assert shaped_detail["run"]["inputs"] == {"text": "x", **wrapper}
    # the read-only run_events view (one row per event) still reads the run's events
    async with await psycopg.AsyncConnection.connect(db_url) as conn:
        cur = await conn.execute(
            "SELECT count(*), bool_or(payload::text LIKE '%%yo%%') FROM run_events WHERE run_id = %s",
            (created.json()["id"],),
        )
        count, found = await cur.fetchone() or (0, False)
    assert count == detail["last_seq"]
    assert found
    no_traceback_logged(caplog)


async def test_nul_in_a_path_a_query_or_a_stored_body_is_a_located_400(
    live_server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    document = msgspec.json.decode(encode_flow(delay_flow(0.01)))
    document["nodes"][1]["label"] = f"wa{NUL}it"
    async with live_server.client() as client:
        in_path = await client.get("/api/flows/a%00b")
        in_endpoint_path = await client.post("/f/gr%00eet", json={})
        in_query = await client.get("/api/flows", params={"search": f"x{NUL}"})
        in_name = await client.post("/api/flows", json={"document": {"name": f"a{NUL}b"}})
        in_label = await client.post("/api/flows", json={"document": document})
    for response in (in_path, in_endpoint_path, in_query, in_name, in_label):
        assert response.status_code == 400, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == "nul_character"
    assert in_path.json()["errors"] == [{"source": "path", "position": 12, "message": "NUL character"}]
    assert in_query.json()["errors"][0]["parameter"] == "search"
    assert in_name.json()["errors"][0]["path"] == "$.document.name"
    assert in_label.json()["errors"][0]["path"] == "$.document.nodes[1].label"
    assert "$.document.nodes[1].label" in in_label.json()["detail"]
    no_traceback_logged(caplog)


async def test_a_value_postgres_cannot_store_is_a_422_not_a_500(
    live_server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    async with live_server.client() as client:
        beyond_bigint = await client.get("/api/flows", params={"offset": 2**64 + 1})
    assert beyond_bigint.status_code == 422, beyond_bigint.text
    problem = beyond_bigint.json()
    assert problem["code"] == "validation_error"
    assert "out of range" in problem["detail"]
    no_traceback_logged(caplog)


async def test_a_websocket_message_nested_too_deeply_is_answered_and_the_socket_stays(
    live_server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    flow_id = await create_flow(live_server, delay_flow(0.01))
    deep = "[" * 1500 + "]" * 1500
    async with live_server.ws() as ws:
        await ws.send(f'{{"type": "run_start", "flow_id": "{flow_id}", "inputs": {{"text": {deep}}}}}')
        refused = msgspec.json.decode(await asyncio.wait_for(ws.recv(), 10))
        await ws.send(
            msgspec.json.encode({"type": "run_start", "flow_id": flow_id, "inputs": {"text": f"a{NUL}"}}).decode()
        )
        accepted = msgspec.json.decode(await asyncio.wait_for(ws.recv(), 10))
    assert refused["type"] == "error"
    assert refused["code"] == "invalid_message"
    assert "nested too deeply" in refused["message"]
    assert accepted["type"] == "run_accepted", accepted
    no_traceback_logged(caplog)


def json_flow(slug: str) -> FlowDocument:
    """``trigger.http(data: Json) -> core.output(data)``: an endpoint whose body holds any JSON."""
    fields = [{"name": "data", "type": "Json"}]
    return FlowDocument(
        name=f"echo {slug}",
        nodes=[
            Node(id="http", operator="trigger.http", params={"slug": slug, "fields": fields}),
            Node(id="out", operator="core.output", params={"name": "data"}),
        ],
        edges=[Edge(id="e1", source="http", source_port="data", target="out", target_port="value")],
    )


async def test_a_get_endpoints_query_parameters_are_described_with_their_schema(live_server: LiveServer) -> None:
    async with live_server.client() as client:
        await create_and_publish(client, greet_flow("hello", method="GET"))
        document = (await client.get("/f/openapi.json")).json()
    parameters = {p["name"]: p for p in document["paths"]["/f/hello"]["get"]["parameters"]}
    assert parameters["name"]["schema"] == {"type": "string"}
    assert {"type": "boolean"} in parameters["excited"]["schema"]["anyOf"]
    assert all("schema" in p for p in parameters.values())


def _body_routes(server: LiveServer) -> list[tuple[str, str]]:
    """``(method, path)`` of every route whose handler takes a request body (path parameters filled in)."""
    routes: list[tuple[str, str]] = []
    for route in server.app.routes:
        for handler in getattr(route, "route_handlers", ()):
            if not isinstance(handler, HTTPRouteHandler) or "data" not in handler.parsed_fn_signature.parameters:
                continue
            path = re.sub(r"\{[^}:]+:int\}", "1", route.path)
            path = re.sub(r"\{[^}]+\}", "x", path)
            routes.extend((method, path) for method in sorted(handler.http_methods))
    return routes


BAD_BODIES: dict[str, tuple[bytes, str]] = {
    "invalid utf-8": (b'{"data": "caf\xe9", "document": {"name": "caf\xe9"}}', "invalid UTF-8 at byte 13"),
    "nested 1,500 deep": (b'{"data": ' + b"[" * 1500 + b"]" * 1500 + b"}", "nested too deeply at byte 908"),
    "truncated": (b'{"data": "x', "not valid JSON"),
}


async def test_bad_json_on_every_json_route_and_on_an_endpoint_is_a_located_400(
    live_server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    routes = _body_routes(live_server)
    assert ("POST", "/api/flows") in routes
    assert len(routes) >= 15
    async with live_server.client() as client:
        await create_and_publish(client, json_flow("echo"))
        echoed = await client.post("/f/echo", json={"data": [[[1]]]})
        assert echoed.json() == [[[1]]]
        for method, path in [*routes, ("POST", "/f/echo")]:
            for name, (body, expected) in BAD_BODIES.items():
                if path.startswith("/f/") and name == "truncated":
                    continue  # an endpoint's malformed body is its documented 422 (test_publishing)
                response = await client.request(method, path, content=body, headers=JSON)
                where = f"{method} {path} with {name}: {response.status_code} {response.text[:300]}"
                assert response.status_code == 400, where
                problem = response.json()
                assert problem["code"] == "malformed_request", where
                assert expected in problem["detail"], where
                assert problem["errors"][0]["source"] == "body", where
    no_traceback_logged(caplog)


def _wide_flow(nodes: int, *, params: dict[str, Any] | None = None) -> dict[str, Any]:
    document = FlowDocument(
        name="wide",
        nodes=[Node(id=f"n{i}", operator="core.output", params=params or {}) for i in range(nodes)],
        edges=[Edge(id="e0", source="n0", source_port="value", target="n1", target_port="value")],
    )
    return {"document": msgspec.json.decode(encode_flow(document))}


async def test_flow_documents_over_the_limits_are_refused_before_decoding(live_server: LiveServer) -> None:
    settings = live_server.settings
    async with live_server.client() as client:
        at_limit = await client.post("/api/flows", json=_wide_flow(settings.max_flow_nodes))
        too_many = await client.post("/api/flows", json=_wide_flow(settings.max_flow_nodes + 1))
        validate = await client.post("/api/flows/validate", json=_wide_flow(settings.max_flow_nodes + 1)["document"])
        big_params = await client.post(
            "/api/flows", json=_wide_flow(2, params={"name": "x" * settings.max_node_params_bytes})
        )
        huge = await client.post("/api/flows", content=b'{"document": ' + b" " * settings.max_flow_bytes + b"}")
        flow_id = at_limit.json()["summary"]["id"]
        saved = await client.put(f"/api/flows/{flow_id}", json=_wide_flow(settings.max_flow_nodes + 1))
    assert at_limit.status_code == 201, at_limit.text[:300]
    for response, path in (
        (too_many, "$.document.nodes"),
        (saved, "$.document.nodes"),
        (validate, "$.nodes"),
        (big_params, "$.document.nodes[0].params"),
    ):
        assert response.status_code == 422, response.text[:300]
        problem = response.json()
        assert problem["code"] == "flow_too_large"
        assert problem["errors"][0]["path"] == path
        assert path in problem["detail"]
    assert too_many.json()["errors"][0]["got"] == settings.max_flow_nodes + 1
    assert too_many.json()["errors"][0]["setting"] == "max_flow_nodes"
    assert huge.status_code == 413, huge.text[:300]
    assert "max_flow_bytes" in huge.json()["detail"]


async def test_api_docs_load_every_asset_from_this_server(live_server: LiveServer) -> None:
    async with live_server.client() as client:
        page = await client.get("/api/docs")
        assert page.status_code == 200
        html = page.text
        references = re.findall(r"""<(?:script|link)\b[^>]*?\b(?:src|href)=["']([^"']+)["']""", html)
        assert len(references) >= 4, html[:1000]  # bundle, preset, css, icon
        assert "SwaggerUIBundle(" in html
        for reference in references:
            assert reference.startswith("/api/docs/assets/"), reference  # nothing from another host
            asset = await client.get(reference)
            assert asset.status_code == 200, reference
            assert len(asset.content) > 100, reference
        script = await client.get("/api/docs/assets/swagger-ui-bundle.js")
        assert script.headers["content-type"].split(";")[0] in {"text/javascript", "application/javascript"}
        assert b"SwaggerUIBundle" in script.content
        assert (await client.get("/api/docs/assets/package.json")).status_code == 404
        assert (await client.get("/api/docs/assets/..%2F__init__.py")).status_code == 404
    async with live_server.anonymous() as anonymous:
        assert (await anonymous.get("/api/docs/assets/swagger-ui.css")).status_code == 401
