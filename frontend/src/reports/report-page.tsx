import { useState } from "react";
import { type Report, reportExportUrl, useDeleteReport, useReport } from "../api/reports";
import { PageHeader } from "../components/page-header";
import { Link, navigate, useParams } from "../routes/router";
import { ReportBody } from "./report-body";
import { ShareDialog } from "./share-dialog";
import "./reports.css";

function DeleteReportButton({ report }: { readonly report: Report }) {
  const remove = useDeleteReport();
  const [confirming, setConfirming] = useState(false);
  if (!confirming) {
    return (
      <button type="button" className="button button--ghost" onClick={() => setConfirming(true)}>
        Delete
      </button>
    );
  }
  return (
    <>
      <button type="button" className="button button--ghost" onClick={() => setConfirming(false)}>
        Keep it
      </button>
      <button
        type="button"
        className="button button--danger"
        disabled={remove.isPending}
        onClick={() => remove.mutate(report.id, { onSuccess: () => navigate("/reports") })}
      >
        Delete this report
      </button>
    </>
  );
}

function ReportFacts({ report }: { readonly report: Report }) {
  const facts = [
    `Created ${new Date(report.created_at).toLocaleString()}`,
    report.datasource ? `data source ${report.datasource}` : null,
    report.shared ? "shared by link" : null,
  ].filter(Boolean);
  return (
    <p className="muted report-facts">
      {facts.join(" · ")}
      {report.flow_id ? (
        <>
          {" · "}
          <Link to={`/flows/${encodeURIComponent(report.flow_id)}`}>open the flow</Link>
        </>
      ) : null}
    </p>
  );
}

/** One report: its narrative and charts, with share, HTML export and delete. */
export function ReportPage() {
  const reportId = useParams().reportId ?? "";
  const { data: report, error, isPending } = useReport(reportId);
  const [sharing, setSharing] = useState(false);
  const actions = report ? (
    <>
      <button type="button" className="button" onClick={() => setSharing(true)}>
        Share
      </button>
      <a className="button" href={reportExportUrl(report.id)} download>
        Export HTML
      </a>
      <DeleteReportButton report={report} />
    </>
  ) : null;
  return (
    <div className="page report-page">
      <nav className="breadcrumbs" aria-label="Breadcrumbs">
        <Link to="/reports">Reports</Link> /{" "}
        <span aria-current="page">{report?.title ?? reportId}</span>
      </nav>
      {error ? <p role="alert">{error.message}</p> : null}
      {isPending ? <p className="muted">Loading the report…</p> : null}
      {report ? (
        <>
          <PageHeader title={report.title} actions={actions} />
          <ReportFacts report={report} />
          <ReportBody summary={report.summary} charts={report.charts ?? []} />
          {sharing ? <ShareDialog report={report} onClose={() => setSharing(false)} /> : null}
        </>
      ) : null}
    </div>
  );
}

export default ReportPage;
