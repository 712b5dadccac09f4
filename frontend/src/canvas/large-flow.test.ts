import { beforeEach, describe, expect, it } from "vitest";
import { lookupFixture } from "../test/catalog-fixture";
import { currentDocument, useCanvasStore } from "./canvas-store";
import type { FlowDocument } from "./flow-document";
import { estimateLayout, graphShape, LARGE_FLOW } from "./large-flow";

const store = () => useCanvasStore.getState();

/** A chain of `count` core.delay nodes. */
function chain(count: number): FlowDocument {
  return {
    schema: "rivulet.flow/v1",
    id: "",
    name: "chain",
    description: "",
    version: 0,
    nodes: Array.from({ length: count }, (_, index) => ({
      id: `delay_${index + 1}`,
      operator: "core.delay",
      operator_version: 1,
      disabled: false,
      params: { seconds: 0 },
      position: { x: index * 300, y: 0 },
    })),
    edges: Array.from({ length: count - 1 }, (_, index) => ({
      id: `delay_${index + 1}.value-delay_${index + 2}.value`,
      source: `delay_${index + 1}`,
      source_port: "value",
      target: `delay_${index + 2}`,
      target_port: "value",
    })),
  };
}

describe("large flows", () => {
  beforeEach(() => store().reset());

  it("estimates a node's size and handles from its port rows", () => {
    const layout = estimateLayout({
      inputs: [{ name: "value", type: "T", required: true, description: "" }],
      outputs: [
        { name: "value", type: "T", required: true, description: "" },
        { name: "count", type: "Int", required: true, description: "" },
      ],
    });
    expect(layout.width).toBe(220);
    expect(layout.height).toBe(60 + 3 * 26);
    expect(layout.handles.map((handle) => [handle.type, handle.id, handle.x, handle.y])).toEqual([
      ["target", "value", -6, 61],
      ["source", "value", 212, 87],
      ["source", "count", 212, 113],
    ]);
  });

  it("loads a small flow without estimates: React Flow measures every node", () => {
    store().load(chain(3), lookupFixture);
    expect(store().nodes.every((node) => !node.handles && !node.measured)).toBe(true);
  });

  it("loads a large flow with estimated sizes that never equal a measured one", () => {
    store().load(chain(LARGE_FLOW), lookupFixture);
    const [first] = store().nodes;
    expect(first?.handles?.map((handle) => handle.id)).toEqual(["value", "value"]);
    expect(first?.measured).toEqual({ width: 220.5, height: 112.5 });
    // The estimates never reach the document.
    expect(JSON.stringify(currentDocument())).not.toContain("handles");
    expect(store().dirty).toBe(false);
  });

  it("drops a node's estimate once React Flow has measured it", () => {
    store().load(chain(LARGE_FLOW), lookupFixture);
    store().onNodesChange([
      { type: "dimensions", id: "delay_1", dimensions: { width: 231, height: 110 } },
    ]);
    const [measured, other] = store().nodes;
    expect(measured?.handles).toBeUndefined();
    expect(measured?.measured).toEqual({ width: 231, height: 110 });
    expect(other?.handles).toHaveLength(2);
  });

  it("re-estimates a node not drawn yet when its ports change, not a measured one", () => {
    store().load(chain(LARGE_FLOW), lookupFixture);
    store().onNodesChange([
      { type: "dimensions", id: "delay_1", dimensions: { width: 231, height: 110 } },
    ]);
    const ports = {
      inputs: [
        { name: "a", type: "Text", required: true, description: "" },
        { name: "b", type: "Text", required: true, description: "" },
      ],
      outputs: [{ name: "text", type: "Text", required: true, description: "" }],
    };
    store().setPorts(
      new Map([
        ["delay_1", ports],
        ["delay_2", ports],
      ]),
    );
    const [measured, estimated] = store().nodes;
    expect(measured?.handles).toBeUndefined();
    expect(estimated?.handles?.map((handle) => handle.id)).toEqual(["a", "b", "text"]);
    expect(estimated?.measured?.height).toBe(60 + 3 * 26 + 0.5);
  });

  it("keys the graph's shape on ports and connections, not on positions or sizes", () => {
    store().load(chain(3), lookupFixture);
    const before = graphShape(store().nodes, store().edges);
    store().onNodesChange([
      { type: "position", id: "delay_1", position: { x: 40, y: 40 } },
      { type: "dimensions", id: "delay_2", dimensions: { width: 231, height: 110 } },
    ]);
    expect(graphShape(store().nodes, store().edges)).toBe(before);
    const ports = { inputs: [], outputs: [] };
    store().setPorts(new Map([["delay_3", ports]]));
    const after = graphShape(store().nodes, store().edges);
    expect(after).not.toBe(before);
    store().onEdgesChange([{ type: "remove", id: store().edges[0]?.id ?? "" }]);
    expect(graphShape(store().nodes, store().edges)).not.toBe(after);
  });

  it("shows a template's stored edges before its ports are resolved", () => {
    store().load(
      {
        ...chain(1),
        nodes: [
          ...(chain(1).nodes ?? []),
          {
            id: "template_1",
            operator: "core.template",
            operator_version: 1,
            disabled: false,
            params: { template: "{{ question }}" },
            position: { x: 300, y: 0 },
          },
        ],
        edges: [
          {
            id: "delay_1.value-template_1.question",
            source: "delay_1",
            source_port: "value",
            target: "template_1",
            target_port: "question",
          },
        ],
      },
      lookupFixture,
    );
    const template = store().nodes.find((node) => node.id === "template_1");
    expect(template?.type === "operator" && template.data.ports).toMatchObject({
      inputs: [{ name: "question", type: "Any", required: false }],
      outputs: [{ name: "text", type: "Text" }],
    });
    // A node whose ports do not depend on its params keeps the catalog's.
    const delay = store().nodes.find((node) => node.id === "delay_1");
    expect(delay?.type === "operator" && delay.data.ports.outputs.map((port) => port.name)).toEqual(
      ["value"],
    );
  });
});
