import { useState } from "react";
import { useMe } from "../api/auth";
import { type Datasource, useDatasource, useTestDatasource } from "../api/datasources";
import { PageHeader } from "../components/page-header";
import { Link, navigate, useParams } from "../routes/router";
import { AskBox } from "./ask-box";
import { DatasourceEditDialog } from "./datasource-edit-dialog";
import { DeleteDatasourceButton, useCanManage } from "./delete-button";
import { locationOf } from "./format";
import { SchemaBrowser } from "./schema-browser";
import { SqlPlayground } from "./sql-playground";
import { TestResult } from "./test-result";
import "./data.css";

function DatasourceFacts({ source }: { readonly source: Datasource }) {
  const server = source.kind === "postgres" || source.kind === "mysql";
  const user = typeof source.config?.user === "string" ? source.config.user : "";
  const rows: [string, string][] = [
    ["Kind", `${source.kind} (${source.dialect})`],
    [server ? "Server" : source.kind === "file" ? "Files" : "Path", locationOf(source) || "—"],
  ];
  if (server) {
    rows.push(["User", user || "—"]);
    rows.push(["Password", source.has_password ? "password set" : "none"]);
  }
  return (
    <dl className="facts space-facts">
      {rows.map(([term, value]) => (
        <div key={term} className="facts__row">
          <dt>{term}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

function Actions({ source }: { readonly source: Datasource }) {
  const test = useTestDatasource();
  const { data: me } = useMe();
  const [editing, setEditing] = useState(false);
  if (!useCanManage(source)) return null;
  return (
    <span className="data-actions">
      {me?.is_admin ? (
        <button type="button" className="button button--ghost" onClick={() => setEditing(true)}>
          Edit
        </button>
      ) : null}
      {editing ? <DatasourceEditDialog source={source} onClose={() => setEditing(false)} /> : null}
      {test.data ? <TestResult result={test.data} /> : null}
      {test.error ? <span role="alert">{test.error.message}</span> : null}
      <button
        type="button"
        className="button button--ghost"
        disabled={test.isPending}
        onClick={() => test.mutate(source.name)}
      >
        {test.isPending ? "Testing…" : "Test connection"}
      </button>
      <DeleteDatasourceButton source={source} onDeleted={() => navigate("/data")} />
    </span>
  );
}

/** One data source: connection facts, test, schema browser, SQL playground and Ask. */
export function DatasourcePage() {
  const name = useParams().name ?? "";
  const { data: source, error, isPending } = useDatasource(name);
  return (
    <div className="page">
      <nav className="breadcrumbs" aria-label="Breadcrumbs">
        <Link to="/data">Data</Link> / <span aria-current="page">{name}</span>
      </nav>
      <PageHeader
        title={source?.name ?? name}
        description={source?.description || undefined}
        actions={source ? <Actions source={source} /> : undefined}
      />
      {error ? <p role="alert">{error.message}</p> : null}
      {isPending ? <p className="muted">Loading the data source…</p> : null}
      {source ? (
        <div className="space-page">
          <DatasourceFacts source={source} />
          <SchemaBrowser datasource={source.name} />
          <SqlPlayground datasource={source.name} dialect={source.dialect} />
          <AskBox datasource={source.name} />
        </div>
      ) : null}
    </div>
  );
}

export default DatasourcePage;
