"""A headless run (``rivulet run``) reaches the sample data source ``shop`` through ``ctx.service(Datasources)``."""

from __future__ import annotations

from typing import Any

import msgspec

from rivulet.app.headless import run_headless
from rivulet.compiler.flow import FlowDocument


def _flow(sql: str) -> FlowDocument:
    doc: dict[str, Any] = {
        "schema": "rivulet.flow/v1",
        "id": "headless-data",
        "name": "headless data",
        "nodes": [
            {"id": "q", "operator": "sql.run_query", "params": {"datasource": "shop", "sql": sql}, "position": {}},
            {"id": "c", "operator": "chart.recommend", "params": {}, "position": {}},
            {"id": "t", "operator": "core.output", "params": {"name": "table"}, "position": {}},
            {"id": "o", "operator": "core.output", "params": {"name": "chart"}, "position": {}},
        ],
        "edges": [
            {"id": "e1", "source": "q", "source_port": "table", "target": "c", "target_port": "table"},
            {"id": "e2", "source": "c", "source_port": "chart", "target": "o", "target_port": "value"},
            {"id": "e3", "source": "q", "source_port": "table", "target": "t", "target_port": "value"},
        ],
    }
    return msgspec.convert(doc, FlowDocument)


async def test_a_headless_run_queries_the_sample_shop_and_charts_it() -> None:
    finished = await run_headless(
        _flow("SELECT status, COUNT(*) AS orders FROM orders GROUP BY status ORDER BY orders DESC"),
        {},
        on_event=lambda _: None,
        deadline_s=60,
    )
    assert finished.status == "succeeded", finished
    table = finished.outputs["table"]
    assert table["columns"] == ["status", "orders"]
    assert sum(row[1] for row in table["rows"]) > 100  # every order counted once, by status
    assert finished.outputs["chart"]["kind"] in {"bar", "pie"}


async def test_a_headless_run_refuses_a_write_with_the_guard() -> None:
    finished = await run_headless(_flow("DELETE FROM orders"), {}, on_event=lambda _: None, deadline_s=60)
    assert finished.status == "failed"
    assert "sql_refused" in str(finished) or "refused" in str(finished).lower()
