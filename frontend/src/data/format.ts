import type { Datasource } from "../api/datasources";

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
