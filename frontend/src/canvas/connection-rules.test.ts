import { describe, expect, it } from "vitest";
import { lookupFixture } from "../test/catalog-fixture";
import type { CanvasEdge } from "./canvas-types";
import { checkConnection, resolvePortTypes, wouldCreateCycle } from "./connection-rules";
import { emptyFlowDocument, type FlowNode, fromFlowDocument } from "./flow-document";
import { formatPortType } from "./port-types";

const node = (id: string, operator: string): FlowNode => ({
  id,
  operator,
  operator_version: 1,
  disabled: false,
});

function graph(nodes: FlowNode[], edges: [string, string, string, string][] = []) {
  return fromFlowDocument(
    {
      ...emptyFlowDocument(),
      nodes,
      edges: edges.map(([source, source_port, target, target_port], index) => ({
        id: `e${index}`,
        source,
        source_port,
        target,
        target_port,
      })),
    },
    lookupFixture,
  );
}

const connect = (source: string, sourceHandle: string, target: string, targetHandle: string) => ({
  source,
  sourceHandle,
  target,
  targetHandle,
});

describe("checkConnection", () => {
  it("accepts compatible ports and binds generics through the graph", () => {
    const g = graph(
      [node("c", "core.constant"), node("d", "core.delay"), node("o", "core.output")],
      [["c", "value", "d", "value"]],
    );
    expect(checkConnection(connect("d", "value", "o", "value"), g.nodes, g.edges).ok).toBe(true);
    const resolved = resolvePortTypes(g.nodes, g.edges);
    expect(
      formatPortType(resolved.get("d")?.outputs.value ?? { name: "?", args: [], variable: false }),
    ).toBe("Json");
  });

  it("refuses incompatible types with a reason naming both ports and types", () => {
    const g = graph([node("h", "core.http_request"), node("t", "test.table")]);
    const verdict = checkConnection(connect("h", "status", "t", "table"), g.nodes, g.edges);
    expect(verdict).toMatchObject({
      ok: false,
      reason: "h.status gives Int but t.table expects Table.",
    });
  });

  it("uses the binding of a generic made by upstream connections", () => {
    const g = graph(
      [node("h", "core.http_request"), node("d", "core.delay"), node("t", "test.table")],
      [["h", "status", "d", "value"]],
    );
    const verdict = checkConnection(connect("d", "value", "t", "table"), g.nodes, g.edges);
    expect(verdict.reason).toBe("d.value gives Int but t.table expects Table.");
  });

  it("reports a stream collected into a value as allowed with a coercion", () => {
    const g = graph([node("s", "test.stream"), node("h", "core.http_request")]);
    expect(checkConnection(connect("s", "tokens", "h", "url"), g.nodes, g.edges)).toMatchObject({
      ok: true,
      coercion: "collect",
    });
  });

  it("refuses cycles and self loops", () => {
    const g = graph(
      [node("a", "core.delay"), node("b", "core.delay")],
      [["a", "value", "b", "value"]],
    );
    expect(checkConnection(connect("b", "value", "a", "value"), g.nodes, g.edges).reason).toBe(
      "Connecting b → a would create a cycle.",
    );
    expect(checkConnection(connect("a", "value", "a", "value"), g.nodes, g.edges).reason).toBe(
      "A node cannot feed itself.",
    );
  });

  it("refuses unknown ports", () => {
    const g = graph([node("c", "core.constant"), node("o", "core.output")]);
    expect(checkConnection(connect("c", "nope", "o", "value"), g.nodes, g.edges).reason).toBe(
      "c has no output 'nope'.",
    );
  });

  it("ignores the edge a new connection replaces on the same input", () => {
    const g = graph(
      [node("h", "core.http_request"), node("d", "core.delay"), node("c", "core.constant")],
      [["h", "status", "d", "value"]],
    );
    // d.value is bound to Int by h; replacing that writer with a Json constant re-binds it.
    expect(checkConnection(connect("c", "value", "d", "value"), g.nodes, g.edges).ok).toBe(true);
  });
});

describe("wouldCreateCycle", () => {
  it("follows outgoers transitively", () => {
    const g = graph(
      [node("a", "core.delay"), node("b", "core.delay"), node("c", "core.delay")],
      [
        ["a", "value", "b", "value"],
        ["b", "value", "c", "value"],
      ],
    );
    const edges: CanvasEdge[] = g.edges;
    expect(wouldCreateCycle("c", "a", g.nodes, edges)).toBe(true);
    expect(wouldCreateCycle("a", "c", g.nodes, edges)).toBe(false);
  });
});
