import { describe, expect, it } from "vitest";
import type { RunEvent } from "../api/runs";
import { applyRunEvent, applyRunEvents, emptyRunView } from "./run-state";

const base = { run_id: "r1", ts: 100 };
const events: RunEvent[] = [
  {
    ...base,
    type: "run_started",
    seq: 1,
    flow_id: "f",
    flow_version: 2,
    node_ids: ["a", "b"],
    trigger: "editor",
  },
  { ...base, type: "node_started", seq: 2, node_id: "a", attempt: 1 },
  { ...base, type: "node_chunk", seq: 3, node_id: "a", port: "text", data: "Hel", index: 0 },
  { ...base, type: "node_chunk", seq: 4, node_id: "a", port: "text", data: "lo", index: 1 },
  { ...base, type: "node_progress", seq: 5, node_id: "a", value: 1, max: 2 },
  {
    ...base,
    type: "node_output",
    seq: 6,
    node_id: "a",
    port: "text",
    preview: "Hello",
    truncated: false,
  },
  { ...base, type: "node_succeeded", seq: 7, node_id: "a", duration_ms: 12.5, cached: true },
  {
    ...base,
    type: "node_failed",
    seq: 8,
    node_id: "b",
    error: { code: "operator_error", message: "boom", details: {} },
    retrying: false,
  },
  {
    ...base,
    type: "run_finished",
    seq: 9,
    status: "failed",
    outputs: {},
    error: { code: "operator_error", message: "boom", details: {} },
    duration_ms: 30,
  },
];

describe("applyRunEvent", () => {
  it("tracks node states, streamed text, outputs and the run's end", () => {
    const view = applyRunEvents(emptyRunView("r1"), events);
    expect(view).toMatchObject({
      status: "failed",
      lastSeq: 9,
      flowVersion: 2,
      nodeIds: ["a", "b"],
    });
    expect(view.nodes.a).toMatchObject({
      status: "succeeded",
      cached: true,
      durationMs: 12.5,
      streamed: { text: "Hello" },
      outputs: { text: { preview: "Hello", truncated: false } },
      progress: { value: 1, max: 2 },
    });
    expect(view.nodes.b).toMatchObject({ status: "failed", error: { message: "boom" } });
    expect(view.events).toHaveLength(9);
  });

  it("lists every node as queued when the run starts", () => {
    const view = applyRunEvent(emptyRunView("r1"), events[0] as RunEvent);
    expect(view.nodes.b?.status).toBe("queued");
    expect(view.status).toBe("running");
  });

  it("drops events it has already seen, so a resubscription can overlap", () => {
    const first = applyRunEvents(emptyRunView("r1"), events.slice(0, 4));
    const resumed = applyRunEvents(first, events.slice(2));
    expect(resumed.nodes.a?.streamed.text).toBe("Hello");
    expect(resumed.events.map((event) => event.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("a retry shows the node running again; cancellation marks running nodes cancelled", () => {
    const started = applyRunEvents(emptyRunView("r1"), events.slice(0, 2));
    const retrying = applyRunEvent(started, {
      ...base,
      type: "node_failed",
      seq: 3,
      node_id: "a",
      error: { code: "timeout", message: "slow", details: {} },
      retrying: true,
    });
    expect(retrying.nodes.a).toMatchObject({ status: "running", retrying: true });
    const cancelled = applyRunEvents(retrying, [
      { ...base, type: "run_cancelled", seq: 4, reason: "cancelled by user" },
      {
        ...base,
        type: "run_finished",
        seq: 5,
        status: "cancelled",
        outputs: {},
        error: null,
        duration_ms: 5,
      },
    ]);
    expect(cancelled).toMatchObject({ status: "cancelled", cancelRequested: true });
    expect(cancelled.nodes.a?.status).toBe("cancelled");
    expect(cancelled.nodes.b?.status).toBe("queued");
  });
});
