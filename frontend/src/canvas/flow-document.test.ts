import { describe, expect, it } from "vitest";
import { lookupFixture } from "../test/catalog-fixture";
import { copyFragment, parseFragment, pasteFragment } from "./clipboard-fragment";
import {
  type FlowDocument,
  fromFlowDocument,
  parseFlowJson,
  toFlowDocument,
} from "./flow-document";

const doc: FlowDocument = {
  schema: "rivulet.flow/v1",
  id: "f1",
  name: "Greeting",
  description: "Says hello",
  version: 3,
  nodes: [
    {
      id: "greeting",
      operator: "core.constant",
      operator_version: 1,
      label: "Greeting",
      params: { value: "hi", type: "Text" },
      position: { x: 10, y: 20 },
      policy: { timeout_s: 5, retries: 2, retry_backoff_s: 1, on_error: "continue", cache: false },
      disabled: false,
    },
    {
      id: "out",
      operator: "core.output",
      operator_version: 1,
      label: null,
      params: {},
      position: { x: 300, y: 20 },
      disabled: true,
    },
  ],
  edges: [
    { id: "e1", source: "greeting", source_port: "value", target: "out", target_port: "value" },
  ],
  variables: [{ name: "api_key", type: "secret", required: true, default: null, description: "" }],
  metadata: { tags: ["demo"], template: null, source: null },
  viewport: { x: 1, y: 2, zoom: 0.5 },
  notes: [
    {
      id: "note_1",
      kind: "note",
      text: "Remember",
      position: { x: 0, y: 200 },
      width: 200,
      height: 100,
      color: "yellow",
      members: [],
    },
  ],
};

describe("flow document serialisation", () => {
  it("round-trips a document through the canvas unchanged", () => {
    const graph = fromFlowDocument(doc, lookupFixture);
    expect(toFlowDocument(graph)).toEqual(doc);
  });

  it("fills node ports from the catalog and keeps canvas data serialisable", () => {
    const graph = fromFlowDocument(doc, lookupFixture);
    const greeting = graph.nodes.find((node) => node.id === "greeting");
    expect(greeting?.type).toBe("operator");
    expect(greeting?.data).toMatchObject({ ports: { outputs: [{ name: "value", type: "Json" }] } });
    expect(graph.edges[0]).toMatchObject({ sourceHandle: "value", targetHandle: "value" });
    expect(JSON.parse(JSON.stringify(graph))).toEqual(graph);
  });

  it("records the nodes inside a group frame as its members", () => {
    const grouped: FlowDocument = {
      ...doc,
      notes: [
        {
          id: "group_1",
          kind: "group",
          text: "Inputs",
          position: { x: 0, y: 0 },
          width: 200,
          height: 200,
          color: null,
          members: [],
        },
      ],
    };
    const out = toFlowDocument(fromFlowDocument(grouped, lookupFixture));
    expect(out.notes?.[0]?.members).toEqual(["greeting"]);
  });

  it("imports a document or an API answer and refuses foreign schemas", () => {
    expect(parseFlowJson(JSON.stringify(doc)).name).toBe("Greeting");
    expect(parseFlowJson(JSON.stringify({ document: doc })).nodes).toHaveLength(2);
    expect(parseFlowJson('{"nodes": []}').name).toBe("Imported flow");
    expect(() => parseFlowJson('{"schema": "other/v9"}')).toThrow(/Unsupported flow schema/);
    expect(() => parseFlowJson("[1]")).toThrow();
  });
});

describe("clipboard fragments", () => {
  it("copies the selection with its inner edges and pastes it with fresh ids", () => {
    const graph = fromFlowDocument(doc, lookupFixture);
    const nodes = graph.nodes.map((node) => ({ ...node, selected: node.type === "operator" }));
    const fragment = parseFragment(JSON.stringify(copyFragment(nodes, graph.edges)));
    expect(fragment?.nodes.map((node) => node.id)).toEqual(["greeting", "out"]);
    expect(fragment?.edges).toHaveLength(1);

    const pasted = pasteFragment(
      fragment ?? { schema: "rivulet.clipboard/v1", nodes: [], edges: [], notes: [] },
      new Set(["greeting", "out"]),
      lookupFixture,
    );
    expect(pasted.nodes.map((node) => node.id)).toEqual(["greeting_1", "out_1"]);
    expect(pasted.nodes[0]?.position).toEqual({ x: 50, y: 60 });
    expect(pasted.edges[0]).toMatchObject({ source: "greeting_1", target: "out_1" });
  });

  it("ignores clipboard text that is not a fragment", () => {
    expect(parseFragment("hello")).toBeNull();
    expect(parseFragment('{"schema": "rivulet.flow/v1", "nodes": []}')).toBeNull();
  });
});
