import type { ReportChart } from "../api/reports";
import { ChartView, chartTable, TableView } from "../editor/output-view";
import { Narrative } from "./narrative";

/** The table a chart shows: its own, else the rows a `table` chart carries in its dataset. */
function tableOf(chart: ReportChart) {
  return chart.table ?? chartTable({ kind: chart.chart.kind, option: chart.chart.option ?? {} });
}

type Option = Readonly<Record<string, unknown>>;

/** The option without its title (the figure's caption says it): a subtitle stays, else the plot moves up. */
function untitled(option: Option): Option {
  const title = option.title as Option | undefined;
  if (typeof title !== "object" || title === null || Array.isArray(title)) return option;
  if (typeof title.subtext === "string" && title.subtext)
    return { ...option, title: { ...title, text: "" } };
  const { title: _title, ...rest } = option;
  const grid = option.grid as Option | undefined;
  return typeof grid === "object" && grid !== null && !Array.isArray(grid)
    ? { ...rest, grid: { ...grid, top: 36 } }
    : rest;
}

function ReportFigure({ chart, index }: { readonly chart: ReportChart; readonly index: number }) {
  const title = chart.title || chart.chart.title || `Chart ${index + 1}`;
  const table = tableOf(chart);
  const asTable = chart.chart.kind === "table" || !chart.chart.option;
  return (
    <figure className="card report-figure" data-kind={chart.chart.kind || "chart"}>
      <figcaption className="card__title">{title}</figcaption>
      {asTable ? (
        table ? (
          <TableView table={table} />
        ) : (
          <p className="muted">No rows.</p>
        )
      ) : (
        <div className="report-figure__chart">
          <ChartView chart={{ option: untitled(chart.chart.option ?? {}) }} />
        </div>
      )}
      {!asTable && table ? (
        <details className="report-figure__details">
          <summary>Data ({table.rows.length} rows)</summary>
          <TableView table={table} />
        </details>
      ) : null}
      {chart.sql ? (
        <details className="report-figure__details">
          <summary>SQL</summary>
          <pre className="report-figure__sql">{chart.sql}</pre>
        </details>
      ) : null}
    </figure>
  );
}

interface ReportBodyProps {
  readonly summary: string;
  readonly charts: readonly ReportChart[];
}

/** A report's narrative and charts (with their data and SQL), as the report page and share links show it. */
export function ReportBody({ summary, charts }: ReportBodyProps) {
  return (
    <div className="report-body">
      {summary.trim() ? (
        <section className="card report-summary" aria-label="Summary">
          <Narrative text={summary} />
        </section>
      ) : null}
      {charts.length === 0 ? <p className="muted">This report has no charts.</p> : null}
      <div className="report-grid">
        {charts.map((chart, index) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: charts are positional.
          <ReportFigure key={index} chart={chart} index={index} />
        ))}
      </div>
    </div>
  );
}
