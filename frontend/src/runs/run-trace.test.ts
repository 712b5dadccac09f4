import { describe, expect, it } from "vitest";
import type { NodeRunRecord, RunEvent } from "../api/runs";
import { formatMs, type ModelCall, traceRows } from "./run-trace";

const node = (node_id: string, extra: Partial<NodeRunRecord> = {}): NodeRunRecord =>
  ({
    node_id,
    status: "succeeded",
    attempts: 1,
    cached: false,
    duration_ms: 5,
    ...extra,
  }) as NodeRunRecord;
const chunk = (node_id: string, seq: number) =>
  ({ type: "node_chunk", node_id, port: "tokens", data: "x", run_id: "r", seq, ts: 0 }) as RunEvent;
const call = (node_id: string, prompt: number, completion: number, ttft: number | null) =>
  ({
    node_id,
    model: "default",
    provider: "local_llamacpp",
    operation: "chat",
    status: "ok",
    prompt_tokens: prompt,
    completion_tokens: completion,
    latency_ms: 100,
    ttft_ms: ttft,
    origin: "run",
  }) as ModelCall;

describe("traceRows", () => {
  it("adds chunk counts, model calls and tokens per node in the run's order", () => {
    const rows = traceRows(
      [
        node("chat", { started_at: "2026-01-01T00:00:02Z" }),
        node("skipped", { status: "skipped" }),
        node("in", { cached: true, started_at: "2026-01-01T00:00:01Z" }),
      ],
      [chunk("chat", 3), chunk("chat", 4), chunk("other", 5)],
      // newest first, as the API lists them
      [call("chat", 30, 4, 80), call("chat", 20, 6, 50)],
      [{ id: "chat", operator: "llm.chat", label: null }],
    );
    expect(rows.map((row) => [row.node.node_id, row.chunks, row.calls])).toEqual([
      ["in", 0, 0],
      ["chat", 2, 2],
      ["skipped", 0, 0],
    ]);
    expect(rows[1]).toMatchObject({
      operator: "llm.chat",
      promptTokens: 50,
      completionTokens: 10,
      ttftMs: 50,
    });
    expect(rows[0]?.node.cached).toBe(true);
  });

  it("formats durations", () => {
    expect(formatMs(null)).toBe("");
    expect(formatMs(3.25)).toBe("3.3 ms");
    expect(formatMs(250)).toBe("250 ms");
    expect(formatMs(1534)).toBe("1.53 s");
  });
});
