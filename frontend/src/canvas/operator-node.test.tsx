import { screen } from "@testing-library/react";
import { ReactFlow, ReactFlowProvider } from "@xyflow/react";
import { beforeEach, describe, expect, it } from "vitest";
import type { RunEvent } from "../api/runs";
import { useRunStore } from "../runs/run-store";
import { catalogFixture, fixtureOperator } from "../test/catalog-fixture";
import { renderWithClient, stubFetchRoutes } from "../test/render-with-client";
import { useCanvasStore } from "./canvas-store";
import { OperatorNode } from "./operator-node";

const nodeTypes = { operator: OperatorNode };

function renderCanvas() {
  const { nodes } = useCanvasStore.getState();
  return renderWithClient(
    <ReactFlowProvider>
      <div style={{ width: 800, height: 600 }}>
        <ReactFlow nodes={nodes} edges={[]} nodeTypes={nodeTypes} />
      </div>
    </ReactFlowProvider>,
  );
}

const event = (seq: number, body: Record<string, unknown>) =>
  ({ run_id: "r1", seq, ts: seq, ...body }) as RunEvent;

describe("OperatorNode", () => {
  beforeEach(() => {
    stubFetchRoutes({ "/api/operators": catalogFixture });
    useCanvasStore.getState().reset();
    useRunStore.getState().clear();
    useCanvasStore.getState().addOperator(fixtureOperator("test.stream"), { x: 0, y: 0 });
    useCanvasStore.getState().addOperator(fixtureOperator("core.delay"), { x: 300, y: 0 });
  });

  it("renders typed handles from the catalog and the server's diagnostics", async () => {
    useCanvasStore.getState().setDiagnostics([
      {
        code: "missing_required_input",
        message: "required input 'value' is not connected",
        node_id: "delay_1",
        path: "$.nodes[1]",
        severity: "error",
      },
    ]);
    renderCanvas();
    const delay = await screen.findByTestId("node-delay_1");
    expect(delay.querySelector('[data-handleid="value"].target')).not.toBeNull();
    expect(delay.querySelector('[data-handleid="value"].source')).not.toBeNull();
    expect(screen.getByTestId("node-stream_1").querySelector(".op-handle--stream")).not.toBeNull();
    expect(delay).toHaveTextContent("required input 'value' is not connected");
    expect(delay).toHaveAttribute("data-status", "idle");
  });

  it("shows live status, progress and streamed tokens, then cached results", async () => {
    const store = useRunStore.getState();
    store.show("r1", "f1");
    store.apply(
      event(1, {
        type: "run_started",
        flow_id: "f1",
        flow_version: 1,
        node_ids: ["stream_1", "delay_1"],
        trigger: "editor",
      }),
    );
    store.apply(event(2, { type: "node_started", node_id: "stream_1", attempt: 1 }));
    store.apply(event(3, { type: "node_progress", node_id: "stream_1", value: 1, max: 4 }));
    for (const [index, token] of ["Hel", "lo", " world"].entries()) {
      store.apply(
        event(4 + index, {
          type: "node_chunk",
          node_id: "stream_1",
          port: "tokens",
          data: token,
          index,
        }),
      );
    }
    store.apply(
      event(7, { type: "node_succeeded", node_id: "delay_1", duration_ms: 0, cached: true }),
    );
    renderCanvas();
    const streaming = await screen.findByTestId("node-stream_1");
    expect(streaming).toHaveAttribute("data-status", "running");
    expect(screen.getByTestId("node-stream")).toHaveTextContent("Hello world");
    expect(screen.getByTestId("node-progress").firstElementChild).toHaveStyle({ width: "25%" });
    expect(screen.getByTestId("node-delay_1")).toHaveAttribute("data-status", "cached");
    expect(screen.getByTestId("node-delay_1")).toHaveTextContent("cached");
  });

  it("shows the operator's icon (its category's when it names none)", async () => {
    renderCanvas();
    const delay = await screen.findByTestId("node-delay_1");
    // The fixture operators keep the SDK default `box`: the core category's icon.
    expect(delay.querySelector("[data-testid=node-icon] svg")).toHaveAttribute("data-icon", "box");
  });

  it("keeps long output inside the node, scrollable without zooming or dragging", async () => {
    const store = useRunStore.getState();
    store.show("r1", "f1");
    store.apply(
      event(1, {
        type: "run_started",
        flow_id: "f1",
        flow_version: 1,
        node_ids: ["stream_1", "delay_1"],
        trigger: "editor",
      }),
    );
    store.apply(
      event(2, {
        type: "node_chunk",
        node_id: "stream_1",
        port: "tokens",
        data: "word ".repeat(2_000),
        index: 0,
      }),
    );
    store.apply(
      event(3, {
        type: "node_failed",
        node_id: "delay_1",
        error: { code: "boom", message: "x".repeat(5_000) },
      }),
    );
    renderCanvas();
    for (const id of ["node-stream", "node-error"]) {
      const box = await screen.findByTestId(id);
      expect(box).toHaveClass("op-scroll", "nowheel", "nodrag");
    }
  });
});
