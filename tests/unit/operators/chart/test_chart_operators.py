"""chart.recommend, chart.generate (a scripted model's pick, checked, with the rules as fallback), chart.summarize
and chart.report (narrative, charts per table, saved through the Reports service with the run's id)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec
import pytest

from rivulet.lib.exceptions import ModelError, OperatorError
from rivulet.sdk.data import ReportChart, Reports, SavedReport
from rivulet.sdk.models import ModelRegistry
from rivulet.sdk.ports import ChartSpec, Table
from rivulet_operators import OPERATORS
from rivulet_operators.chart import generate, recommend, report, summarize
from tests.unit.operators.conftest import FakeContext, run_operator
from tests.unit.providers.fakes import FakeModels

SALES = Table(
    columns=["region", "month", "revenue", "orders"],
    rows=[["north", "2024-01", 120.5, 3], ["south", "2024-01", 80.0, 2], ["north", "2024-02", 150.0, 4]],
    types=["text", "text", "number", "integer"],
)


@dataclass
class FakeReports:
    saved: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])

    async def save(
        self,
        *,
        title: str,
        summary: str,
        charts: list[ReportChart],
        datasource: str | None = None,
        run_id: str | None = None,
    ) -> SavedReport:
        self.saved.append({"title": title, "summary": summary, "charts": charts, "run_id": run_id})
        return SavedReport(id=f"rep{len(self.saved)}", url=f"/reports/rep{len(self.saved)}")


class FailingModels(FakeModels):
    async def chat(self, model: str, request: Any, *, origin: Any = None) -> Any:
        raise ModelError("every model of the chain failed")


def test_the_chart_operators_are_registered_with_their_ids() -> None:
    ids = {op.spec.id for op in OPERATORS}
    assert {"chart.recommend", "chart.generate", "chart.report", "chart.summarize"} <= ids
    assert all(op.spec.category == "chart" for op in OPERATORS if op.spec.id.startswith("chart."))


async def test_recommend_uses_the_rules_and_honours_params() -> None:
    out = await run_operator(recommend.Recommend, {}, {"table": SALES})
    assert out["chart"].kind == "line"
    out = await run_operator(
        recommend.Recommend, {"kind": "bar", "x": "region", "y": ["orders"], "title": "T"}, {"table": SALES}
    )
    chart = out["chart"]
    assert (chart.kind, chart.title, chart.option["xAxis"]["data"]) == ("bar", "T", ["north", "south"])


async def test_recommend_names_the_node_when_a_column_is_missing() -> None:
    with pytest.raises(OperatorError) as raised:
        await run_operator(recommend.Recommend, {"x": "country"}, {"table": SALES}, FakeContext(node_id="chart-1"))
    assert "chart x: no column 'country' in the table (columns: region, month, revenue, orders)" in raised.value.detail
    assert raised.value.extra["node_id"] == "chart-1"
    assert raised.value.extra["operator_id"] == "chart.recommend"


async def test_generate_takes_a_valid_pick_from_the_model() -> None:
    answer = (
        '{"kind": "bar", "x": "region", "y": ["revenue"], "title": "Revenue per region", "reason": "compare regions"}'
    )
    models = FakeModels(answers=[answer])
    out = await run_operator(
        generate.Generate, {"model": "local"}, {"table": SALES, "question": "Which region sells most?"},
        FakeContext(services={ModelRegistry: models}),
    )  # fmt: skip
    chart: ChartSpec = out["chart"]
    assert (chart.kind, chart.title) == ("bar", "Revenue per region")
    assert chart.option["series"][0]["data"] == [270.5, 80.0]  # north summed over months
    assert out["reason"] == "compare regions"
    model, request = models.requests[0]
    assert model == "local"
    assert request.json_schema == generate.PICK_SCHEMA
    prompt = request.messages[1].content
    assert "Question: Which region sells most?" in prompt
    assert "- revenue: number, measure, 3 distinct; min 80, max 150" in prompt
    assert "region | month | revenue | orders" in prompt


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        ('{"kind": "bar", "x": "country", "y": ["revenue"], "title": "t"}', "no column 'country'"),
        ('{"kind": "bar", "x": "region", "y": ["region"], "title": "t"}', "column 'region' holds no numbers"),
        ('{"kind": "radar", "x": null, "y": [], "title": "t"}', "unknown chart kind 'radar'"),
        ("I would draw a nice chart.", "the model's pick was not usable"),
        ('{"kind": 3}', "expected shape"),
    ],
)
async def test_generate_falls_back_to_the_rules_with_the_reason(answer: str, why: str) -> None:
    out = await run_operator(
        generate.Generate, {}, {"table": SALES}, FakeContext(services={ModelRegistry: FakeModels(answers=[answer])})
    )
    assert out["chart"].kind == "line"  # the rules' choice for a month column with numbers
    assert why in out["reason"]
    assert out["reason"].endswith("; the rules chose a line chart")


async def test_generate_falls_back_when_the_model_fails_and_skips_it_for_an_empty_table() -> None:
    out = await run_operator(
        generate.Generate, {}, {"table": SALES}, FakeContext(services={ModelRegistry: FailingModels()})
    )
    assert out["chart"].kind == "line"
    assert out["reason"].startswith("the model failed (every model of the chain failed)")
    models = FakeModels()
    out = await run_operator(
        generate.Generate, {}, {"table": Table(columns=["a"], rows=[])}, FakeContext(services={ModelRegistry: models})
    )
    assert out["chart"].kind == "table"
    assert models.requests == []


async def test_summarize_sends_a_compact_table_and_returns_the_narrative() -> None:
    models = FakeModels(answers=["  North leads with 270.5 in revenue.  "])
    out = await run_operator(
        summarize.Summarize, {}, {"table": SALES, "question": "Revenue by region?"},
        FakeContext(services={ModelRegistry: models}),
    )  # fmt: skip
    assert out == {"text": "North leads with 270.5 in revenue."}
    _, request = models.requests[0]
    assert request.messages[0].content == summarize.SYSTEM_PROMPT
    prompt = request.messages[1].content
    assert prompt.startswith(
        "Question: Revenue by region?\n\nQuery result:\n3 rows; columns:\n- region: text, category"
    )
    assert "north | 2024-01 | 120.5 | 3" in prompt
    empty = await run_operator(summarize.Summarize, {}, {"table": Table(columns=["a"], rows=[])}, FakeContext())
    assert empty == {"text": summarize.EMPTY_TABLE}


async def test_report_charts_each_table_writes_a_summary_and_saves_it() -> None:
    models = FakeModels(answers=["Revenue grew."])
    reports = FakeReports()
    given = ChartSpec(title="Given", kind="bar", option={"series": []})
    counts = Table(columns=["status", "n"], rows=[["paid", 3], ["open", 1]])
    out = await run_operator(
        report.Report,
        {"title": "Sales", "model": "local"},
        {"question": "How are sales?", "tables": [SALES, counts], "charts": [given], "sql": ["SELECT 1", ""]},
        FakeContext(run_id="run-9", services={ModelRegistry: models, Reports: reports}),
    )
    assert out["summary"] == "Revenue grew."
    assert out["report"] == {"id": "rep1", "url": "/reports/rep1"}
    assert [c.kind for c in out["charts"]] == ["bar", "bar"]
    assert out["charts"][0] is given
    saved = reports.saved[0]
    assert (saved["title"], saved["summary"], saved["run_id"]) == ("Sales", "Revenue grew.", "run-9")
    assert [(c.title, c.sql, c.table.columns) for c in saved["charts"]] == [
        ("Given", "SELECT 1", SALES.columns),
        ("n by status", None, ["status", "n"]),
    ]
    assert "Table 1:" in models.requests[0][1].messages[1].content
    msgspec.json.encode(out["report"])


async def test_report_without_saving_needs_no_reports_service() -> None:
    out = await run_operator(
        report.Report, {"save": False}, {"tables": [SALES]}, FakeContext(services={ModelRegistry: FakeModels()})
    )
    assert out["report"] is None
    assert out["charts"][0].kind == "line"


async def test_report_errors_are_located() -> None:
    ctx = FakeContext(node_id="rep", services={ModelRegistry: FakeModels()})
    with pytest.raises(OperatorError, match=r"no tables to report on"):
        await run_operator(report.Report, {}, {"tables": []}, ctx)
    with pytest.raises(OperatorError, match=r"reports cannot be saved in this process \(set save to false\)"):
        await run_operator(report.Report, {}, {"tables": [SALES]}, ctx)
