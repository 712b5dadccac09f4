import { screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { EndpointRead } from "../api/publishing";
import { renderWithClient, stubFetchRoutes } from "../test/render-with-client";
import { EndpointList, formatMs } from "./endpoint-list";

function endpoint(slug: string, flowId: string, name: string): EndpointRead {
  return {
    endpoint: {
      slug,
      method: "POST",
      flow_id: flowId,
      flow_version: 2,
      trigger_node_id: "http",
      concurrency_limit: null,
      published_by: null,
      created_at: null,
      updated_at: null,
    },
    path: `/f/${slug}`,
    response: "json",
    fields: [],
    description: "",
    flow_name: name,
    flow_updated_at: "2026-12-01T10:00:00Z",
    stats: {
      calls: 0,
      errors: 0,
      p50_ms: null,
      p95_ms: null,
      last_call_at: null,
      by_outcome: [],
    },
  };
}

afterEach(() => vi.unstubAllGlobals());

describe("EndpointList", () => {
  it("shows flow names (same-named flows told apart) and latency per outcome", async () => {
    const first = endpoint("sum-a", "aaaa1111-x", "Summariser");
    const busy: EndpointRead = {
      ...first,
      stats: {
        calls: 9,
        errors: 2,
        p50_ms: 1.2,
        p95_ms: 1500,
        last_call_at: "2026-12-01T11:00:00Z",
        by_outcome: [
          { outcome: "ok", calls: 4, p50_ms: 812.4, p95_ms: 1640 },
          { outcome: "error", calls: 2, p50_ms: 0.8, p95_ms: 1.1 },
          { outcome: "accepted", calls: 1, p50_ms: 2.1, p95_ms: 2.1 },
          { outcome: "stream", calls: 2, p50_ms: 1250, p95_ms: 1790 },
        ],
      },
    };
    stubFetchRoutes({
      "/api/endpoints": [
        busy,
        endpoint("sum-b", "bbbb2222-y", "Summariser"),
        endpoint("other", "cccc", "Other"),
      ],
    });
    renderWithClient(<EndpointList />);
    const table = await screen.findByRole("table", { name: "Published endpoints" });
    const labels = within(table)
      .getAllByTestId("flow-label")
      .map((l) => l.textContent);
    expect(labels).toEqual(["Summariser · aaaa11", "Summariser · bbbb22", "Other"]);
    const rows = within(table)
      .getAllByTestId("endpoint-outcome")
      .map((row) => [row.dataset.outcome, row.textContent]);
    expect(rows).toEqual([
      ["ok", "200 JSON 4 · p50 812 ms · p95 1.6 s"],
      ["error", "errors 2 · p50 1 ms · p95 1 ms"],
      ["accepted", "202 accepted 1 · p50 2 ms · p95 2 ms"],
      ["stream", "SSE stream 2 · p50 1.3 s · p95 1.8 s"],
    ]);
    expect(within(table).getAllByText("no calls")).toHaveLength(2);
  });

  it("formats durations in ms below a second, in s above", () => {
    expect(formatMs(null)).toBe("—");
    expect(formatMs(640.2)).toBe("640 ms");
    expect(formatMs(1640)).toBe("1.6 s");
  });
});
