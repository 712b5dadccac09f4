import type { Evaluation } from "../api/evaluations";

/** A share as a percentage with one decimal ("73.2%"). */
export const percent = (value: number) => `${(100 * value).toFixed(1)}%`;

/** A signed difference in percentage points ("+12.5 pts"). */
export const points = (delta: number) => `${delta >= 0 ? "+" : ""}${(100 * delta).toFixed(1)} pts`;

/** Mean score of an evaluation (0 while it has no summary yet). */
export const scoreOf = (evaluation: Evaluation) => Number(summaryOf(evaluation).score ?? 0);

/** The summary of an evaluation (empty while it runs). */
export const summaryOf = (evaluation: Evaluation): Record<string, unknown> =>
  evaluation.summary ?? {};

/** "passed/total" of an evaluation. */
export const passedOf = (evaluation: Evaluation) =>
  `${Number(summaryOf(evaluation).passed ?? 0)}/${Number(summaryOf(evaluation).total ?? 0)}`;

/** Where the evaluations of one flow are grouped: its id, or the Text2SQL pipeline for those without. */
export const groupOf = (evaluation: Evaluation) =>
  evaluation.flow_id ?? (evaluation.kind === "text2sql" ? "Text2SQL pipeline" : "Flow files");

/** Any JSON value as a short text. */
export function shortText(value: unknown, width = 120): string {
  const text = typeof value === "string" ? value : value == null ? "" : JSON.stringify(value);
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
}
