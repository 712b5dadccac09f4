import { type FormEvent, type KeyboardEvent, useState } from "react";
import { useRunQuery } from "../api/datasources";
import { Field, InputField } from "../components/field";
import { QueryError, TableAndChart } from "./result-view";

const DEFAULT_MAX_ROWS = 200;

/** Run read-only SQL (through the guard) and see the rows and a chart; refusals show their rule. */
export function SqlPlayground({
  datasource,
  dialect,
  initialSql = "",
}: {
  readonly datasource: string;
  readonly dialect: string;
  readonly initialSql?: string;
}) {
  const run = useRunQuery(datasource);
  const [sql, setSql] = useState(initialSql);
  const [maxRows, setMaxRows] = useState(DEFAULT_MAX_ROWS);
  const submit = (event?: FormEvent) => {
    event?.preventDefault();
    if (sql.trim() && !run.isPending) run.mutate({ sql, max_rows: maxRows });
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) submit();
  };
  return (
    <section className="card" aria-labelledby="playground-title">
      <h2 id="playground-title" className="card__title">
        SQL playground
      </h2>
      <form className="data-form" onSubmit={submit} aria-label="Run SQL">
        <Field label="SQL" hint={`${dialect} · read-only · Ctrl+Enter runs`}>
          <textarea
            className="field__input field__input--code data-form__sql"
            rows={4}
            spellCheck={false}
            placeholder="SELECT …"
            value={sql}
            onChange={(event) => setSql(event.target.value)}
            onKeyDown={onKeyDown}
          />
        </Field>
        <div className="data-form__actions">
          <InputField
            label="Max rows"
            type="number"
            min={1}
            max={100000}
            value={maxRows}
            onValue={(value) => setMaxRows(Math.max(1, Number.parseInt(value, 10) || 1))}
          />
          <button
            type="submit"
            className="button button--primary"
            disabled={run.isPending || !sql.trim()}
          >
            {run.isPending ? "Running…" : "Run"}
          </button>
        </div>
      </form>
      {run.error ? <QueryError error={run.error} /> : null}
      {run.data && !run.error ? (
        <TableAndChart table={run.data.table} chart={run.data.chart} label="Query result" />
      ) : null}
    </section>
  );
}
