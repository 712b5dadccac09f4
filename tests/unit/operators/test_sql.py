"""The sql.* operators one by one on a real DataService (memory stores, a SQLite sample file, no embeddings)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import msgspec
import pytest

from rivulet.data.samples import build_sample
from rivulet.data.service import DataOptions, DataService
from rivulet.data.specs import DatasourceSpec
from rivulet.lib.exceptions import OperatorError
from rivulet.sdk.data import Datasources, Text2SQLAttempt, Text2SQLResult, Text2SQLStep
from rivulet.sdk.ports import SQLQuery
from rivulet.storage.memory import MemorySecretStore
from rivulet.storage.memory_data import MemoryDatasourceStore
from rivulet_operators.sql.generate import CHUNK_BYTES, Generate, compact_step, failure_message
from rivulet_operators.sql.run_query import RunQuery
from rivulet_operators.sql.schema_context import SchemaContextOperator
from rivulet_operators.sql.table_preview import TablePreview, quote_table
from rivulet_operators.sql.transpile import Transpile
from rivulet_operators.sql.validate import Validate
from tests.unit.operators.conftest import FakeContext, run_operator
from tests.unit.providers.fakes import FakeModels

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def ctx(tmp_path: Path) -> AsyncIterator[FakeContext]:
    data = DataService(
        MemoryDatasourceStore(),
        MemorySecretStore(),
        FakeModels(answers=["```sql\nSELECT COUNT(*) AS n FROM products\n```"]),
        None,
        options=DataOptions(files_dir=tmp_path / "files"),
    )
    shop = await asyncio.to_thread(build_sample, tmp_path / "shop.sqlite", "sqlite")
    await data.create(DatasourceSpec(name="shop", kind="sqlite", path=str(shop)), owner_id=None)
    yield FakeContext(services={Datasources: data})
    await data.close()


async def test_validate_accepts_and_refuses_with_the_rule(ctx: FakeContext) -> None:
    out = await run_operator(
        Validate, {"max_rows": 5}, {"query": SQLQuery(sql="SELECT name FROM products", dialect="postgres")}, ctx
    )
    assert out["query"].dialect == "sqlite"
    assert out["query"].sql.endswith("LIMIT 6")
    assert out["tables"] == ["products"]
    with pytest.raises(OperatorError, match=r"refused the query \(not_read_only\)") as error:
        await run_operator(Validate, {}, {"query": SQLQuery(sql="DROP TABLE products", dialect="sqlite")}, ctx)
    assert error.value.extra["node_id"] == "node-1"
    assert "'shop'" in error.value.detail


async def test_run_query_binds_params_and_reports_row_count(ctx: FakeContext) -> None:
    sql = "SELECT customer_id FROM customers WHERE country = :country"
    out = await run_operator(RunQuery, {"sql": sql, "max_rows": 3}, {"params": {"country": "France"}}, ctx)
    assert out["row_count"] == len(out["table"].rows) <= 3
    with pytest.raises(OperatorError, match="JSON object"):
        await run_operator(RunQuery, {"sql": sql}, {"params": [1, 2]}, ctx)
    with pytest.raises(OperatorError, match="query is empty"):
        await run_operator(RunQuery, {}, {}, ctx)
    with pytest.raises(OperatorError, match="country"):
        await run_operator(RunQuery, {"sql": sql}, {}, ctx)  # a placeholder without its value
    with pytest.raises(OperatorError, match="not found"):
        await run_operator(RunQuery, {"datasource": "nowhere", "sql": "SELECT 1"}, {}, ctx)


async def test_transpile_and_table_preview(ctx: FakeContext) -> None:
    out = await run_operator(
        Transpile, {"source": "mysql", "target": "postgres"}, {"query": SQLQuery(sql="SELECT `a` FROM t LIMIT 2")}, ctx
    )
    assert out["sql"] == 'SELECT "a" FROM t LIMIT 2'
    assert out["query"].dialect == "postgres"
    preview = await run_operator(TablePreview, {"table": "products", "limit": 4}, {}, ctx)
    assert len(preview["table"].rows) == 4
    with pytest.raises(OperatorError, match=r"has no table 'nope' \(tables: .*products"):
        await run_operator(TablePreview, {"table": "nope"}, {}, ctx)
    assert quote_table("sales.orders", "mysql") == "`sales`.`orders`"
    assert quote_table('we"ird', "postgres") == '"we""ird"'


async def test_schema_context_sends_a_small_schema_whole(ctx: FakeContext) -> None:
    out = await run_operator(SchemaContextOperator, {"top_k_tables": 50}, {"question": "best products?"}, ctx)
    assert "products" in out["tables"]
    assert "CREATE TABLE products" in out["context"]
    assert "text" not in out["schema"]
    assert out["schema"]["dialect"] == "sqlite"
    with pytest.raises(OperatorError, match="question is empty"):
        await run_operator(SchemaContextOperator, {}, {"question": "  "}, ctx)


async def drain(outputs: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    steps = [step async for step in outputs["steps"]]
    resolved = {port: await value.resolve() for port, value in outputs.items() if port != "steps"}
    return steps, resolved


async def test_generate_streams_steps_then_delivers(ctx: FakeContext) -> None:
    outputs = await run_operator(Generate, {}, {"question": "How many products are there?"}, ctx)
    steps, resolved = await drain(outputs)
    assert [s["kind"] for s in steps] == ["link", "prompt", "generate", "guard", "execute", "done"]
    assert resolved["table"].columns == ["n"]
    assert resolved["query"].dialect == "sqlite"
    assert resolved["trace"]["ok"] is True
    assert len(resolved["trace"]["attempts"]) == 1


async def test_generate_fails_the_node_when_no_attempt_works(ctx: FakeContext) -> None:
    data = ctx.services[Datasources]
    data.models = FakeModels(answers=["```sql\nSELECT nope FROM products\n```"])
    outputs = await run_operator(Generate, {"max_repairs": 1}, {"question": "How many?"}, ctx)
    steps = [step async for step in outputs["steps"]]
    assert steps[-1]["kind"] == "done"
    with pytest.raises(OperatorError, match=r"after 2 attempts; last SQL: SELECT nope FROM products") as error:
        await outputs["query"].resolve()
    assert "nope" in error.value.detail
    with pytest.raises(OperatorError):
        await outputs["table"].resolve()


def test_failure_message_and_compact_steps() -> None:
    result = Text2SQLResult(
        ok=False,
        question="q",
        datasource="shop",
        dialect="sqlite",
        sql="",
        attempts=[Text2SQLAttempt(attempt=0, raw="hm", sql="", error="no SQL query found", stage="extract")],
        error="no SQL query found",
    )
    assert failure_message(result) == (
        "no working SQL for data source 'shop' after 1 attempt; the model wrote no SQL; error (extract): "
        "no SQL query found"
    )
    big = Text2SQLStep(kind="prompt", detail={"prompt": "x" * 10_000, "tables": ["t"] * 500})
    data = compact_step(big)
    assert len(msgspec.json.encode(data)) <= CHUNK_BYTES
    assert data["cut"] is True
    assert data["detail"]["prompt"].endswith("…")
    small = Text2SQLStep(kind="done", detail={"ok": True})
    assert compact_step(small) == {"kind": "done", "attempt": 0, "detail": {"ok": True}, "duration_ms": 0.0}
