import { useState } from "react";
import { type ColumnInfo, type TableInfo, useRefreshSchema, useSchema } from "../api/datasources";
import { formatAge } from "./format";

const sample = (value: unknown) =>
  value === null || value === undefined
    ? "NULL"
    : typeof value === "object"
      ? JSON.stringify(value)
      : String(value);

function ColumnRow({ column }: { readonly column: ColumnInfo }) {
  return (
    <tr data-column={column.name}>
      <td className="schema__column">
        <code>{column.name}</code>
        {column.primary_key ? (
          <span className="badge schema__badge schema__badge--pk" title="Primary key">
            PK
          </span>
        ) : null}
        {column.references ? (
          <span
            className="badge schema__badge schema__badge--fk"
            title={`References ${column.references}`}
          >
            FK → {column.references}
          </span>
        ) : null}
      </td>
      <td>
        <code className="schema__type">{column.type}</code>
        {column.nullable === false ? <span className="muted"> not null</span> : null}
      </td>
      <td className="muted">{column.comment}</td>
      <td className="schema__samples">
        {(column.samples ?? []).slice(0, 3).map((value, index) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: samples are positional.
          <code key={index} className="schema__sample">
            {sample(value)}
          </code>
        ))}
      </td>
    </tr>
  );
}

function TableEntry({
  table,
  open,
  onToggle,
}: {
  readonly table: TableInfo;
  readonly open: boolean;
  readonly onToggle: () => void;
}) {
  const columns = table.columns ?? [];
  return (
    <li className="schema__table" data-table={table.name}>
      <button type="button" className="schema__toggle" aria-expanded={open} onClick={onToggle}>
        <span className="schema__caret" aria-hidden="true">
          {open ? "▾" : "▸"}
        </span>
        <span className="schema__name">{table.name}</span>
        {table.kind === "view" ? <span className="badge">view</span> : null}
        <span className="muted schema__count">
          {table.row_count === null || table.row_count === undefined
            ? "? rows"
            : `${table.row_count.toLocaleString("en")} ${table.row_count === 1 ? "row" : "rows"}`}
          {" · "}
          {columns.length} columns
        </span>
      </button>
      {table.comment ? <p className="muted schema__comment">{table.comment}</p> : null}
      {open ? (
        <table className="table schema__columns" aria-label={`Columns of ${table.name}`}>
          <thead>
            <tr>
              <th>Column</th>
              <th>Type</th>
              <th>Comment</th>
              <th>Sample values</th>
            </tr>
          </thead>
          <tbody>
            {columns.map((column) => (
              <ColumnRow key={column.name} column={column} />
            ))}
          </tbody>
        </table>
      ) : null}
    </li>
  );
}

/** A data source's tables (row counts), their columns (types, keys, comments, samples); refresh. */
export function SchemaBrowser({ datasource }: { readonly datasource: string }) {
  const { data: schema, error, isPending } = useSchema(datasource);
  const refresh = useRefreshSchema(datasource);
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set());
  const toggle = (name: string) =>
    setOpen((current) => {
      const next = new Set(current);
      if (next.has(name)) next.delete(name);
      else next.add(name);
      return next;
    });
  const tables = schema?.tables ?? [];
  return (
    <section className="card" aria-labelledby="schema-title">
      <div className="card__header">
        <h2 id="schema-title" className="card__title">
          Schema
        </h2>
        <span className="muted">
          {schema ? `${tables.length} tables · refreshed ${formatAge(schema.refreshed_at)}` : ""}
        </span>
        <button
          type="button"
          className="button button--ghost button--small"
          disabled={refresh.isPending}
          onClick={() => refresh.mutate()}
        >
          {refresh.isPending ? "Refreshing…" : "Refresh schema"}
        </button>
      </div>
      {error ? <p role="alert">{error.message}</p> : null}
      {refresh.error ? <p role="alert">{refresh.error.message}</p> : null}
      {isPending ? <p className="muted">Reading the schema…</p> : null}
      {schema ? (
        <ul className="schema" aria-label="Tables">
          {tables.map((table) => (
            <TableEntry
              key={table.name}
              table={table}
              open={open.has(table.name)}
              onToggle={() => toggle(table.name)}
            />
          ))}
        </ul>
      ) : null}
    </section>
  );
}
