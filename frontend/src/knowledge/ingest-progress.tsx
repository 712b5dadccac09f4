import type { IngestJob } from "../api/knowledge";
import { percent } from "./format";
import { isJobFinished } from "./use-ingest-job";

function Bar({ label, done, total }: { label: string; done: number; total: number }) {
  const value = percent(done, total);
  return (
    <div className="ingest-progress__row">
      <span className="ingest-progress__label">{label}</span>
      <div
        className="ingest-progress__track"
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={total}
        aria-valuenow={done}
        aria-valuetext={`${done} of ${total}`}
      >
        <div className="ingest-progress__bar" style={{ width: `${value}%` }} />
      </div>
      <span className="ingest-progress__count">
        {done}/{total}
      </span>
    </div>
  );
}

function Report({ report }: { readonly report: NonNullable<IngestJob["report"]> }) {
  return (
    <table className="table ingest-report" aria-label="Ingestion report">
      <thead>
        <tr>
          <th>Document</th>
          <th>Result</th>
          <th>Chunks</th>
          <th>Error</th>
        </tr>
      </thead>
      <tbody>
        {report.items.map((item) => (
          <tr key={item.name} data-item={item.name}>
            <td>{item.name}</td>
            <td>
              <span className={`ingest-report__status ingest-report__status--${item.status}`}>
                {item.status}
              </span>
            </td>
            <td>{item.chunks}</td>
            <td className="ingest-report__error">{item.error ?? ""}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A job's progress (documents and chunks done of total) and, once it has finished, its report. */
export function IngestProgressView({ job }: { readonly job: IngestJob }) {
  const { progress, report } = job;
  const finished = isJobFinished(job);
  const failed = report?.items.filter((item) => item.status === "failed").length ?? 0;
  return (
    <section className="ingest-progress" aria-label="Ingestion" aria-busy={!finished}>
      <div className="ingest-progress__summary" role="status">
        {finished
          ? `Ingestion ${job.status}: ${report?.items.length ?? progress.documents_total} documents, ${
              report?.chunks_added ?? progress.chunks_done
            } chunks added${failed ? `, ${failed} failed` : ""}${
              report ? ` in ${(report.duration_ms / 1000).toFixed(1)} s` : ""
            }`
          : `Ingesting${progress.document ? ` ${progress.document}` : ""}…`}
      </div>
      <Bar label="Documents" done={progress.documents_done} total={progress.documents_total} />
      <Bar label="Chunks" done={progress.chunks_done} total={progress.chunks_total} />
      {job.error ? <p className="form-error">{job.error}</p> : null}
      {report ? <Report report={report} /> : null}
    </section>
  );
}
