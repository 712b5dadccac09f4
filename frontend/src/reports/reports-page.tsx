import { reportPath, useReports } from "../api/reports";
import { EmptyState } from "../components/empty-state";
import { PageHeader } from "../components/page-header";
import { Link } from "../routes/router";
import "./reports.css";

const when = (iso: string) => new Date(iso).toLocaleString();

function ChartIcon() {
  return (
    <svg
      viewBox="0 0 24 24"
      width="28"
      height="28"
      aria-hidden="true"
      fill="none"
      stroke="currentColor"
    >
      <path d="M4 20V4M4 20h16M8 16v-5M12 16V8M16 16v-3" strokeWidth="1.8" strokeLinecap="round" />
    </svg>
  );
}

/** Reports made by runs (`chart.report`) or through the API: the caller's own (administrators: all). */
export function ReportsPage() {
  const { data: reports, error, isPending } = useReports();
  return (
    <div className="page">
      <PageHeader
        title="Reports"
        description="Charts and narratives saved by flows (chart.report): view, share a link, export HTML."
      />
      {error ? <p role="alert">{error.message}</p> : null}
      {isPending ? <p className="muted">Loading reports…</p> : null}
      {reports && reports.length === 0 ? (
        <EmptyState icon={<ChartIcon />} title="No reports yet">
          <p>
            Run a flow with a <code>chart.report</code> node (for example the “Ask your database”
            template) and its report appears here.
          </p>
        </EmptyState>
      ) : null}
      {reports && reports.length > 0 ? (
        <table className="table reports" aria-label="Reports">
          <thead>
            <tr>
              <th>Title</th>
              <th>Charts</th>
              <th>Data source</th>
              <th>Shared</th>
              <th>Updated</th>
            </tr>
          </thead>
          <tbody>
            {reports.map((report) => (
              <tr key={report.id} data-report={report.id}>
                <td>
                  <Link to={reportPath(report.id)} className="reports__link">
                    {report.title}
                  </Link>
                  {report.summary ? (
                    <div className="muted reports__summary">{report.summary}</div>
                  ) : null}
                </td>
                <td>
                  {report.chart_count}
                  {report.kinds.length ? (
                    <span className="muted"> ({[...new Set(report.kinds)].join(", ")})</span>
                  ) : null}
                </td>
                <td>{report.datasource ?? "—"}</td>
                <td>{report.shared ? "link live" : "—"}</td>
                <td className="muted">{when(report.updated_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}

export default ReportsPage;
