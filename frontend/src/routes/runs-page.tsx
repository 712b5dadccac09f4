import { ThumbsDown, ThumbsUp } from "lucide-react";
import { useRunList } from "../api/runs";
import { FlowLabel, sharedNames } from "../components/flow-label";
import { PageHeader } from "../components/page-header";
import { RunsEmptyState } from "../runs/runs-empty-state";
import { Link } from "./router";

function duration(started?: string | null, finished?: string | null): string {
  if (!started || !finished) return "";
  const ms = new Date(finished).getTime() - new Date(started).getTime();
  return ms < 1_000 ? `${ms} ms` : `${(ms / 1_000).toFixed(1)} s`;
}

/** Every run, newest first; opening one shows it in the editor, replayed (and followed if live); Trace opens its timings. */
export function RunsPage() {
  const { data: runs, isPending, error } = useRunList(null);
  const flows = (runs ?? []).map((run) => ({ id: run.flow_id, name: run.flow_name }));
  const shared = sharedNames(flows);
  return (
    <div className="page">
      <PageHeader title="Runs" description="History and live progress of every flow run." />
      {error ? <p className="field__error">{error.message}</p> : null}
      {isPending ? <p className="muted">Loading…</p> : null}
      {!isPending && !runs?.length ? <RunsEmptyState /> : null}
      {runs?.length ? (
        <ul className="flow-list__items" data-testid="runs-list">
          {runs.map((run) => (
            <li key={run.id} className="flow-list__item card">
              <span className={`status-badge status-badge--${run.status}`}>{run.status}</span>
              <Link to={`/flows/${run.flow_id}?run=${run.id}`} className="flow-list__main">
                <strong>
                  <FlowLabel
                    flow={{ id: run.flow_id, name: run.flow_name, updatedAt: run.flow_updated_at }}
                    shared={shared}
                  />{" "}
                  · v{run.flow_version}
                </strong>
                <span className="muted">
                  {new Date(run.created_at).toLocaleString()} · {run.trigger}
                  {duration(run.started_at, run.finished_at)
                    ? ` · ${duration(run.started_at, run.finished_at)}`
                    : ""}
                  {run.error ? ` · ${run.error.message}` : ""}
                </span>
              </Link>
              {run.feedback ? (
                <span
                  className={`run-feedback run-feedback--${run.feedback}`}
                  title={
                    run.feedback === "up" ? "Rated good in a chat app" : "Rated bad in a chat app"
                  }
                  data-testid="run-feedback"
                >
                  {run.feedback === "up" ? (
                    <ThumbsUp size={14} aria-label="Rated good" />
                  ) : (
                    <ThumbsDown size={14} aria-label="Rated bad" />
                  )}
                </span>
              ) : null}
              <Link
                to={`/runs/${run.id}`}
                className="button button--ghost"
                data-testid="run-trace-link"
              >
                Trace
              </Link>
              <code className="run-panel__id">{run.id.slice(0, 12)}</code>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
