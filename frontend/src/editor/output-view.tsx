import { useEffect, useRef } from "react";
import { Markdown } from "../chat/markdown";
import { chunkListOf } from "../runs/citations";
import { CitationsView } from "../runs/citations-view";
import { CitedText } from "../runs/cited-text";

interface TableValue {
  readonly columns: readonly string[];
  readonly rows: readonly (readonly unknown[])[];
}

interface ChartValue {
  readonly title?: string;
  readonly kind?: string;
  readonly option: Readonly<Record<string, unknown>>;
}

export function isTable(value: unknown): value is TableValue {
  const table = value as Partial<TableValue> | null;
  return (
    typeof table === "object" &&
    table !== null &&
    Array.isArray(table.columns) &&
    Array.isArray(table.rows)
  );
}

export function isChartSpec(value: unknown, type: string): value is ChartValue {
  const chart = value as Partial<ChartValue> | null;
  return (
    typeof chart === "object" &&
    chart !== null &&
    typeof chart.option === "object" &&
    chart.option !== null &&
    (type.includes("ChartSpec") || "series" in chart.option)
  );
}

const cell = (value: unknown) =>
  value === null || value === undefined
    ? ""
    : typeof value === "object"
      ? JSON.stringify(value)
      : String(value);

/** A `Table` value (columns + rows) as an HTML table; long tables show their first rows. */
export function TableView({ table }: { readonly table: TableValue }) {
  const rows = table.rows.slice(0, 200);
  return (
    <div className="table-view" data-testid="table-view">
      <table>
        <thead>
          <tr>
            {table.columns.map((column) => (
              <th key={column}>{column}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, index) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: rows have no identity of their own.
            <tr key={index}>
              {row.map((value, column) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: columns are positional.
                <td key={column}>{cell(value)}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {table.rows.length > rows.length ? (
        <div className="muted">
          {rows.length} of {table.rows.length} rows
        </div>
      ) : null}
    </div>
  );
}

/** The rows a `table` chart (nothing to plot: `ChartSpec.kind` "table") carries as its `dataset`. */
export function chartTable(chart: ChartValue): TableValue | null {
  if (chart.kind !== "table") return null;
  const dataset = chart.option.dataset as { dimensions?: unknown; source?: unknown } | undefined;
  const table = { columns: dataset?.dimensions, rows: dataset?.source };
  return isTable(table) ? table : null;
}

/** ECharts option keys dropped from every chart: `link`/`sublink` open their URL on a click (a `javascript:` URL
 * runs in a window of this origin), `extraCssText` is raw CSS, `toolbox` (data view) writes HTML. */
const UNSAFE_OPTION_KEYS = new Set(["link", "sublink", "extraCssText", "toolbox"]);

/** An option without script sinks (a run output or a report is anyone's JSON): `UNSAFE_OPTION_KEYS` dropped at any
 * depth, no `<`/`>` in `formatter` texts (ECharts puts a tooltip's text into innerHTML). Same rules as the server's
 * `safe_option` (rivulet/data/reports.py). */
export function safeOption(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(safeOption);
  if (typeof value !== "object" || value === null) return value;
  const kept: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (UNSAFE_OPTION_KEYS.has(key)) continue;
    kept[key] =
      key === "formatter" && typeof item === "string"
        ? item.replace(/[<>]/g, "")
        : safeOption(item);
  }
  return kept;
}

/** A `ChartSpec` (an ECharts option) rendered with echarts, loaded on first use. */
export function ChartView({ chart }: { readonly chart: ChartValue }) {
  const element = useRef<HTMLDivElement>(null);
  useEffect(() => {
    let disposed = false;
    let dispose: () => void = () => undefined;
    void import("echarts").then((echarts) => {
      if (disposed || !element.current) return;
      const instance = echarts.init(element.current, undefined, { renderer: "svg" });
      instance.setOption(
        safeOption({
          ...(chart.title ? { title: { text: chart.title, left: "center" } } : {}),
          tooltip: {},
          ...chart.option,
        }) as Record<string, unknown>,
      );
      const observer = new ResizeObserver(() => instance.resize());
      observer.observe(element.current);
      dispose = () => {
        observer.disconnect();
        instance.dispose();
      };
    });
    return () => {
      disposed = true;
      dispose();
    };
  }, [chart]);
  return <div ref={element} className="chart-view" data-testid="chart-view" />;
}

interface MessageValue {
  readonly role: string;
  readonly content: string;
  readonly name?: string | null;
  readonly tool_call_id?: string | null;
}

/** A chat `Message` (`role` and `content`, optional `name`/`tool_call_id`). */
export function isMessage(value: unknown): value is MessageValue {
  const message = value as Partial<MessageValue> | null;
  return (
    typeof message === "object" &&
    message !== null &&
    !Array.isArray(message) &&
    typeof message.role === "string" &&
    typeof message.content === "string"
  );
}

/** One chat message: a role badge (and name) over its markdown content. */
export function MessageView({ message }: { readonly message: MessageValue }) {
  return (
    <div className={`message-view message-view--${message.role}`} data-testid="message-view">
      <div className="message-view__head">
        <span className="badge message-view__role">{message.role}</span>
        {message.name ? <span className="muted">{message.name}</span> : null}
        {message.tool_call_id ? (
          <span className="muted">
            tool call <code>{message.tool_call_id}</code>
          </span>
        ) : null}
      </div>
      {message.content ? (
        <Markdown text={message.content} />
      ) : (
        <span className="muted">(empty)</span>
      )}
    </div>
  );
}

/** Any output preview: a chart, a table, chunks (as citations), text (citing them), or JSON. */
export function OutputView({ value, type }: { readonly value: unknown; readonly type: string }) {
  if (isChartSpec(value, type)) {
    const rows = chartTable(value);
    return rows ? <TableView table={rows} /> : <ChartView chart={value} />;
  }
  if (isTable(value)) return <TableView table={value} />;
  const chunks = chunkListOf(value, type);
  if (chunks) return <CitationsView list={chunks} />;
  if (typeof value === "string") return <CitedText text={value} />;
  if (isMessage(value)) return <MessageView message={value} />;
  if (Array.isArray(value) && value.length > 0 && value.every(isMessage)) {
    return (
      <ol className="message-list" data-testid="message-list">
        {value.map((message, index) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: a conversation is positional.
          <li key={index}>
            <MessageView message={message} />
          </li>
        ))}
      </ol>
    );
  }
  return (
    <pre className="output-json" data-testid="output-json">
      {JSON.stringify(value, null, 2)}
    </pre>
  );
}
