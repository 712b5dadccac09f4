import { useEndpointCalls } from "../api/publishing";
import { Link } from "../routes/router";
import { formatMs, OUTCOME_LABELS } from "./endpoint-list";

/** The latest calls of an endpoint: who, when, status, outcome, duration, run (opened in the editor). */
export function CallAudit({ slug, flowId }: { readonly slug: string; readonly flowId?: string }) {
  const { data, error } = useEndpointCalls(slug);
  if (error) return <p className="form-error">{error.message}</p>;
  if (!data || data.length === 0) return <p className="muted">No calls yet.</p>;
  return (
    <table className="table" aria-label={`Recent calls of ${slug}`}>
      <thead>
        <tr>
          <th>When</th>
          <th>Caller</th>
          <th>Status</th>
          <th>Outcome</th>
          <th>Duration</th>
          <th>Run</th>
        </tr>
      </thead>
      <tbody>
        {data.map((call) => (
          <tr key={call.id ?? `${call.created_at}-${call.run_id}`}>
            <td>{call.created_at ? new Date(call.created_at).toLocaleString() : "—"}</td>
            <td>{call.caller}</td>
            <td>{call.status}</td>
            <td>{call.outcome ? OUTCOME_LABELS[call.outcome] : "—"}</td>
            <td>{formatMs(call.duration_ms)}</td>
            <td>
              {call.run_id && flowId ? (
                <Link to={`/flows/${flowId}?run=${call.run_id}`} title={call.run_id}>
                  <code>{call.run_id.slice(0, 8)}</code>
                </Link>
              ) : call.run_id ? (
                <code>{call.run_id.slice(0, 8)}</code>
              ) : (
                "—"
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
