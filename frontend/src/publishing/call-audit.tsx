import { useEndpointCalls } from "../api/publishing";

/** The latest calls of an endpoint: who, when, status, duration, run. */
export function CallAudit({ slug }: { readonly slug: string }) {
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
            <td>{call.duration_ms.toFixed(0)} ms</td>
            <td>{call.run_id ? <code>{call.run_id.slice(0, 8)}</code> : "—"}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
