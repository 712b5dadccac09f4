"""``rivulet eval``: Text2SQL against the raw-prompt baseline with a scripted model over real HTTP, flows by metric,
evaluations stored, listed, shown and compared — against a real database, the sample ``shop`` data source and the
real local embedding model (schema linking)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import TYPE_CHECKING, Any

import pytest
import uvicorn

from rivulet.cli.main import main
from rivulet.compiler.flow import Edge, FlowDocument, Node, encode_flow
from rivulet.data.samples import build_sample, dataset_path
from tests.conftest import free_port
from tests.integration.runs_support import delay_flow

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(600)]

RIGHT = {
    "How many customers are there?": "SELECT count(*) FROM customers",
    "How many orders have the status 'cancelled'?": "SELECT count(*) FROM orders WHERE status = 'cancelled'",
    "What are the 5 most expensive products? Give names and prices, most expensive first.": (
        "SELECT name, unit_price FROM products ORDER BY unit_price DESC LIMIT 5"
    ),
    "How many customers are in each segment?": "SELECT segment, count(*) FROM customers GROUP BY segment",
    "Which customers placed more than 6 orders? Give the customer id and the number of orders.": (
        "SELECT customer_id, count(*) FROM orders GROUP BY customer_id HAVING count(*) > 6"
    ),
}
WRONG = {  # first answers that fail (a wrong column, a wrong table) until the error comes back
    "How many orders have the status 'cancelled'?": "SELECT count(*) FROM orders WHERE state = 'cancelled'",
    "What are the 5 most expensive products? Give names and prices, most expensive first.": (
        "SELECT name, price FROM products ORDER BY price DESC LIMIT 5"
    ),
    "Which customers placed more than 6 orders? Give the customer id and the number of orders.": (
        "SELECT customer_id, count(*) FROM purchases GROUP BY customer_id HAVING count(*) > 6"
    ),
}


class ScriptedSQL:
    """An OpenAI-compatible chat server that writes SQL: wrong at first for some questions, right when repairing."""

    def __init__(self) -> None:
        self.prompts: list[str] = []

    def answer(self, payload: dict[str, Any]) -> str:
        last = payload["messages"][-1]["content"]
        self.prompts.append(last)
        question = next((q for q in RIGHT if q in last), None)
        if question is None:
            return "SELECT 1"
        repairing = "Fix the query" in last
        sql = RIGHT[question] if repairing or question not in WRONG else WRONG[question]
        return f"```sql\n{sql}\n```"

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        payload: dict[str, Any] = json.loads(body or b"{}")
        text = self.answer(payload)
        if payload.get("stream"):
            events = [
                {"choices": [{"index": 0, "delta": {"role": "assistant", "content": text}, "finish_reason": None}]},
                {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
                {"choices": [], "usage": {"prompt_tokens": 100, "completion_tokens": 20}},
            ]
            raw = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
            kind = b"text/event-stream"
        else:
            raw = json.dumps(
                {
                    "choices": [
                        {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
                    ],
                    "usage": {"prompt_tokens": 100, "completion_tokens": 20},
                }
            )
            kind = b"application/json"
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", kind)]})
        await send({"type": "http.response.body", "body": raw.encode()})


@contextlib.asynccontextmanager
async def serve_sql_model() -> AsyncIterator[tuple[ScriptedSQL, str]]:
    app = ScriptedSQL()
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield app, f"http://127.0.0.1:{port}/v1"
    finally:
        server.should_exit = True
        await task


def ask_flow() -> FlowDocument:
    """``core.input(question) -> sql.generate -> core.output(sql)``."""
    return FlowDocument(
        name="ask",
        nodes=[
            Node(id="in", operator="core.input", params={"name": "question", "type": "Text"}),
            Node(id="gen", operator="sql.generate", params={"datasource": "shop", "model": "scripted"}),
            Node(id="out", operator="core.output", params={"name": "sql"}),
        ],
        edges=[
            Edge(id="e1", source="in", source_port="value", target="gen", target_port="question"),
            Edge(id="e2", source="gen", source_port="query", target="out", target_port="value"),
        ],
    )


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, db_url: str, tmp_path: Path) -> None:
    monkeypatch.setenv("RIVULET_DATABASE_URL", db_url)
    monkeypatch.setenv("RIVULET_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RIVULET_LOG_LEVEL", "warning")
    monkeypatch.setenv("RIVULET_ADMIN_PASSWORD", "not-printed-anywhere-1")


async def rivulet(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = await asyncio.to_thread(main, list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def subset(tmp_path: Path, db: str | None = None) -> Path:
    """The five scripted questions, taken from the shipped dataset (``db`` replaced when given)."""
    lines = [json.loads(line) for line in dataset_path().read_text().splitlines()]
    chosen = [line for line in lines if line["question"] in RIGHT]
    assert len(chosen) == len(RIGHT)
    path = tmp_path / ("subset.jsonl" if db is None else "subset-file.jsonl")
    path.write_text("".join(json.dumps({**line, "db": db or line["db"]}) + "\n" for line in chosen))
    return path


@pytest.mark.usefixtures("cli_env")
async def test_text2sql_pipeline_with_repairs_beats_the_baseline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with serve_sql_model() as (model, url):
        code, _, err = await rivulet(
            capsys, "models", "add", "scripted", "--provider", "openai_compatible", "--base-url", url,
            "--model", "sql", "--allow-private-network",
        )  # fmt: skip
        assert code == 0, err
        report = tmp_path / "report.json"
        code, out, err = await rivulet(
            capsys, "eval", "text2sql", str(subset(tmp_path)), "--datasource", "shop", "--model", "scripted",
            "--output", str(report),
        )  # fmt: skip
        assert code == 0, err
        last = out.strip().splitlines()[-1]
        assert "pipeline 5/5 (100.0%)" in last, out
        assert "baseline 2/5 (40.0%)" in last, out
        assert "+60.0 points" in last
        assert "3 fixed by repair" in last
        record = json.loads(report.read_text())
        assert record["kind"] == "text2sql"
        assert record["status"] == "succeeded"
        assert (record["model"], record["datasource"], record["metric"]) == ("scripted", "shop", "sql_execution")
        summary = record["summary"]
        assert (summary["total"], summary["passed"], summary["baseline_passed"], summary["repaired"]) == (5, 5, 2, 3)
        by_question = {item["details"]["question"]: item for item in record["items"]}
        repaired = by_question["How many orders have the status 'cancelled'?"]["details"]
        assert repaired["repairs"] == 1
        assert repaired["match"] is True
        assert repaired["attempts"][0]["error"]  # the wrong column, refused by the guard
        assert repaired["baseline_match"] is False
        assert "state" in repaired["baseline_sql"]
        assert repaired["baseline_error"]
        assert by_question["How many customers are there?"]["details"]["baseline_match"] is True
        # the baseline's raw prompt: the whole schema and the question, no examples, no rules
        baseline_prompts = [p for p in model.prompts if p.startswith("Database schema:")]
        assert len(baseline_prompts) == 5
        assert all("CREATE TABLE payments" in p for p in baseline_prompts)

        # a flow instead of the built-in pipeline: its SQLQuery output is run and scored (runs recorded)
        flow = tmp_path / "ask.json"
        flow.write_bytes(encode_flow(ask_flow()))
        code, out, err = await rivulet(
            capsys, "eval", "text2sql", str(subset(tmp_path)), "--datasource", "shop", "--model", "scripted",
            "--flow", str(flow), "--no-baseline", "--json",
        )  # fmt: skip
        assert code == 0, err
        by_flow = json.loads(out)
        assert by_flow["summary"]["passed"] == 5
        assert all(item["details"]["run_id"] for item in by_flow["items"])
        assert "orders.status = 'cancelled'" in by_flow["items"][1]["output"]  # the guarded SQL the flow gave

        # a database file instead of a data source name: an ephemeral source, nothing left registered
        shop_file = build_sample(tmp_path / "copy.sqlite")
        code, out, err = await rivulet(
            capsys, "eval", "text2sql", str(subset(tmp_path, str(shop_file))), "--model", "scripted",
            "--no-baseline", "--limit", "2", "--json",
        )  # fmt: skip
        assert code == 0, err
        from_file = json.loads(out)
        assert from_file["summary"]["passed"] == 2
        assert "baseline_passed" not in from_file["summary"]
        assert from_file["datasource"] == str(shop_file)

    code, out, _ = await rivulet(capsys, "ds", "list", "--json")
    assert code == 0
    assert [source["name"] for source in json.loads(out)] == ["shop"]
    code, out, _ = await rivulet(capsys, "eval", "list", "--json")
    assert code == 0
    listed = json.loads(out)
    assert [r["id"] for r in listed] == [from_file["id"], by_flow["id"], record["id"]]  # newest first
    assert all(r["items"] == [] for r in listed)

    code, out, err = await rivulet(capsys, "eval", "text2sql", str(subset(tmp_path)), "--datasource", "nope")
    assert code == 2
    assert "nope" in err


@pytest.mark.usefixtures("cli_env")
async def test_flow_by_exact_and_contains_then_compare(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    flow = tmp_path / "echo.json"
    flow.write_bytes(encode_flow(delay_flow(0, name="echo")))
    data = tmp_path / "echo.jsonl"
    data.write_text(
        '{"text": "hello", "expected": "hello"}\n'
        '{"inputs": {"text": "good bye"}, "expected": "good bye"}\n'
        '{"text": "xyz", "expected": "y"}\n'
    )
    code, out, err = await rivulet(capsys, "eval", str(flow), str(data), "--metric", "exact", "--json")
    assert code == 0, err  # a low score is a result, not a failure
    exact = json.loads(out)
    assert exact["metric"] == "exact"
    assert exact["kind"] == "flow"
    assert (exact["summary"]["total"], exact["summary"]["passed"]) == (3, 2)
    assert [item["passed"] for item in exact["items"]] == [True, True, False]
    assert exact["items"][2]["output"] == "xyz"
    assert exact["items"][0]["details"]["run_status"] == "succeeded"

    code, out, err = await rivulet(capsys, "eval", str(flow), str(data), "--metric", "contains")
    assert code == 0, err
    assert "contains 3/3 (100.0%)" in out.strip().splitlines()[-1]
    contains_id = out.strip().splitlines()[-1].split()[1].rstrip(":")

    code, out, err = await rivulet(capsys, "eval", "compare", exact["id"], contains_id, "--json")
    assert code == 0, err
    comparison = json.loads(out)
    assert comparison["summary"]["fixed"] == 1
    assert comparison["summary"]["broken"] == 0
    assert comparison["summary"]["same_dataset"] is True
    assert [row["status"] for row in comparison["rows"]] == ["same", "same", "fixed"]

    code, out, _ = await rivulet(capsys, "eval", "show", contains_id)
    assert code == 0
    assert "xyz" in out

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "a", "expected": "a"}\n{"text": "b"}\n')
    code, _, err = await rivulet(capsys, "eval", str(flow), str(bad), "--metric", "exact")
    assert code == 2
    assert "bad.jsonl line 2, field 'expected': missing" in err
