import { renderHook, waitFor } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { OperatorPorts, PortsQuestion } from "../api/operators";
import { useCanvasStore } from "../canvas/canvas-store";
import type { FlowDocument } from "../canvas/flow-document";
import { catalogFixture, lookupFixture } from "../test/catalog-fixture";

const fetchManyPorts = vi.fn();

vi.mock("../api/operators", async (importOriginal) => ({
  ...(await importOriginal<typeof import("../api/operators")>()),
  useOperators: () => ({ data: catalogFixture }),
  fetchManyPorts: (...args: unknown[]) => fetchManyPorts(...args),
}));

/** How many nodes were asked about, over every request so far. */
const asked = () =>
  fetchManyPorts.mock.calls.reduce((sum, [questions]) => sum + (questions as unknown[]).length, 0);

const { useDynamicPorts } = await import("./use-dynamic-ports");

const portsFor = (variable: string): OperatorPorts => ({
  inputs: [{ name: variable, type: "Text", required: true, description: "" }],
  outputs: [{ name: "text", type: "Text", required: true, description: "" }],
  input_rules: [],
});

function templates(templatesById: Record<string, string>): FlowDocument {
  return {
    schema: "rivulet.flow/v1",
    id: "",
    name: "templates",
    description: "",
    version: 0,
    nodes: Object.entries(templatesById).map(([id, template], index) => ({
      id,
      operator: "core.template",
      operator_version: 1,
      disabled: false,
      params: { template },
      position: { x: index * 300, y: 0 },
    })),
    edges: [],
  };
}

describe("useDynamicPorts", () => {
  beforeEach(() => {
    useCanvasStore.getState().reset();
    fetchManyPorts.mockReset();
    fetchManyPorts.mockImplementation(async (questions: PortsQuestion[]) =>
      questions.map((q) => portsFor(String(q.params.template).replace(/\W/g, ""))),
    );
  });

  it("asks once per distinct params, in one request, and applies every answer in one store update", async () => {
    useCanvasStore
      .getState()
      .load(templates({ a: "{{ q }}", b: "{{ q }}", c: "{{ q }}", d: "{{ x }}" }), lookupFixture);
    let updates = 0;
    const unsubscribe = useCanvasStore.subscribe(() => updates++);
    renderHook(() => useDynamicPorts());
    await waitFor(() => expect(updates).toBe(1));
    unsubscribe();
    expect(fetchManyPorts).toHaveBeenCalledTimes(1);
    expect(asked()).toBe(2);
    const inputs = Object.fromEntries(
      useCanvasStore
        .getState()
        .nodes.map((node) => [
          node.id,
          node.type === "operator" ? node.data.ports.inputs.map((port) => port.name) : [],
        ]),
    );
    expect(inputs).toEqual({ a: ["q"], b: ["q"], c: ["q"], d: ["x"] });
  });

  it("asks again when a node's params change, and not when a node moves", async () => {
    useCanvasStore.getState().load(templates({ a: "{{ q }}" }), lookupFixture);
    renderHook(() => useDynamicPorts());
    await waitFor(() => expect(asked()).toBe(1));
    useCanvasStore
      .getState()
      .onNodesChange([{ type: "position", id: "a", position: { x: 50, y: 50 } }]);
    useCanvasStore.getState().updateParams("a", { template: "{{ other }}" });
    await waitFor(() => expect(asked()).toBe(2));
    await waitFor(() => {
      const [node] = useCanvasStore.getState().nodes;
      expect(node?.type === "operator" && node.data.ports.inputs[0]?.name).toBe("other");
    });
    // The move asked for nothing.
    expect(asked()).toBe(2);
  });
});
