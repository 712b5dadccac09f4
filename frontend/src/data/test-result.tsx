import type { DatasourceTest } from "../api/datasources";

/** A connection test's outcome: ok with latency and server version, or the error. */
export function TestResult({ result }: { readonly result: DatasourceTest }) {
  if (!result.ok) {
    return (
      <span className="data-test data-test--failed" role="status">
        failed: {result.error ?? "no answer"}
      </span>
    );
  }
  const parts = [
    "ok",
    `latency ${Math.round(result.latency_ms ?? 0)} ms`,
    result.server ? result.server : null,
    result.tables !== undefined ? `${result.tables} tables` : null,
  ].filter(Boolean);
  return (
    <span className="data-test data-test--ok" role="status">
      {parts.join(" · ")}
    </span>
  );
}
