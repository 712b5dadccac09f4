import type {
  AskResult,
  ChartSpec,
  DataApiError,
  Table,
  Text2SQLAttempt,
} from "../api/datasources";
import { ChartView, TableView } from "../editor/output-view";

/** A table with the chart the server recommended for it (none when it sent none, or a `table` one). */
export function TableAndChart({
  table,
  chart,
  label,
}: {
  readonly table: Table;
  readonly chart?: ChartSpec | null;
  readonly label: string;
}) {
  const rows = table.rows.length;
  return (
    <section className="data-result" aria-label={label}>
      <p className="muted data-result__summary" role="status">
        {rows} {rows === 1 ? "row" : "rows"}
        {table.truncated ? " (truncated: the query had more)" : ""}
      </p>
      <TableView table={table} />
      {chart && chart.kind !== "table" ? (
        <figure className="data-result__chart" aria-label={`${label} chart`}>
          <ChartView chart={{ ...chart, option: chart.option ?? {} }} />
        </figure>
      ) : null}
    </section>
  );
}

/**
 * A failed query: a guard refusal names the rule it broke and why; a database error its reason.
 */
export function QueryError({ error }: { readonly error: Error }) {
  const failure = error as Partial<DataApiError>;
  if (failure.code === "sql_refused") {
    return (
      <div className="data-refusal" role="alert" data-rule={failure.rule ?? ""}>
        <strong>Refused by the SQL guard</strong>
        {failure.rule ? (
          <>
            {" "}
            (rule <code>{failure.rule}</code>)
          </>
        ) : null}
        : {failure.reason ?? failure.detail ?? error.message}
      </div>
    );
  }
  return (
    <div className="data-refusal data-refusal--error" role="alert">
      {error.message}
    </div>
  );
}

function AttemptsList({ attempts }: { readonly attempts: readonly Text2SQLAttempt[] }) {
  return (
    <ol className="data-attempts" aria-label="Attempts">
      {attempts.map((attempt) => (
        <li key={attempt.attempt} className="data-attempts__item">
          <span className={`badge${attempt.error ? " badge--error" : ""}`}>
            {attempt.attempt === 0 ? "first answer" : `repair ${attempt.attempt}`}
            {attempt.error ? ` · failed at ${attempt.stage ?? "?"}` : " · ok"}
          </span>
          <pre className="data-sql">{attempt.sql || attempt.raw}</pre>
          {attempt.error ? <p className="data-attempts__error">{attempt.error}</p> : null}
        </li>
      ))}
    </ol>
  );
}

/** Text2SQL's answer: the SQL (collapsible), its repairs, the rows and a chart. */
export function AskAnswer({
  answer,
  label = "Answer",
}: {
  readonly answer: AskResult;
  readonly label?: string;
}) {
  const { result, chart } = answer;
  const attempts = result.attempts ?? [];
  return (
    <div className="data-answer">
      <details className="data-answer__sql" open={!result.ok}>
        <summary>
          SQL{attempts.length > 1 ? ` (${attempts.length - 1} repaired)` : ""}
          {result.model ? <span className="muted"> · {result.model}</span> : null}
        </summary>
        <section aria-label="Generated SQL">
          <pre className="data-sql">{result.sql}</pre>
        </section>
        {attempts.length > 1 ? <AttemptsList attempts={attempts} /> : null}
      </details>
      {result.ok && result.table ? (
        <TableAndChart table={result.table} chart={chart} label={label} />
      ) : (
        <div className="data-refusal data-refusal--error" role="alert">
          No answer: {result.error ?? "the model's SQL did not run"}
        </div>
      )}
    </div>
  );
}
