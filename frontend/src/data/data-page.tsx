import { useState } from "react";
import { useMe } from "../api/auth";
import { type Datasource, useDatasources, useTestDatasource } from "../api/datasources";
import { EmptyState } from "../components/empty-state";
import { PageHeader } from "../components/page-header";
import { Link, navigate } from "../routes/router";
import { DatabaseIcon } from "./database-icon";
import { DatasourceDialog } from "./datasource-dialog";
import { DeleteDatasourceButton, useCanManage } from "./delete-button";
import { formatAge, locationOf } from "./format";
import { TestResult } from "./test-result";
import "./data.css";

/** The path of a data source's page. */
export const datasourcePath = (name: string) => `/data/sources/${encodeURIComponent(name)}`;
/** ChatExcel: upload a spreadsheet and ask it questions. */
export const CHAT_PATH = "/data/chat";

function TestButton({ source }: { readonly source: Datasource }) {
  const test = useTestDatasource();
  if (!useCanManage(source)) return null;
  return (
    <span className="data-row__test">
      <button
        type="button"
        className="button button--ghost button--small"
        aria-label={`Test ${source.name}`}
        disabled={test.isPending}
        onClick={() => test.mutate(source.name)}
      >
        {test.isPending ? "Testing…" : "Test"}
      </button>
      {test.data ? <TestResult result={test.data} /> : null}
      {test.error ? <span role="alert">{test.error.message}</span> : null}
    </span>
  );
}

/** Who owns a source: administrators (configured sources), you, or another user (an upload). */
export function ownerOf(source: Datasource, me: string | null | undefined): string {
  if (!source.owner_id) return "admins";
  if (source.owner_id === me) return "you";
  return `user ${source.owner_id.slice(0, 8)}`;
}

function DatasourceRow({
  source,
  me,
}: {
  readonly source: Datasource;
  readonly me?: string | null;
}) {
  return (
    <tr data-datasource={source.name}>
      <td>
        <Link to={datasourcePath(source.name)} className="spaces__link">
          {source.name}
        </Link>
        <div className="muted data-row__location">{locationOf(source)}</div>
      </td>
      <td>{source.kind}</td>
      <td>
        <code>{source.dialect}</code>
      </td>
      <td className="documents__number">{source.table_count ?? "—"}</td>
      <td className="muted">{formatAge(source.schema_refreshed_at)}</td>
      <td className="muted">{ownerOf(source, me)}</td>
      <td className="data-row__actions">
        <TestButton source={source} />
        <DeleteDatasourceButton source={source} />
      </td>
    </tr>
  );
}

/** Data sources: databases and uploaded files that flows query (sql.* operators) and people ask. */
export function DataPage() {
  const { data: sources, error, isPending } = useDatasources();
  const { data: me } = useMe();
  const [adding, setAdding] = useState(false);
  const actions = (
    <>
      <Link to={CHAT_PATH} className="button button--ghost">
        Chat with a spreadsheet
      </Link>
      {me?.is_admin ? (
        <button type="button" className="button button--primary" onClick={() => setAdding(true)}>
          Add data source
        </button>
      ) : null}
    </>
  );
  return (
    <div className="page">
      <PageHeader
        title="Data"
        description="Databases and files that flows query (sql.* operators): browse schemas, run SQL, ask in words."
        actions={actions}
      />
      {adding ? (
        <DatasourceDialog
          onClose={() => setAdding(false)}
          onCreated={(source) => navigate(datasourcePath(source.name))}
        />
      ) : null}
      {error ? <p role="alert">{error.message}</p> : null}
      {isPending ? <p className="muted">Loading data sources…</p> : null}
      {sources && sources.length === 0 ? (
        <EmptyState icon={<DatabaseIcon />} title="No data sources yet">
          <p>Add a database, or chat with a spreadsheet to make one from a file.</p>
        </EmptyState>
      ) : null}
      {sources && sources.length > 0 ? (
        <table className="table data-sources" aria-label="Data sources">
          <thead>
            <tr>
              <th>Name</th>
              <th>Kind</th>
              <th>Dialect</th>
              <th className="documents__number">Tables</th>
              <th>Refreshed</th>
              <th>Owner</th>
              <th>
                <span className="data-visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {sources.map((source) => (
              <DatasourceRow key={source.id} source={source} me={me?.user_id} />
            ))}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}

export default DataPage;
