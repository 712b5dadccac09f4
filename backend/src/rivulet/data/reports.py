"""Reports: charts with their tables and SQL plus a narrative, stored for the API, the editor and share links.

``ReportService`` implements the SDK's ``Reports`` (``chart.report`` saves through it, the report owned by whoever
owns the flow of the run) and the API's needs: list, get, update, delete, share links (a fresh random token shown
once, stored as its SHA-256) and ``render_html``, a standalone HTML file.

The exported file works offline: the charts' ECharts options are embedded as JSON and the ECharts library itself
is inlined from ``rivulet/data/static/echarts.min.js``, a copy of the frontend's own ``echarts`` build shipped as
package data (so an installed server without ``frontend/node_modules`` exports the same file; a test checks the
copy's version against ``frontend/package-lock.json``, ``scripts/vendor_echarts.py`` refreshes it). Every text
(titles, summary, SQL, table cells) is HTML-escaped, the JSON is escaped for a ``<script>`` block, and a
Content-Security-Policy forbids any network access from the file.
"""

from __future__ import annotations

import html
import re
import secrets
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Final, cast

import msgspec

from rivulet.lib.exceptions import NotFoundError, ValidationError
from rivulet.sdk.charts import json_value
from rivulet.sdk.data import ReportChart, SavedReport
from rivulet.sdk.ports import Table
from rivulet.security.tokens import hash_token

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

    from rivulet.records.runs import RunRecord
    from rivulet.storage.base import FlowStore, ReportRecord, ReportStore

__all__ = (
    "MAX_CHARTS",
    "MAX_TABLE_ROWS",
    "ReportService",
    "echarts_script",
    "markdown_blocks",
    "report_url",
    "stored_chart",
)

MAX_CHARTS = 50
"""Most charts of one report."""
MAX_TABLE_ROWS = 1000
"""Rows of a chart's table kept with a report (the rest is dropped, ``truncated`` set)."""
MAX_HTML_TABLE_ROWS = 200
"""Rows of each table written into an exported HTML file."""
SHARE_TOKEN_PREFIX = "rvr_"  # noqa: S105 - the prefix of share link tokens, not a secret


def report_url(report_id: str) -> str:
    """Where the editor shows a report."""
    return f"/reports/{report_id}"


UNSAFE_OPTION_KEYS: Final = frozenset({"link", "sublink", "extraCssText", "toolbox"})
"""ECharts option keys dropped from every chart: ``link``/``sublink`` open their URL on a click (a ``javascript:``
URL runs in a window of the app's origin), ``extraCssText`` is raw CSS, ``toolbox`` (data view) writes HTML."""


def safe_option(value: Any) -> Any:
    """An ECharts option without its script sinks.

    ``UNSAFE_OPTION_KEYS`` are dropped at any depth and ``formatter`` texts lose ``<`` and ``>`` (ECharts puts a
    tooltip's formatted text into ``innerHTML``). The frontend's ``safeOption`` (frontend/src/editor/output-view.tsx)
    applies the same rules to every chart it draws.
    """
    if isinstance(value, dict):
        items = cast("dict[Any, Any]", value).items()
        return {
            str(k): (v.replace("<", "").replace(">", "") if k == "formatter" and isinstance(v, str) else safe_option(v))
            for k, v in items
            if k not in UNSAFE_OPTION_KEYS
        }
    if isinstance(value, list):
        return [safe_option(item) for item in cast("list[Any]", value)]
    return value


def stored_chart(chart: ReportChart) -> ReportChart:
    """``chart`` as a report keeps it: a ``safe_option``, its table cut to ``MAX_TABLE_ROWS`` rows of plain JSON."""
    spec = chart.chart
    chart = msgspec.structs.replace(chart, chart=msgspec.structs.replace(spec, option=safe_option(spec.option)))
    table = chart.table
    if table is None:
        return chart
    rows = [[json_value(v) for v in row] for row in table.rows[:MAX_TABLE_ROWS]]
    truncated = table.truncated or len(table.rows) > MAX_TABLE_ROWS
    kept = Table(columns=list(table.columns), rows=rows, types=list(table.types), truncated=truncated)
    return msgspec.structs.replace(chart, table=kept)


class ReportService:
    """Reports over a ``ReportStore``; finds a run's owner through the flows and runs (``bind_runs``)."""

    def __init__(self, store: ReportStore, *, flows: FlowStore | None = None) -> None:
        self._store = store
        self._flows = flows
        self._runs: Callable[[str], Awaitable[RunRecord]] | None = None

    def bind_runs(self, lookup: Callable[[str], Awaitable[RunRecord]]) -> None:
        """How to find a run by id (the run service is built after the operator services that include this)."""
        self._runs = lookup

    # -- sdk.Reports ----------------------------------------------------------------------------------------------

    async def save(
        self,
        *,
        title: str,
        summary: str,
        charts: list[ReportChart],
        datasource: str | None = None,
        run_id: str | None = None,
    ) -> SavedReport:
        """Store a report owned by the owner of the run's flow (and in its workspace)."""
        flow_id, owner_id, workspace_id = await self._run_owner(run_id)
        record = await self.create(
            title=title,
            summary=summary,
            charts=charts,
            datasource=datasource,
            flow_id=flow_id,
            run_id=run_id,
            owner_id=owner_id,
            workspace_id=workspace_id,
        )
        return SavedReport(id=record.id, url=report_url(record.id))

    async def _run_owner(self, run_id: str | None) -> tuple[str | None, str | None, str | None]:
        if run_id is None or self._runs is None:
            return None, None, None
        try:
            run = await self._runs(run_id)
        except NotFoundError:
            return None, None, None
        if self._flows is None:
            return run.flow_id, None, None
        try:
            flow = await self._flows.get(run.flow_id)
        except NotFoundError:  # a flow deleted while its run ends, or an unsaved editor flow
            return run.flow_id, None, None
        return run.flow_id, flow.summary.owner_id, flow.summary.workspace_id

    # -- the API --------------------------------------------------------------------------------------------------

    async def create(
        self,
        *,
        title: str,
        summary: str = "",
        charts: Sequence[ReportChart] = (),
        datasource: str | None = None,
        flow_id: str | None = None,
        run_id: str | None = None,
        owner_id: str | None = None,
        workspace_id: str | None = None,
    ) -> ReportRecord:
        """Store a new report (tables cut to ``MAX_TABLE_ROWS`` rows). Raises ``ValidationError`` (too many charts)."""
        _check_charts(charts)
        return await self._store.create(
            title=title.strip() or "Report",
            summary=summary,
            charts=[stored_chart(c) for c in charts],
            datasource=datasource,
            flow_id=flow_id,
            run_id=run_id,
            owner_id=owner_id,
            workspace_id=workspace_id,
        )

    async def list(self, *, owner_id: str | None = None, limit: int = 100) -> list[ReportRecord]:
        """Newest first; ``owner_id`` keeps one owner's reports."""
        return await self._store.list(owner_id=owner_id, limit=limit)

    async def get(self, report_id: str) -> ReportRecord:
        """Raises ``NotFoundError``."""
        return await self._store.get(report_id)

    async def update(
        self,
        report_id: str,
        *,
        title: str | None = None,
        summary: str | None = None,
        charts: Sequence[ReportChart] | None = None,
    ) -> ReportRecord:
        """Change what is given. Raises ``NotFoundError``, ``ValidationError`` (too many charts)."""
        if charts is not None:
            _check_charts(charts)
        return await self._store.update(
            report_id,
            title=None if title is None else (title.strip() or "Report"),
            summary=summary,
            charts=None if charts is None else [stored_chart(c) for c in charts],
        )

    async def delete(self, report_id: str) -> None:
        """Delete a report and its share link. Raises ``NotFoundError``."""
        await self._store.delete(report_id)

    async def share(self, report_id: str) -> tuple[ReportRecord, str]:
        """A fresh share link token (any older link stops working); only its hash is stored."""
        token = SHARE_TOKEN_PREFIX + secrets.token_urlsafe(24)
        record = await self._store.set_share_token(report_id, hash_token(token))
        return record, token

    async def unshare(self, report_id: str) -> ReportRecord:
        """Revoke the share link."""
        return await self._store.set_share_token(report_id, None)

    async def shared(self, token: str) -> ReportRecord:
        """The report a live share token opens. Raises ``NotFoundError`` (unknown, revoked or malformed token)."""
        if not token.startswith(SHARE_TOKEN_PREFIX) or len(token) > 200 or "\x00" in token:
            raise NotFoundError("this shared report does not exist or is no longer shared")
        record = await self._store.get_shared(hash_token(token))
        if record is None:
            raise NotFoundError("this shared report does not exist or is no longer shared")
        return record

    def render_html(self, report: ReportRecord) -> str:
        """The report as one standalone HTML file (see the module's docstring)."""
        return render_html(report)


def _check_charts(charts: Sequence[ReportChart]) -> None:
    if len(charts) > MAX_CHARTS:
        raise ValidationError(
            f"a report holds at most {MAX_CHARTS} charts ({len(charts)} given)",
            extra={"charts": len(charts), "max": MAX_CHARTS},
        )


# -- HTML export ---------------------------------------------------------------------------------------------------


@cache
def echarts_script() -> str:
    """The inlined ECharts build (``rivulet/data/static/echarts.min.js``), safe inside a ``<script>`` element."""
    source = resources.files("rivulet.data").joinpath("static/echarts.min.js").read_text(encoding="utf-8")
    # neither can occur in script code outside a string, where the escaped forms mean the same
    return source.replace("</script", "<\\/script").replace("<!--", "<\\!--")


def _script_json(value: Any) -> str:
    """JSON for a ``<script type="application/json">`` element: no ``<``, ``>``, ``&`` or line separators."""
    text = msgspec.json.encode(value).decode()
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


_BOLD = re.compile(r"\*\*(.+?)\*\*")
_CODE = re.compile(r"`([^`]+)`")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
_HEADING = re.compile(r"^(#{1,6})\s+")


def markdown_blocks(text: str) -> list[tuple[str, list[str]]]:
    """A narrative's blocks: ``("p", [text])``, ``("ul", items)`` or ``("h", [text])`` (markdown-lite)."""
    blocks: list[tuple[str, list[str]]] = []
    paragraph: list[str] = []
    items: list[str] = []

    def flush() -> None:
        if paragraph:
            blocks.append(("p", [" ".join(paragraph)]))
            paragraph.clear()
        if items:
            blocks.append(("ul", list(items)))
            items.clear()

    for raw in text.replace("\r\n", "\n").split("\n"):
        line = raw.strip()
        if not line:
            flush()
        elif _HEADING.match(line):
            flush()
            blocks.append(("h", [_HEADING.sub("", line)]))
        elif _BULLET.match(line):
            if paragraph:
                flush()
            items.append(_BULLET.sub("", line))
        elif items:
            items[-1] = f"{items[-1]} {line}"
        else:
            paragraph.append(line)
    flush()
    return blocks


def _inline(text: str) -> str:
    escaped = html.escape(text, quote=True)
    escaped = _BOLD.sub(r"<strong>\1</strong>", escaped)
    return _CODE.sub(r"<code>\1</code>", escaped)


def _summary_html(summary: str) -> str:
    parts: list[str] = []
    for kind, lines in markdown_blocks(summary):
        if kind == "ul":
            parts.append("<ul>" + "".join(f"<li>{_inline(item)}</li>" for item in lines) + "</ul>")
        elif kind == "h":
            parts.append(f"<h3>{_inline(lines[0])}</h3>")
        else:
            parts.append(f"<p>{_inline(lines[0])}</p>")
    return "\n".join(parts)


def _cell(value: Any) -> str:
    value = json_value(value)
    return "" if value is None else html.escape(str(value), quote=True)


def _table_html(table: Table) -> str:
    head = "".join(f"<th>{html.escape(c, quote=True)}</th>" for c in table.columns)
    rows = table.rows[:MAX_HTML_TABLE_ROWS]
    body = "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>" for row in rows)
    more = len(table.rows) - len(rows)
    note = f'<p class="muted">{len(rows)} of {len(table.rows)} rows</p>' if more > 0 else ""
    if table.truncated:
        note += '<p class="muted">The query had more rows than were kept.</p>'
    return f'<div class="table"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>{note}'


def _chart_table(chart: ReportChart) -> Table | None:
    if chart.table is not None:
        return chart.table
    dataset: Any = chart.chart.option.get("dataset")
    if not isinstance(dataset, dict):
        return None
    try:
        return msgspec.convert(
            {"columns": dataset.get("dimensions"), "rows": dataset.get("source")},  # pyright: ignore[reportUnknownMemberType]
            Table,
        )
    except msgspec.ValidationError:
        return None


_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1f2937;background:#f8fafc}
main{max-width:1040px;margin:0 auto;padding:32px 24px 64px}
h1{font-size:28px;margin:0 0 4px}.muted{color:#64748b;font-size:13px}
.summary{background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:16px 20px;margin:20px 0;line-height:1.55}
figure{background:#fff;border:1px solid #e2e8f0;border-radius:8px;margin:0 0 20px;padding:16px}
figure h2{font-size:17px;margin:0 0 8px}.chart{height:380px}
.table{overflow:auto;max-height:420px}table{border-collapse:collapse;font-size:13px;width:100%}
th,td{border-bottom:1px solid #e2e8f0;padding:4px 8px;text-align:left;white-space:nowrap}th{background:#f1f5f9}
pre{background:#0f172a;color:#e2e8f0;padding:12px;border-radius:6px;overflow:auto;font-size:12px}
details{margin-top:8px}summary{cursor:pointer;color:#334155;font-size:13px}
"""

_BOOT = """
(function () {
  var charts = JSON.parse(document.getElementById("report-charts").textContent);
  charts.forEach(function (item) {
    var element = document.getElementById(item.element);
    if (!element || typeof echarts === "undefined") return;
    var option = item.option;
    if (item.title && !option.title) option.title = { text: item.title, left: "center" };
    var chart = echarts.init(element, null, { renderer: "svg" });
    chart.setOption(option);
    window.addEventListener("resize", function () { chart.resize(); });
  });
})();
"""

_CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:"


def render_html(report: ReportRecord) -> str:
    """``report`` as a standalone HTML document (no network access; every text escaped)."""
    title = html.escape(report.title, quote=True)
    meta = [f"Created {report.created_at:%Y-%m-%d %H:%M} UTC"]
    if report.datasource:
        meta.append(f"data source {report.datasource}")
    figures: list[str] = []
    boot: list[dict[str, Any]] = []
    for number, chart in enumerate(report.charts, start=1):
        heading = chart.title or chart.chart.title
        parts = [f"<h2>{html.escape(heading, quote=True)}</h2>"] if heading else []
        table = _chart_table(chart)
        if chart.chart.kind == "table" or not chart.chart.option:
            if table is not None:
                parts.append(_table_html(table))
        else:
            element = f"chart-{number}"
            parts.append(f'<div class="chart" id="{element}" role="img" aria-label="{html.escape(heading)}"></div>')
            boot.append({"element": element, "title": chart.chart.title, "option": safe_option(chart.chart.option)})
            if table is not None:
                parts.append(f"<details><summary>Data</summary>{_table_html(table)}</details>")
        if chart.sql:
            parts.append(f"<details><summary>SQL</summary><pre>{html.escape(chart.sql, quote=True)}</pre></details>")
        figures.append(f"<figure>{''.join(parts)}</figure>")
    summary = _summary_html(report.summary)
    scripts = ""
    if boot:
        scripts = (
            f'<script type="application/json" id="report-charts">{_script_json(boot)}</script>\n'
            f"<script>{echarts_script()}</script>\n<script>{_BOOT}</script>"
        )
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="generator" content="Rivulet">'
        f"<title>{title}</title><style>{_STYLE}</style></head>\n"
        f"<body><main><header><h1>{title}</h1>"
        f'<p class="muted">{html.escape(" · ".join(meta), quote=True)}</p></header>\n'
        + (f'<section class="summary">{summary}</section>\n' if summary else "")
        + "\n".join(figures)
        + f"\n</main>\n{scripts}\n</body></html>\n"
    )
