import { useSharedReport } from "../api/reports";
import { BrandMark } from "../components/brand-mark";
import { usePathname } from "../routes/router";
import { ReportBody } from "./report-body";
import "./reports.css";

/** The token of a share link path (`/r/<token>`). */
export const sharedToken = (pathname: string) =>
  decodeURIComponent(pathname.replace(/^\/r\//, "").split("/")[0] ?? "");

/** A shared report (`/r/<token>`): no login, no navigation, only the report while the link is live. */
export function SharedReportPage() {
  const token = sharedToken(usePathname());
  const { data: report, error, isPending } = useSharedReport(token);
  return (
    <div className="shared-report">
      <header className="shared-report__bar">
        <BrandMark />
        <span className="brand__name">Rivulet</span>
        <span className="muted">shared report</span>
      </header>
      <main className="page">
        {isPending ? <p className="muted">Loading the report…</p> : null}
        {error ? (
          <div role="alert" className="card">
            <h1 className="page-header__title">This report is not available</h1>
            <p>The link does not exist or was revoked by its owner.</p>
          </div>
        ) : null}
        {report ? (
          <>
            <h1 className="page-header__title">{report.title}</h1>
            <p className="muted report-facts">
              {new Date(report.created_at).toLocaleString()}
              {report.datasource ? ` · data source ${report.datasource}` : ""}
            </p>
            <ReportBody summary={report.summary} charts={report.charts} />
          </>
        ) : null}
      </main>
    </div>
  );
}

export default SharedReportPage;
