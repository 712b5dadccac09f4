"""ReportService over the memory store: saving with the run's owner, share tokens, and the standalone HTML export
(every text escaped, no network, the vendored ECharts matching the frontend's)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from rivulet.compiler.flow import FlowDocument
from rivulet.data.charts import recommend_chart
from rivulet.data.reports import MAX_TABLE_ROWS, ReportService, echarts_script, markdown_blocks, render_html
from rivulet.lib.exceptions import NotFoundError, ValidationError
from rivulet.records.runs import RunRecord
from rivulet.sdk.data import ReportChart
from rivulet.sdk.ports import Table
from rivulet.storage.base import ReportRecord
from rivulet.storage.memory import MemoryFlowStore
from rivulet.storage.memory_data import MemoryReportStore

ROOT = Path(__file__).resolve().parents[3]
HOSTILE = "</script><script>alert(1)</script>"


def chart_of(table: Table, *, sql: str | None = None, title: str = "") -> ReportChart:
    return ReportChart(title=title, chart=recommend_chart(table, title=title), table=table, sql=sql)


SALES = Table(columns=["region", "revenue"], rows=[["north", 10], ["south", 4]])


@dataclass
class Runs:
    flow_id: str

    async def __call__(self, run_id: str) -> RunRecord:
        if run_id != "run-1":
            raise NotFoundError(f"run {run_id!r} not found")
        return RunRecord(
            id=run_id,
            flow_id=self.flow_id,
            flow_version=1,
            status="running",
            trigger="editor",
            created_at=datetime.now(UTC),
        )


async def test_save_finds_the_owner_of_the_runs_flow() -> None:
    flows = MemoryFlowStore()
    flow = await flows.create(FlowDocument(name="ask"), owner_id="u-ada", workspace_id="ws-1")
    service = ReportService(MemoryReportStore(), flows=flows)
    service.bind_runs(Runs(flow.summary.id))
    saved = await service.save(
        title="Sales", summary="Up.", charts=[chart_of(SALES)], run_id="run-1", datasource="shop"
    )
    assert saved.url == f"/reports/{saved.id}"
    record = await service.get(saved.id)
    assert (record.owner_id, record.workspace_id, record.flow_id, record.run_id) == (
        "u-ada",
        "ws-1",
        flow.summary.id,
        "run-1",
    )
    assert record.datasource == "shop"
    orphan = await service.save(title="x", summary="", charts=[], run_id="run-404")
    assert (await service.get(orphan.id)).owner_id is None  # administrators' alone


async def test_reports_keep_at_most_max_table_rows_and_50_charts() -> None:
    service = ReportService(MemoryReportStore())
    big = Table(columns=["n", "v"], rows=[[f"k{i}", i] for i in range(MAX_TABLE_ROWS + 5)])
    record = await service.create(title="  ", charts=[chart_of(big)])
    assert record.title == "Report"
    stored = record.charts[0].table
    assert stored is not None
    assert len(stored.rows) == MAX_TABLE_ROWS
    assert stored.truncated
    with pytest.raises(ValidationError, match="at most 50 charts"):
        await service.create(title="many", charts=[chart_of(SALES)] * 51)


async def test_share_tokens_open_the_report_until_revoked_or_replaced() -> None:
    service = ReportService(MemoryReportStore())
    record = await service.create(title="Sales", charts=[chart_of(SALES)])
    shared, token = await service.share(record.id)
    assert shared.shared
    assert token.startswith("rvr_")
    assert len(token) > 30
    assert (await service.shared(token)).id == record.id
    _, newer = await service.share(record.id)
    with pytest.raises(NotFoundError):
        await service.shared(token)  # the old link stops working
    assert (await service.shared(newer)).id == record.id
    assert not (await service.unshare(record.id)).shared
    for bad in (newer, "", "rvr_nope", "x" * 300, "rvr_\x00"):
        with pytest.raises(NotFoundError, match="no longer shared"):
            await service.shared(bad)


def test_markdown_lite_blocks() -> None:
    text = "# Findings\nRevenue grew\nby **12%**.\n\n- north leads\n- south\n  lags\n\n1. first\n2) second\nafter"
    assert markdown_blocks(text) == [
        ("h", ["Findings"]),
        ("p", ["Revenue grew by **12%**."]),
        ("ul", ["north leads", "south lags"]),
        ("ul", ["first", "second after"]),
    ]


async def test_exported_html_escapes_every_text_and_needs_no_network() -> None:
    service = ReportService(MemoryReportStore())
    hostile_table = Table(columns=[HOSTILE, "n"], rows=[[HOSTILE, 1], ["<img src=x onerror=alert(2)>", 2]])
    record = await service.create(
        title=HOSTILE,
        summary=f"**{HOSTILE}** and `<b>code</b>`\n\n- <iframe src=//evil>",
        charts=[
            chart_of(hostile_table, sql=f"SELECT '{HOSTILE}'", title=HOSTILE),
            ReportChart(title="names", chart=recommend_chart(Table(columns=["a"], rows=[[HOSTILE]])), table=None),
        ],
        datasource=HOSTILE,
    )
    page = service.render_html(record)
    without_library = page.replace(echarts_script(), "")
    assert "alert(1)</script>" not in without_library
    assert "<script>alert" not in without_library
    assert "<img" not in without_library
    assert "<iframe" not in without_library
    assert "<b>" not in without_library
    assert f"<title>{'&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;'}</title>" in page
    assert "<strong>&lt;/script&gt;" in page
    assert "<code>&lt;b&gt;code&lt;/b&gt;</code>" in page
    # exactly three script elements: the JSON data, the library, the boot code
    assert len(re.findall(r"<script\b", without_library)) == 3
    data = re.search(r'<script type="application/json" id="report-charts">(.*?)</script>', page, re.DOTALL)
    assert data is not None
    assert "<" not in data.group(1)
    charts = json.loads(data.group(1))
    assert charts[0]["title"] == HOSTILE  # the JSON decodes back to the original text
    assert "default-src 'none'" in page  # no network from the file
    assert not re.search(r"<(script|link|img|iframe)\b[^>]*\b(src|href)=", without_library)  # nothing loaded
    assert "&lt;/script&gt;" in page  # table cells and SQL escaped too
    assert "<th>&lt;/script&gt;" in page


def test_a_table_chart_is_exported_as_an_html_table() -> None:
    record_page = render_html(
        _record(charts=[ReportChart(title="People", chart=recommend_chart(Table(columns=["name"], rows=[["Ada"]])))])
    )
    assert "<td>Ada</td>" in record_page
    assert 'id="report-charts"' not in record_page  # no chart to draw: no script at all
    assert "<script" not in record_page


def test_the_vendored_echarts_is_the_frontends_version() -> None:
    static = ROOT / "backend/src/rivulet/data/static"
    version = (static / "echarts.version").read_text().strip()
    lock = ROOT / "frontend/package-lock.json"
    if lock.is_file():
        packages = json.loads(lock.read_text())["packages"]
        assert packages["node_modules/echarts"]["version"] == version, (
            "refresh it: backend/src/rivulet/data/static/README.md"
        )
    script = echarts_script()
    assert len(script) > 500_000
    assert "</script" not in script
    assert "<!--" not in script
    assert f'version="{version}"' in script or f'"{version}"' in script


def _record(*, charts: list[ReportChart]) -> ReportRecord:
    now = datetime.now(UTC)
    return ReportRecord(id="r1", title="R", charts=charts, created_at=now, updated_at=now)
