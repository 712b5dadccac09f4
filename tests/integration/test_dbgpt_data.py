"""DB-GPT's chat-data flow and the data templates, imported over HTTP and run on the ``shop`` sample database.

A scripted OpenAI-compatible model (loopback, through the real ``openai_compatible`` provider, made the default
model) writes the SQL and the summaries: the answers must hold the rows the database returns, the chart must be
drawn from them, and the summary must be the model's. DB-GPT's template names its database
``case_1_student_manager``; the test registers the shop sample under that name, so the import runs unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import uvicorn

from rivulet.data.samples import sample_spreadsheet
from tests.conftest import free_port
from tests.integration.openai_server import API_KEY, ScriptedOpenAI

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import httpx

    from tests.conftest import LiveServer

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(300)]

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "dbgpt"
SUMMARY_PROMPT = "You are a data analyst."
"""How chart.summarize's system prompt starts (the scripted model answers it with ``NARRATIVE``)."""
NARRATIVE = "Consumers are the largest segment by far."
SEGMENTS_SQL = "SELECT segment, COUNT(*) AS customers FROM customers GROUP BY segment ORDER BY customers DESC"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ScriptedAnalyst(ScriptedOpenAI):
    """Answers chart.summarize with ``NARRATIVE`` and every other chat with the next of ``sql`` (in a code fence)."""

    def __init__(self, sql: list[str]) -> None:
        super().__init__()
        self.sql = sql

    def prompts(self) -> list[str]:
        """The text of each Text2SQL request (all its messages), in order."""
        chats = [r for r in self.requests if r["path"] == "/v1/chat/completions"]
        texts = ["\n".join(str(m.get("content")) for m in r["messages"]) for r in chats]
        return [t for t in texts if not t.startswith(SUMMARY_PROMPT)]

    def _events(self, payload: dict[str, Any]) -> Any:
        def choice(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

        first = str(payload["messages"][0].get("content") or "")
        text = NARRATIVE if first.startswith(SUMMARY_PROMPT) else f"```sql\n{self.sql.pop(0)}\n```"
        yield choice({"role": "assistant"})
        yield choice({"content": text})
        yield choice({}, "stop")
        yield {"choices": [], "usage": {"prompt_tokens": 11, "completion_tokens": 5}}


@contextlib.asynccontextmanager
async def scripted_default_model(client: httpx.AsyncClient, sql: list[str]) -> AsyncIterator[ScriptedAnalyst]:
    """Serve a ``ScriptedAnalyst`` on loopback and make it the server's default chat model."""
    app = ScriptedAnalyst(sql)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    app.url = f"http://127.0.0.1:{port}/v1"
    try:
        assert (await client.put("/api/secrets/analyst-key", json={"value": API_KEY})).status_code == 200
        model = {
            "name": "analyst",
            "provider": "openai_compatible",
            "params": {"base_url": app.url, "model": "m", "api_key_secret": "analyst-key"},
            "allow_private_network": True,
            "timeout_s": 30,
            "is_default": True,
        }
        configured = await client.post("/api/models", json=model)
        assert configured.status_code == 201, configured.text
        yield app
    finally:
        server.should_exit = True
        await task


async def shop_path(client: httpx.AsyncClient) -> Path:
    """The sample database file of ``shop`` (registered in the background at startup)."""
    for _ in range(600):
        response = await client.get("/api/datasources/shop")
        if response.status_code == 200:
            return Path(response.json()["config"]["path"])
        await asyncio.sleep(0.05)
    raise AssertionError("the sample data source 'shop' was never registered")


def rows_of(path: Path, sql: str) -> list[list[Any]]:
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        return [list(row) for row in conn.execute(sql)]


async def run_flow(client: httpx.AsyncClient, flow_id: str, inputs: dict[str, Any]) -> dict[str, Any]:
    started = await client.post(f"/api/flows/{flow_id}/runs", json={"inputs": inputs})
    assert started.status_code in (200, 201, 202), started.text
    run_id = started.json()["id"]
    while True:  # the test's timeout bounds the wait
        body: dict[str, Any] = (await client.get(f"/api/runs/{run_id}")).json()
        if body["run"]["status"] not in ("queued", "running"):
            return body["run"]
        await asyncio.sleep(0.05)


async def import_template(client: httpx.AsyncClient, name: str, variables: dict[str, Any]) -> str:
    report = await client.post("/api/templates/import", json={"name": name, "variables": variables})
    assert report.status_code == 201, report.text
    flow_id: str = report.json()["flows"][0]["flow_id"]
    validation = (await client.get(f"/api/flows/{flow_id}")).json()["validation"]
    assert validation["ok"], validation
    return flow_id


def assert_chart_of(chart: dict[str, Any], labels: list[Any]) -> None:
    """The chart is an ECharts option drawn from the rows (their first column appears in it)."""
    assert chart["option"], chart
    drawn = json.dumps(chart["option"])
    assert all(str(label) in drawn for label in labels), (labels, drawn[:500])


async def test_imported_dbgpt_chat_data_flow_answers_with_rows_from_the_database(live_server: LiveServer) -> None:
    async with live_server.client(timeout=60) as client:
        shop = await shop_path(client)
        dbgpt_name = {"name": "case_1_student_manager", "kind": "sqlite", "path": str(shop)}
        created = await client.post("/api/datasources", json=dbgpt_name)
        assert created.status_code == 201, created.text

        export = json.loads((FIXTURES / "chat_data_awel_flow_template.json").read_text())
        imported = await client.post("/api/templates/import-dbgpt", json={"export": export})
        assert imported.status_code == 201, imported.text
        body = imported.json()
        assert [d for d in body["diagnostics"] if d["severity"] == "error"] == []
        assert [n for n in body["nodes"] if n["status"] == "unmapped"] == []
        saved = (await client.get(f"/api/flows/{body['flow_id']}")).json()
        assert saved["validation"]["ok"], saved["validation"]

        # a first answer on a column that does not exist: sql.generate repairs it with the database's error
        async with scripted_default_model(
            client, ["SELECT kind, COUNT(*) FROM customers GROUP BY kind", SEGMENTS_SQL]
        ) as model:
            run = await run_flow(client, body["flow_id"], {"user_input": "How many customers are in each segment?"})
            assert run["status"] == "succeeded", run
            prompts = model.prompts()

        expected = rows_of(shop, SEGMENTS_SQL)
        assert len(expected) >= 2
        answer: str = run["outputs"]["answer"]
        assert answer.startswith("| segment | customers |\n| --- | --- |\n")
        for segment, count in expected:
            assert f"| {segment} | {count} |" in answer
        assert answer.endswith(NARRATIVE)
        assert_chart_of(run["outputs"]["chart"], [segment for segment, _ in expected])
        assert len(prompts) == 2  # the question, then the repair
        assert "How many customers are in each segment?" in prompts[0]
        assert "customers" in prompts[0]
        assert "kind" in prompts[1]  # the repair shows the failed SQL or its error


async def test_ask_your_database_template_runs_on_the_shop_sample(live_server: LiveServer) -> None:
    async with live_server.client(timeout=60) as client:
        shop = await shop_path(client)
        flow_id = await import_template(client, "ask-your-database", {})
        async with scripted_default_model(client, [SEGMENTS_SQL]):
            run = await run_flow(client, flow_id, {"question": "How many customers are in each segment?"})
        assert run["status"] == "succeeded", run
        outputs = run["outputs"]
        expected = rows_of(shop, SEGMENTS_SQL)
        assert outputs["table"]["columns"] == ["segment", "customers"]
        assert outputs["table"]["rows"] == expected
        assert "customers" in outputs["sql"]["sql"]
        assert outputs["summary"] == NARRATIVE
        assert_chart_of(outputs["chart"], [segment for segment, _ in expected])


async def test_chat_with_a_spreadsheet_keeps_the_conversation(live_server: LiveServer, tmp_path: Path) -> None:
    book = sample_spreadsheet(tmp_path / "shop.xlsx")
    async with live_server.client(timeout=60) as client:
        files = [("files", ("shop.xlsx", book.read_bytes(), XLSX))]
        uploaded = await client.post("/api/datasources/uploads", files=files, data={"name": "sales-book"})
        assert uploaded.status_code == 201, uploaded.text
        name = uploaded.json()["name"]
        flow_id = await import_template(client, "chat-with-a-spreadsheet", {"datasource": name})

        by_region = "SELECT region, SUM(revenue) AS revenue FROM sales GROUP BY region ORDER BY revenue DESC"
        in_2024 = (
            "SELECT region, SUM(revenue) AS revenue FROM sales WHERE year(month) = 2024 GROUP BY region"
            " ORDER BY revenue DESC"
        )
        first_question = "Which region sold the most?"
        async with scripted_default_model(client, [by_region, in_2024]) as model:
            first = await run_flow(client, flow_id, {"question": first_question, "session": "chat-1"})
            second = await run_flow(client, flow_id, {"question": "And only in 2024?", "session": "chat-1"})
            prompts = model.prompts()
        for run, sql in ((first, by_region), (second, in_2024)):
            assert run["status"] == "succeeded", (run, prompts)
            played = await client.post(f"/api/datasources/{name}/query", json={"sql": sql})
            assert played.status_code == 200, played.text
            assert run["outputs"]["table"]["rows"] == played.json()["table"]["rows"]
            assert run["outputs"]["table"]["rows"], run["outputs"]
            assert run["outputs"]["summary"] == NARRATIVE
        assert len(prompts) == 2
        assert first_question in prompts[0]
        assert first_question in prompts[1]  # the follow-up sees the earlier question
