import { useState } from "react";
import { type Comparison, type ComparisonRow, useComparison } from "../api/evaluations";
import { PageHeader } from "../components/page-header";
import { Link, useParams } from "../routes/router";
import { percent, points, shortText } from "./format";
import "./evaluations.css";

function Verdict({ passed }: { readonly passed: boolean | null | undefined }) {
  if (passed === null || passed === undefined) return <span className="muted">—</span>;
  return (
    <span className={passed ? "verdict verdict--pass" : "verdict verdict--fail"}>
      {passed ? "pass" : "fail"}
    </span>
  );
}

function Side({
  label,
  comparison,
  side,
}: {
  label: string;
  comparison: Comparison;
  side: "a" | "b";
}) {
  const evaluation = comparison[side];
  const score = side === "a" ? comparison.summary.a_score : comparison.summary.b_score;
  const passed = side === "a" ? comparison.summary.a_passed : comparison.summary.b_passed;
  return (
    <section className="compare__side" aria-label={`Evaluation ${label}`}>
      <div className="muted">{label}</div>
      <div className="compare__name">{evaluation.name || evaluation.dataset}</div>
      <div className="muted">
        {evaluation.metric} · {evaluation.model ?? "no model"} · version{" "}
        {evaluation.flow_version ?? "—"} · {new Date(evaluation.created_at).toLocaleString()}
      </div>
      <div className="compare__score">
        {percent(score)} <span className="muted">({passed} passed)</span>
      </div>
    </section>
  );
}

function Row({ row }: { readonly row: ComparisonRow }) {
  const changed = row.status !== "same";
  return (
    <tr
      className={changed ? `compare__row compare__row--${row.status}` : "compare__row"}
      data-status={row.status}
    >
      <td>{row.index + 1}</td>
      <td className="compare__cell">{shortText(row.inputs)}</td>
      <td className="compare__cell">{shortText(row.expected)}</td>
      <td className="compare__cell">
        <Verdict passed={row.a_passed} /> {shortText(row.a_error ?? row.a_output)}
      </td>
      <td className="compare__cell">
        <Verdict passed={row.b_passed} /> {shortText(row.b_error ?? row.b_output)}
      </td>
      <td>{row.status}</td>
    </tr>
  );
}

/** Two evaluations side by side: the summary's deltas, then every item with its verdict on each side. */
export function ComparePage() {
  const { a = "", b = "" } = useParams();
  const { data: comparison, error, isPending } = useComparison(a, b);
  const [onlyChanges, setOnlyChanges] = useState(false);
  const summary = comparison?.summary;
  const rows = comparison?.rows.filter((row) => !onlyChanges || row.status !== "same") ?? [];
  return (
    <div className="page">
      <PageHeader
        title="Compare evaluations"
        description="Items aligned by their position in the dataset: fixed, broken and changed ones highlighted."
        actions={<Link to="/evaluations">All evaluations</Link>}
      />
      {error ? <p role="alert">{error.message}</p> : null}
      {isPending ? <p className="muted">Loading the comparison…</p> : null}
      {comparison && summary ? (
        <>
          <div className="compare__summary">
            <Side label="A (before)" comparison={comparison} side="a" />
            <section className="compare__delta" aria-label="Difference">
              <div className={summary.score_delta >= 0 ? "delta delta--up" : "delta delta--down"}>
                {points(summary.score_delta)}
              </div>
              <div className="muted">
                {summary.passed_delta >= 0 ? "+" : ""}
                {summary.passed_delta} passed
              </div>
              <ul className="compare__counts">
                <li>fixed {summary.fixed}</li>
                <li>broken {summary.broken}</li>
                <li>changed {summary.changed}</li>
                <li>same {summary.same}</li>
              </ul>
            </section>
            <Side label="B (after)" comparison={comparison} side="b" />
          </div>
          {summary.same_dataset ? null : (
            <p role="note" className="compare__warning">
              The two evaluations ran on different datasets: items are aligned by position only.
            </p>
          )}
          <label className="compare__filter">
            <input
              type="checkbox"
              checked={onlyChanges}
              onChange={(event) => setOnlyChanges(event.target.checked)}
            />{" "}
            Only items that changed
          </label>
          <table className="table compare__table" aria-label="Items side by side">
            <thead>
              <tr>
                <th>#</th>
                <th>Inputs</th>
                <th>Expected</th>
                <th>A</th>
                <th>B</th>
                <th>Change</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <Row key={row.index} row={row} />
              ))}
            </tbody>
          </table>
        </>
      ) : null}
    </div>
  );
}

export default ComparePage;
