import { useState } from "react";
import {
  type EndpointRead,
  type OutcomeStats,
  useEndpoints,
  useUnpublish,
} from "../api/publishing";
import { FlowLabel, sharedNames } from "../components/flow-label";
import { CallAudit } from "./call-audit";
import { SnippetTabs } from "./snippet-tabs";

/** A duration as people read it: `640 ms`, `1.6 s`. */
export function formatMs(value: number | null | undefined): string {
  if (value === null || value === undefined) return "—";
  return value < 1_000 ? `${value.toFixed(0)} ms` : `${(value / 1_000).toFixed(1)} s`;
}

export const OUTCOME_LABELS: Record<OutcomeStats["outcome"], string> = {
  ok: "200 JSON",
  error: "errors",
  accepted: "202 accepted",
  stream: "SSE stream",
};

/** Calls, p50 and p95 per outcome: a 200 answer, an error, a 202 and a stream are timed apart. */
export function OutcomeStatsList({ rows }: { readonly rows: readonly OutcomeStats[] }) {
  if (!rows.length) return <span className="muted">no calls</span>;
  return (
    <ul className="outcome-stats">
      {rows.map((row) => (
        <li key={row.outcome} data-testid="endpoint-outcome" data-outcome={row.outcome}>
          <span className={`outcome-stats__name outcome-stats__name--${row.outcome}`}>
            {OUTCOME_LABELS[row.outcome]}
          </span>{" "}
          {row.calls} · p50 {formatMs(row.p50_ms)} · p95 {formatMs(row.p95_ms)}
        </li>
      ))}
    </ul>
  );
}

function EndpointRow({
  item,
  shared,
}: {
  readonly item: EndpointRead;
  readonly shared: ReadonlySet<string>;
}) {
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
          <FlowLabel
            flow={{ id: endpoint.flow_id, name: item.flow_name, updatedAt: item.flow_updated_at }}
            shared={shared}
          />{" "}
          v{endpoint.flow_version}
        </td>
        <td>{item.response === "sse" ? "SSE stream" : "JSON"}</td>
        <td>{stats.calls}</td>
        <td>{stats.errors}</td>
        <td>
          <OutcomeStatsList rows={item.stats?.by_outcome ?? []} />
        </td>
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
            <CallAudit slug={endpoint.slug} flowId={endpoint.flow_id} />
          </td>
        </tr>
      ) : null}
    </>
  );
}

/** Published endpoints with their call statistics. */
export function EndpointList() {
  const { data, error } = useEndpoints();
  const shared = sharedNames(
    (data ?? []).map((item) => ({ id: item.endpoint.flow_id, name: item.flow_name })),
  );
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
              <th>Latency by outcome (p50 · p95)</th>
              <th>Last call</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {data.map((item) => (
              <EndpointRow key={item.endpoint.slug} item={item} shared={shared} />
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}
