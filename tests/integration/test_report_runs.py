"""chart.report in a real run: an editor's flow queries the ``shop`` sample twice, a scripted model (through the real
``openai_compatible`` provider) writes the narrative, and the report is saved through ``ReportService`` owned by the
flow's owner: she lists and opens it, another editor does not see it, an administrator does."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.conftest import alogin_token
from tests.integration.test_dbgpt_data import NARRATIVE, run_flow, scripted_default_model, shop_path

if TYPE_CHECKING:
    from tests.conftest import LiveServer

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(300)]

PASSWORD = "correct horse battery"
SEGMENTS = "SELECT segment, COUNT(*) AS customers FROM customers GROUP BY segment ORDER BY customers DESC"
CITIES = "SELECT city, COUNT(*) AS customers FROM customers GROUP BY city ORDER BY customers DESC"


def _node(node_id: str, operator: str, params: dict[str, Any], x: int) -> dict[str, Any]:
    return {"id": node_id, "operator": operator, "params": params, "position": {"x": x, "y": 0}}


def _edge(n: int, source: str, source_port: str, target: str, target_port: str) -> dict[str, Any]:
    return {"id": f"e{n}", "source": source, "source_port": source_port, "target": target, "target_port": target_port}


FLOW = {
    "schema": "rivulet.flow/v1",
    "name": "Customer report",
    "nodes": [
        _node("question", "core.input", {"name": "question", "type": "Text"}, 0),
        _node("segments", "sql.run_query", {"datasource": "shop", "sql": SEGMENTS}, 200),
        _node("cities", "sql.run_query", {"datasource": "shop", "sql": CITIES}, 200),
        _node("tables", "core.join", {"mode": "all", "count": 2}, 400),
        _node("report", "chart.report", {"title": "Customers"}, 600),
        _node("out", "core.output", {"name": "report"}, 800),
        _node("summary", "core.output", {"name": "summary"}, 800),
    ],
    "edges": [
        _edge(1, "segments", "table", "tables", "in_1"),
        _edge(2, "cities", "table", "tables", "in_2"),
        _edge(3, "tables", "value", "report", "tables"),
        _edge(4, "question", "value", "report", "question"),
        _edge(5, "report", "report", "out", "value"),
        _edge(6, "report", "summary", "summary", "value"),
    ],
}


async def test_a_run_saves_a_report_owned_by_the_flows_owner(live_server: LiveServer) -> None:
    async with live_server.client(timeout=60) as admin:
        users: dict[str, httpx.AsyncClient] = {}
        for name in ("ann", "bob"):
            created = await admin.post("/api/users", json={"username": name, "password": PASSWORD, "role": "editor"})
            assert created.status_code == 201, created.text
            token = await alogin_token(live_server.url, name, PASSWORD)
            users[name] = httpx.AsyncClient(
                base_url=live_server.url, headers={"Authorization": f"Bearer {token}"}, timeout=60
            )
        ann, bob = users["ann"], users["bob"]
        try:
            await shop_path(admin)
            async with scripted_default_model(admin, sql=[]) as model:
                flow = await ann.post("/api/flows", json={"document": FLOW, "message": "test"})
                assert flow.status_code == 201, flow.text
                flow_id = flow.json()["summary"]["id"]
                run = await run_flow(ann, flow_id, {"question": "Who are our customers?"})
                assert run["status"] == "succeeded", run
                saved = run["outputs"]["report"]
                assert saved["url"] == f"/reports/{saved['id']}"
                assert run["outputs"]["summary"] == NARRATIVE
                prompt = next(r for r in model.requests if r["path"] == "/v1/chat/completions")["messages"][1][
                    "content"
                ]
                assert prompt.startswith("Question: Who are our customers?")
                assert "Table 2:" in prompt

            me = (await ann.get("/api/auth/me")).json()
            listed = (await ann.get("/api/reports")).json()["items"]
            assert [(r["id"], r["owner_id"], r["flow_id"], r["run_id"]) for r in listed] == [
                (saved["id"], me["user_id"], flow_id, run["id"])
            ]
            report = (await ann.get(saved["url"].replace("/reports/", "/api/reports/"))).json()
            assert report["title"] == "Customers"
            assert report["summary"] == NARRATIVE
            charts = report["charts"]
            assert [c["chart"]["kind"] for c in charts] == ["bar", "bar"]
            assert charts[0]["table"]["columns"] == ["segment", "customers"]
            assert charts[1]["title"] == "customers by city"
            assert (await bob.get("/api/reports")).json()["items"] == []
            assert (await bob.get(f"/api/reports/{saved['id']}")).status_code == 404
            assert [r["id"] for r in (await admin.get("/api/reports")).json()["items"]] == [saved["id"]]
        finally:
            for client in users.values():
                await client.aclose()
