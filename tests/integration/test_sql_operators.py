"""The SQL operators on the real compiler and runtime: a scripted OpenAI-compatible server (loopback, through the
real ``openai_compatible`` provider) writes SQL for the sample ``shop`` database; ``sql.generate`` repairs the
first, wrong query and the flow answers with rows from the database. The steps stream as node chunks; a question
that never gets working SQL fails the node with the last SQL and its error."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

import pytest

from rivulet.compiler import compile_flow
from rivulet.compiler.flow import Edge, FlowDocument, Node
from rivulet.data.samples import build_sample
from rivulet.data.service import DataOptions, DataService
from rivulet.data.specs import DatasourceSpec
from rivulet.lib.exceptions import NotFoundError
from rivulet.providers import MemoryModelStore, ModelConfig, ModelService
from rivulet.records.events import NodeChunk
from rivulet.registry.loader import default_registry
from rivulet.runtime.executor import Executor
from rivulet.runtime.memory import MemoryEventBus
from rivulet.runtime.options import RunOptions
from rivulet.sdk.data import Datasources
from rivulet.sdk.models import ModelRegistry
from rivulet.storage.memory import MemoryRunStore, MemorySecretStore
from rivulet.storage.memory_data import MemoryDatasourceStore
from tests.integration.openai_server import API_KEY, ScriptedOpenAI, serve_openai

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

pytestmark = pytest.mark.timeout(120)

WRONG = "Sure! Here is the query:\n```sql\nSELECT COUNT(*) AS n FROM clients\n```"  # no close table name: no autofix
RIGHT = "```sql\nSELECT COUNT(*) AS n FROM customers WHERE country = 'France'\n```"


async def secrets(name: str) -> str:
    if name != "openai-key":
        raise NotFoundError(f"secret {name!r} not found")
    return API_KEY


@pytest.fixture
async def server() -> AsyncIterator[ScriptedOpenAI]:
    async with serve_openai() as app:
        yield app


@pytest.fixture
async def services(server: ScriptedOpenAI, tmp_path: Path) -> AsyncIterator[dict[type, Any]]:
    models = ModelService(MemoryModelStore(), secrets=secrets)
    params = {"base_url": server.url, "model": "sql-writer", "api_key_secret": "openai-key"}
    await models.save(
        ModelConfig(name="remote", provider="openai_compatible", params=params, allow_private_network=True)
    )
    data = DataService(
        MemoryDatasourceStore(), MemorySecretStore(), models, None, options=DataOptions(files_dir=tmp_path / "files")
    )
    shop = build_sample(tmp_path / "shop.sqlite", "sqlite")
    await data.create(DatasourceSpec(name="shop", kind="sqlite", path=str(shop)), owner_id=None)
    yield {ModelRegistry: models, Datasources: data}
    await data.close()
    await models.close()


def ask_flow(**generate: Any) -> FlowDocument:
    """``core.input(question) -> sql.generate -> core.output`` for the rows and the SQL."""
    return FlowDocument(
        name="ask",
        nodes=[
            Node(id="in", operator="core.input", params={"name": "question", "type": "Text"}),
            Node(id="gen", operator="sql.generate", params={"datasource": "shop", "model": "remote", **generate}),
            Node(id="rows", operator="core.output", params={"name": "rows"}),
            Node(id="query", operator="core.output", params={"name": "sql"}),
        ],
        edges=[
            Edge(id="e1", source="in", source_port="value", target="gen", target_port="question"),
            Edge(id="e2", source="gen", source_port="table", target="rows", target_port="value"),
            Edge(id="e3", source="gen", source_port="query", target="query", target_port="value"),
        ],
    )


async def run(services: dict[type, Any], document: FlowDocument, run_id: str, question: str) -> tuple[Any, list[Any]]:
    bus = MemoryEventBus(MemoryRunStore())
    graph = compile_flow(document, default_registry())
    result = await Executor(bus, services=services).run(
        graph, run_id=run_id, options=RunOptions(inputs={"question": question})
    )
    await bus.flush()
    return result, await bus.read(run_id)


def french_customers(path: Path) -> int:
    con = sqlite3.connect(path)
    try:
        return int(con.execute("SELECT COUNT(*) FROM customers WHERE country = 'France'").fetchone()[0])
    finally:
        con.close()


async def test_a_question_is_answered_with_rows_after_one_repair(
    server: ScriptedOpenAI, services: dict[type, Any], tmp_path: Path
) -> None:
    server.replies = [WRONG, RIGHT]
    result, events = await run(services, ask_flow(), "ask-1", "How many customers live in France?")
    assert result.status == "succeeded", result.error
    table = result.outputs["rows"]
    assert table.columns == ["n"]
    assert table.rows == [[french_customers(tmp_path / "shop.sqlite")]]
    assert table.types == ["integer"]
    assert "customers" in result.outputs["sql"].sql
    assert result.outputs["sql"].dialect == "sqlite"

    chats = [r for r in server.requests if r["path"] == "/v1/chat/completions"]
    assert len(chats) == 2
    assert chats[0]["temperature"] == 0
    assert "CREATE TABLE customers" in chats[0]["messages"][0]["content"]
    repair = chats[1]["messages"][-1]["content"]
    assert "SELECT COUNT(*) AS n FROM clients" in repair
    assert "customers" in repair
    assert len(chats[1]["messages"]) == 1  # a fresh single-turn repair prompt

    steps = [e.data for e in events if isinstance(e, NodeChunk) and e.node_id == "gen" and e.port == "steps"]
    kinds = [step["kind"] for step in steps]
    assert kinds == ["link", "prompt", "generate", "guard", "repair", "generate", "guard", "execute", "done"]
    assert steps[3]["detail"]["ok"] is False
    assert steps[-1]["detail"]["ok"] is True


async def test_no_working_sql_fails_the_node_with_the_last_sql_and_error(
    server: ScriptedOpenAI, services: dict[type, Any]
) -> None:
    server.replies = [WRONG]
    result, events = await run(services, ask_flow(max_repairs=1), "ask-2", "How many customers?")
    assert result.status == "failed"
    assert result.error is not None
    assert result.error.node_id == "gen"
    assert "after 2 attempts" in result.error.message
    assert "SELECT COUNT(*) AS n FROM clients" in result.error.message
    assert "unknown_table" in result.error.message
    kinds = [e.data["kind"] for e in events if isinstance(e, NodeChunk) and e.node_id == "gen"]
    assert kinds[-1] == "done"  # the trace of the failed attempts is still in the node's chunks
    assert kinds.count("repair") == 1


async def test_the_other_sql_operators_in_one_flow(server: ScriptedOpenAI, services: dict[type, Any]) -> None:
    document = FlowDocument(
        name="tools",
        nodes=[
            Node(id="in", operator="core.input", params={"name": "question", "type": "Text"}),
            Node(id="ctx", operator="sql.schema_context", params={"datasource": "shop", "top_k_tables": 3}),
            Node(id="ctx_out", operator="core.output", params={"name": "tables"}),
            Node(
                id="run",
                operator="sql.run_query",
                params={
                    "datasource": "shop",
                    "sql": "SELECT customer_id FROM customers WHERE country = :country ORDER BY customer_id",
                    "max_rows": 2,
                },
            ),
            Node(id="params", operator="core.constant", params={"value": {"country": "France"}, "type": "Json"}),
            Node(id="count", operator="core.output", params={"name": "count"}),
            Node(id="preview", operator="sql.table_preview", params={"datasource": "shop", "table": "products"}),
            Node(id="preview_out", operator="core.output", params={"name": "preview"}),
        ],
        edges=[
            Edge(id="e1", source="in", source_port="value", target="ctx", target_port="question"),
            Edge(id="e2", source="ctx", source_port="tables", target="ctx_out", target_port="value"),
            Edge(id="e3", source="params", source_port="value", target="run", target_port="params"),
            Edge(id="e4", source="run", source_port="row_count", target="count", target_port="value"),
            Edge(id="e5", source="preview", source_port="table", target="preview_out", target_port="value"),
        ],
    )
    result, _ = await run(services, document, "tools-1", "Which products sell best?")
    assert result.status == "succeeded", result.error
    assert result.outputs["count"] == 2
    assert "products" in result.outputs["tables"]
    assert len(result.outputs["tables"]) == 3
    assert len(result.outputs["preview"].rows) == 20
