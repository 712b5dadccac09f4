import { describe, expect, it } from "vitest";
import { fixtureOperator, lookupFixture } from "../test/catalog-fixture";
import { autoLayout } from "./auto-layout";
import { fromFlowDocument } from "./flow-document";

describe("autoLayout", () => {
  it("lays a chain out left to right with elkjs, leaving notes alone", async () => {
    const graph = fromFlowDocument(
      {
        schema: "rivulet.flow/v1",
        id: "",
        name: "x",
        description: "",
        version: 0,
        nodes: ["c", "b", "a"].map((id) => ({
          id,
          operator: fixtureOperator("core.delay").id,
          operator_version: 1,
          disabled: false,
          position: { x: 500, y: 500 },
        })),
        edges: [
          { id: "e1", source: "a", source_port: "value", target: "b", target_port: "value" },
          { id: "e2", source: "b", source_port: "value", target: "c", target_port: "value" },
        ],
        notes: [{ id: "n", kind: "note", text: "hi", width: 100, height: 50 }],
      },
      lookupFixture,
    );
    const positions = await autoLayout(graph.nodes, graph.edges);
    expect([...positions.keys()].sort()).toEqual(["a", "b", "c"]);
    const x = (id: string) => positions.get(id)?.x ?? Number.NaN;
    expect(x("a")).toBeLessThan(x("b"));
    expect(x("b")).toBeLessThan(x("c"));
    expect(x("a")).toBe(500);
  });
});
