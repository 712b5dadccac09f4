import { useMemo, useState } from "react";
import {
  comparePath,
  type Evaluation,
  useDeleteEvaluation,
  useEvaluations,
} from "../api/evaluations";
import { EmptyState } from "../components/empty-state";
import { PageHeader } from "../components/page-header";
import { Link, navigate } from "../routes/router";
import { groupOf, passedOf, percent, scoreOf, summaryOf } from "./format";
import "./evaluations.css";

const when = (iso: string) => new Date(iso).toLocaleString();

function ScaleIcon() {
  return (
    <svg
      viewBox="0 0 24 24"
      width="28"
      height="28"
      aria-hidden="true"
      fill="none"
      stroke="currentColor"
    >
      <path
        d="M12 4v16M5 20h14M6 8h12M6 8l-3 6h6zM18 8l-3 6h6z"
        strokeWidth="1.6"
        strokeLinejoin="round"
        strokeLinecap="round"
      />
    </svg>
  );
}

/** The flow whose evaluations the page shows (`?flow=ID`), when the link named one. */
function flowFilter(): string | null {
  return new URLSearchParams(window.location.search).get("flow");
}

interface GroupProps {
  readonly title: string;
  readonly flowId: string | null;
  readonly evaluations: readonly Evaluation[];
  readonly selected: readonly string[];
  readonly onToggle: (id: string) => void;
}

function EvaluationGroup({ title, flowId, evaluations, selected, onToggle }: GroupProps) {
  const remove = useDeleteEvaluation();
  return (
    <section className="evaluations__group" aria-label={`Evaluations of ${title}`}>
      <h2 className="evaluations__flow">
        {flowId ? <Link to={`/flows/${encodeURIComponent(flowId)}`}>{title}</Link> : title}
      </h2>
      <table className="table evaluations__table">
        <thead>
          <tr>
            <th>
              <span className="visually-hidden">Compare</span>
            </th>
            <th>Evaluation</th>
            <th>Metric</th>
            <th>Model</th>
            <th>Version</th>
            <th>Score</th>
            <th>Passed</th>
            <th>Status</th>
            <th>Date</th>
            <th>
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {evaluations.map((evaluation) => {
            const label = evaluation.name || evaluation.dataset;
            return (
              <tr key={evaluation.id} data-evaluation={evaluation.id}>
                <td>
                  <input
                    type="checkbox"
                    aria-label={`Select ${label} (${evaluation.id}) for comparison`}
                    checked={selected.includes(evaluation.id)}
                    onChange={() => onToggle(evaluation.id)}
                  />
                </td>
                <td>
                  {label}
                  <div className="muted evaluations__id">{evaluation.id}</div>
                </td>
                <td>{evaluation.metric}</td>
                <td>{evaluation.model ?? "—"}</td>
                <td>{evaluation.flow_version ?? "—"}</td>
                <td className="evaluations__score">
                  {evaluation.status === "running" ? "…" : percent(scoreOf(evaluation))}
                  {summaryOf(evaluation).baseline_score !== undefined ? (
                    <div className="muted">
                      baseline {percent(Number(summaryOf(evaluation).baseline_score))}
                    </div>
                  ) : null}
                </td>
                <td>{passedOf(evaluation)}</td>
                <td>
                  <span className={`evaluations__status evaluations__status--${evaluation.status}`}>
                    {evaluation.status}
                  </span>
                </td>
                <td className="muted">{when(evaluation.created_at)}</td>
                <td>
                  <button
                    type="button"
                    className="button button--ghost"
                    aria-label={`Delete evaluation ${evaluation.id}`}
                    disabled={remove.isPending}
                    onClick={() => remove.mutate(evaluation.id)}
                  >
                    Delete
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}

/** Evaluations grouped by flow, newest first; pick two to compare them side by side. */
export function EvaluationsPage() {
  const [flowId] = useState(flowFilter);
  const { data: evaluations, error, isPending } = useEvaluations(flowId);
  const [selected, setSelected] = useState<readonly string[]>([]);
  const groups = useMemo(() => {
    const byGroup = new Map<string, Evaluation[]>();
    for (const evaluation of evaluations ?? []) {
      const key = groupOf(evaluation);
      byGroup.set(key, [...(byGroup.get(key) ?? []), evaluation]);
    }
    return [...byGroup.entries()];
  }, [evaluations]);
  const toggle = (id: string) =>
    setSelected((current) =>
      current.includes(id) ? current.filter((x) => x !== id) : [...current, id].slice(-2),
    );
  const compare = () => {
    const chosen = (evaluations ?? []).filter((evaluation) => selected.includes(evaluation.id));
    if (chosen.length !== 2) return;
    const [older, newer] = [...chosen].sort((x, y) => x.created_at.localeCompare(y.created_at));
    if (older && newer) navigate(comparePath(older.id, newer.id));
  };
  return (
    <div className="page">
      <PageHeader
        title="Evaluations"
        description="Flows scored on datasets (rivulet eval, or POST /api/evaluations): compare a change with the last run before publishing it."
        actions={
          <button
            type="button"
            className="button button--primary"
            disabled={selected.length !== 2}
            onClick={compare}
          >
            Compare selected ({selected.length}/2)
          </button>
        }
      />
      {flowId ? (
        <p className="muted">
          Flow <code>{flowId}</code> only — <Link to="/evaluations">show every flow</Link>
        </p>
      ) : null}
      {error ? <p role="alert">{error.message}</p> : null}
      {isPending ? <p className="muted">Loading evaluations…</p> : null}
      {evaluations && evaluations.length === 0 ? (
        <EmptyState icon={<ScaleIcon />} title="No evaluations yet">
          <p>
            Run <code>rivulet eval FLOW dataset.jsonl --metric exact</code> or{" "}
            <code>rivulet eval text2sql dataset.jsonl --datasource shop --model NAME</code>; each
            run is kept here.
          </p>
        </EmptyState>
      ) : null}
      {groups.map(([title, items]) => (
        <EvaluationGroup
          key={title}
          title={title}
          flowId={items[0]?.flow_id ?? null}
          evaluations={items}
          selected={selected}
          onToggle={toggle}
        />
      ))}
    </div>
  );
}

export default EvaluationsPage;
