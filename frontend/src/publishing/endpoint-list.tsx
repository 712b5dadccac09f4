import { useState } from "react";
import { type EndpointRead, useEndpoints, useUnpublish } from "../api/publishing";
import { CallAudit } from "./call-audit";
import { SnippetTabs } from "./snippet-tabs";

function formatMs(value: number | null | undefined): string {
  return value === null || value === undefined ? "—" : `${value.toFixed(0)} ms`;
}

function EndpointRow({ item }: { readonly item: EndpointRead }) {
  const [open, setOpen] = useState(false);
  const unpublish = useUnpublish();
  const { endpoint } = item;
  const stats = item.stats ?? { calls: 0, errors: 0 };
  return (
    <>
      <tr>
        <td>
          <code>
            {endpoint.method} {item.path}
          </code>
        </td>
        <td>
          {endpoint.flow_id.slice(0, 8)} v{endpoint.flow_version}
        </td>
        <td>{item.response === "sse" ? "SSE stream" : "JSON"}</td>
        <td>{stats.calls}</td>
        <td>{stats.errors}</td>
        <td>{formatMs(stats.p50_ms)}</td>
        <td>{stats.last_call_at ? new Date(stats.last_call_at).toLocaleString() : "never"}</td>
        <td className="table__actions">
          <button type="button" className="button button--ghost" onClick={() => setOpen(!open)}>
            {open ? "Hide" : "Call it"}
          </button>
          <button
            type="button"
            className="button button--ghost"
            onClick={() => unpublish.mutate(endpoint.flow_id)}
            disabled={unpublish.isPending}
          >
            Unpublish
          </button>
        </td>
      </tr>
      {open ? (
        <tr>
          <td colSpan={8}>
            <SnippetTabs endpoint={item} />
            <CallAudit slug={endpoint.slug} />
          </td>
        </tr>
      ) : null}
    </>
  );
}

/** Published endpoints with their call statistics. */
export function EndpointList() {
  const { data, error } = useEndpoints();
  return (
    <section className="card" aria-labelledby="endpoints-title">
      <h2 id="endpoints-title" className="card__title">
        Endpoints
      </h2>
      {error ? <p className="form-error">{error.message}</p> : null}
      {data && data.length === 0 ? <p className="muted">Nothing is published yet.</p> : null}
      {data && data.length > 0 ? (
        <table className="table" aria-label="Published endpoints">
          <thead>
            <tr>
              <th>Endpoint</th>
              <th>Flow</th>
              <th>Response</th>
              <th>Calls</th>
              <th>Errors</th>
              <th>p50</th>
              <th>Last call</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {data.map((item) => (
              <EndpointRow key={item.endpoint.slug} item={item} />
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}
