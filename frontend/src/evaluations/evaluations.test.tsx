import { act, fireEvent, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import type { Comparison, Evaluation } from "../api/evaluations";
import { RouterOutlet } from "../routes/router";
import { stubApi } from "../test/knowledge-fixture";
import { renderWithClient } from "../test/render-with-client";
import { ComparePage } from "./compare-page";
import { EvaluationsPage } from "./evaluations-page";
import { points } from "./format";

const evaluation = (over: Partial<Evaluation>): Evaluation => ({
  id: "e1",
  name: "",
  kind: "flow",
  flow_id: "f1",
  flow_version: 3,
  dataset: "qa.jsonl",
  dataset_hash: "h1",
  metric: "exact",
  model: null,
  datasource: null,
  status: "succeeded",
  summary: { total: 4, passed: 2, score: 0.5, errors: 0 },
  items: [],
  error: null,
  owner_id: "u1",
  created_at: "2026-12-06T10:00:00Z",
  finished_at: "2026-12-06T10:01:00Z",
  ...over,
});

const older = evaluation({ id: "e1", flow_version: 3 });
const newer = evaluation({
  id: "e2",
  flow_version: 4,
  created_at: "2026-12-06T11:00:00Z",
  summary: { total: 4, passed: 3, score: 0.75, errors: 0 },
});
const text2sql = evaluation({
  id: "t1",
  kind: "text2sql",
  flow_id: null,
  flow_version: null,
  metric: "sql_execution",
  model: "qwen",
  dataset: "shop_text2sql.jsonl",
  summary: { total: 10, passed: 7, score: 0.7, baseline_score: 0.4, baseline_passed: 4 },
});

const routes = [
  { path: "/evaluations", component: EvaluationsPage },
  { path: "/evaluations/compare/:a/:b", component: ComparePage },
];
const Missing = () => <p>missing</p>;

function open(path: string) {
  window.history.replaceState(null, "", path);
  return renderWithClient(<RouterOutlet routes={routes} fallback={Missing} />);
}

afterEach(() => window.history.replaceState(null, "", "/"));

describe("EvaluationsPage", () => {
  it("groups evaluations by flow with score, metric, model and version, and compares two", async () => {
    const calls = stubApi({ "GET /api/evaluations": () => ({ items: [newer, older, text2sql] }) });
    open("/evaluations");
    const flow = await screen.findByRole("region", { name: "Evaluations of f1" });
    expect(within(flow).getByRole("link", { name: "f1" })).toHaveAttribute("href", "/flows/f1");
    const rows = within(flow).getAllByRole("row").slice(1);
    expect(rows.map((row) => row.getAttribute("data-evaluation"))).toEqual(["e2", "e1"]);
    expect(within(rows[0] as HTMLElement).getByText("75.0%")).toBeVisible();
    expect(within(rows[0] as HTMLElement).getByText("3/4")).toBeVisible();
    expect(within(rows[1] as HTMLElement).getByText("3")).toBeVisible();
    const pipeline = screen.getByRole("region", { name: "Evaluations of Text2SQL pipeline" });
    expect(within(pipeline).getByText("baseline 40.0%")).toBeVisible();
    expect(within(pipeline).getByText("qwen")).toBeVisible();

    const compare = screen.getByRole("button", { name: /Compare selected/ });
    expect(compare).toBeDisabled();
    fireEvent.click(screen.getByRole("checkbox", { name: /\(e2\)/ }));
    fireEvent.click(screen.getByRole("checkbox", { name: /\(e1\)/ }));
    expect(compare).toBeEnabled();
    act(() => fireEvent.click(compare));
    expect(window.location.pathname).toBe("/evaluations/compare/e1/e2"); // the older one first
    expect(calls[0]?.path).toBe("/api/evaluations");
  });

  it("asks the API for one flow's evaluations when the link names it", async () => {
    const calls = stubApi({ "GET /api/evaluations": () => ({ items: [older] }) });
    open("/evaluations?flow=f1");
    await screen.findByRole("region", { name: "Evaluations of f1" });
    expect(new URL(calls[0]?.request.url ?? "").searchParams.get("flow_id")).toBe("f1");
    expect(screen.getByRole("link", { name: "show every flow" })).toBeVisible();
  });

  it("explains how to make one when there is none", async () => {
    stubApi({ "GET /api/evaluations": () => ({ items: [] }) });
    open("/evaluations");
    expect(await screen.findByText("No evaluations yet")).toBeVisible();
  });
});

const comparison: Comparison = {
  a: older,
  b: newer,
  summary: {
    a_score: 0.5,
    b_score: 0.75,
    score_delta: 0.25,
    a_passed: 2,
    b_passed: 3,
    passed_delta: 1,
    fixed: 2,
    broken: 1,
    changed: 0,
    same: 1,
    same_dataset: false,
  },
  rows: [
    {
      index: 0,
      status: "same",
      inputs: { q: "2+2" },
      expected: "4",
      a_output: "4",
      b_output: "4",
      a_passed: true,
      b_passed: true,
      a_score: 1,
      b_score: 1,
      a_error: null,
      b_error: null,
    },
    {
      index: 1,
      status: "fixed",
      inputs: { q: "3+3" },
      expected: "6",
      a_output: "5",
      b_output: "6",
      a_passed: false,
      b_passed: true,
      a_score: 0,
      b_score: 1,
      a_error: null,
      b_error: null,
    },
    {
      index: 2,
      status: "broken",
      inputs: { q: "1+1" },
      expected: "2",
      a_output: "2",
      b_output: null,
      a_passed: true,
      b_passed: false,
      a_score: 1,
      b_score: 0,
      a_error: null,
      b_error: "the run failed: boom",
    },
    {
      index: 3,
      status: "fixed",
      inputs: { q: "0+0" },
      expected: "0",
      a_output: "1",
      b_output: "0",
      a_passed: false,
      b_passed: true,
      a_score: 0,
      b_score: 1,
      a_error: null,
      b_error: null,
    },
  ],
};

describe("ComparePage", () => {
  it("shows the deltas and each item's verdict on both sides, changes highlighted", async () => {
    const calls = stubApi({ "GET /api/evaluations/compare": () => comparison });
    open("/evaluations/compare/e1/e2");
    const table = await screen.findByRole("table", { name: "Items side by side" });
    const query = new URL(calls[0]?.request.url ?? "").searchParams;
    expect([query.get("a"), query.get("b")]).toEqual(["e1", "e2"]);
    expect(screen.getByLabelText("Difference")).toHaveTextContent("+25.0 pts");
    expect(screen.getByLabelText("Difference")).toHaveTextContent("fixed 2");
    expect(screen.getByLabelText("Evaluation B (after)")).toHaveTextContent("version 4");
    expect(screen.getByRole("note")).toHaveTextContent("different datasets");
    const rows = within(table).getAllByRole("row").slice(1);
    expect(rows.map((row) => row.getAttribute("data-status"))).toEqual([
      "same",
      "fixed",
      "broken",
      "fixed",
    ]);
    expect(rows[1]).toHaveClass("compare__row--fixed");
    expect(rows[0]).not.toHaveClass("compare__row--fixed");
    expect(within(rows[2] as HTMLElement).getByText(/the run failed: boom/)).toBeVisible();
    expect(within(rows[2] as HTMLElement).getAllByText("pass")).toHaveLength(1);

    fireEvent.click(screen.getByRole("checkbox", { name: "Only items that changed" }));
    expect(within(table).getAllByRole("row")).toHaveLength(1 + 3);
  });
});

describe("points", () => {
  it("signs the difference", () => {
    expect(points(0.153)).toBe("+15.3 pts");
    expect(points(-0.05)).toBe("-5.0 pts");
  });
});
