import type { Datasource, Table } from "../api/datasources";

/** The columns, rows and (where known) types of a table; `truncated` does not matter here. */
export type TableLike = Pick<Table, "columns" | "rows" | "types">;

/** An ECharts option with its title and family, as `ChartView` draws it. */
export interface DrawnChart {
  readonly title: string;
  readonly kind: string;
  readonly option: Readonly<Record<string, unknown>>;
}

/** `2 min ago`-style age of an ISO time, or `never` (for "schema refreshed"). */
export function formatAge(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return "never";
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return "never";
  const seconds = Math.max(0, Math.round((now - then) / 1000));
  if (seconds < 60) return "just now";
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return new Date(then).toISOString().slice(0, 10);
}

/** Where a data source lives, without credentials: `host:port/db`, a path, or its files. */
export function locationOf(source: Datasource): string {
  const config = source.config ?? {};
  const text = (key: string) => (typeof config[key] === "string" ? (config[key] as string) : "");
  if (source.kind === "postgres" || source.kind === "mysql") {
    const port = config.port === undefined || config.port === null ? "" : `:${String(config.port)}`;
    const database = text("database");
    return `${text("host")}${port}${database ? `/${database}` : ""}`;
  }
  if (source.kind === "file") {
    const files = Array.isArray(config.files) ? (config.files as { path?: unknown }[]) : [];
    return files
      .map((file) => (typeof file.path === "string" ? (file.path.split("/").pop() ?? "") : ""))
      .filter(Boolean)
      .join(", ");
  }
  return text("path");
}

const NUMERIC = new Set(["integer", "number"]);

function isNumberColumn(table: TableLike, index: number): boolean {
  const type = table.types?.[index];
  if (type) return NUMERIC.has(type);
  return (
    table.rows.length > 0 &&
    table.rows.every((row) => row[index] === null || typeof row[index] === "number")
  );
}

/**
 * A chart for a table when the server recommended none: the first non-numeric column as the
 * categories (or the row number) and up to three numeric columns as bars, or a line for dates.
 * `null` when no column is numeric or there is nothing to draw.
 */
export function fallbackChart(table: TableLike): DrawnChart | null {
  if (table.rows.length === 0 || table.rows.length > 500) return null;
  const indexes = table.columns.map((_, index) => index);
  const numbers = indexes.filter((index) => isNumberColumn(table, index));
  const category = indexes.find((index) => !numbers.includes(index));
  const values = numbers.filter((index) => index !== category).slice(0, 3);
  if (values.length === 0) return null;
  const kind =
    category !== undefined &&
    (table.types?.[category] === "date" || table.types?.[category] === "datetime")
      ? "line"
      : "bar";
  const categories = table.rows.map((row, position) =>
    category === undefined ? String(position + 1) : String(row[category] ?? ""),
  );
  return {
    title: "",
    kind,
    option: {
      tooltip: { trigger: "axis" },
      legend: values.length > 1 ? {} : undefined,
      xAxis: {
        type: "category",
        name: category === undefined ? "" : table.columns[category],
        data: categories,
        axisLabel: categories.length <= 12 ? { interval: 0, hideOverlap: true } : {},
      },
      yAxis: { type: "value" },
      series: values.map((index) => ({
        name: table.columns[index],
        type: kind,
        data: table.rows.map((row) => row[index] ?? null),
      })),
    },
  };
}
