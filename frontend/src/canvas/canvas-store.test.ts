import { beforeEach, describe, expect, it } from "vitest";
import { fixtureOperator, lookupFixture } from "../test/catalog-fixture";
import { currentDocument, uniqueNodeId, useCanvasStore } from "./canvas-store";
import { copyFragment } from "./clipboard-fragment";
import { emptyFlowDocument } from "./flow-document";

const store = () => useCanvasStore.getState();

function twoNodes() {
  const constant = store().addOperator(fixtureOperator("core.constant"), { x: 0, y: 0 });
  const output = store().addOperator(fixtureOperator("core.output"), { x: 300, y: 0 });
  return { constant, output };
}

describe("canvas store", () => {
  beforeEach(() => store().reset());

  it("adds operators with default params, catalog ports and unique ids", () => {
    const { constant } = twoNodes();
    const again = store().addOperator(fixtureOperator("core.constant"), { x: 0, y: 100 });
    expect([constant, again]).toEqual(["constant_1", "constant_2"]);
    const node = store().nodes.find((n) => n.id === constant);
    expect(node?.data).toMatchObject({
      operator: "core.constant",
      params: { value: null, type: "Json" },
      ports: { outputs: [{ name: "value", type: "Json" }] },
    });
    expect(store().dirty).toBe(true);
  });

  it("connects compatible ports and replaces an input's previous writer", () => {
    const { constant, output } = twoNodes();
    const other = store().addOperator(fixtureOperator("core.constant"), { x: 0, y: 200 });
    const link = (source: string) =>
      store().onConnect({ source, sourceHandle: "value", target: output, targetHandle: "value" });
    link(constant);
    link(other);
    expect(store().edges).toHaveLength(1);
    expect(store().edges[0]).toMatchObject({ id: `${other}.value-${output}.value`, source: other });
  });

  it("refuses incompatible connections and keeps the reason", () => {
    const http = store().addOperator(fixtureOperator("core.http_request"), { x: 0, y: 0 });
    const table = store().addOperator(fixtureOperator("test.table"), { x: 300, y: 0 });
    store().onConnect({
      source: http,
      sourceHandle: "status",
      target: table,
      targetHandle: "table",
    });
    expect(store().edges).toHaveLength(0);
    expect(store().refusal?.reason).toBe(
      `${http}.status gives Int but ${table}.table expects Table.`,
    );
  });

  it("undoes and redoes adds, connections and param edits", () => {
    const { constant, output } = twoNodes();
    store().onConnect({
      source: constant,
      sourceHandle: "value",
      target: output,
      targetHandle: "value",
    });
    store().updateParams(constant, { value: "h" });
    store().updateParams(constant, { value: "hi" }); // same field within a second: one step

    store().undo();
    expect(store().nodes[0]?.data).toMatchObject({ params: { value: null } });
    store().undo();
    expect(store().edges).toHaveLength(0);
    store().undo();
    expect(store().nodes.map((n) => n.id)).toEqual([constant]);

    store().redo();
    store().redo();
    expect(store().edges).toHaveLength(1);
    store().redo();
    expect(store().nodes[0]?.data).toMatchObject({ params: { value: "hi" } });
    store().redo(); // nothing left: no change
    expect(store().future).toHaveLength(0);
  });

  it("a new change after undo clears redo", () => {
    twoNodes();
    store().undo();
    expect(store().future).toHaveLength(1);
    store().addNote("note", { x: 0, y: 0 });
    expect(store().future).toHaveLength(0);
  });

  it("makes one undo step of a whole drag and keeps state serialisable", () => {
    const { constant } = twoNodes();
    const steps = store().past.length;
    store().onNodesChange([
      { type: "position", id: constant, position: { x: 5, y: 5 }, dragging: true },
    ]);
    store().onNodesChange([
      { type: "position", id: constant, position: { x: 40, y: 10 }, dragging: true },
    ]);
    store().onNodesChange([{ type: "position", id: constant, dragging: false }]);
    expect(store().past).toHaveLength(steps + 1);
    expect(store().nodes[0]?.position).toEqual({ x: 40, y: 10 });
    store().undo();
    expect(store().nodes[0]?.position).toEqual({ x: 0, y: 0 });
    expect(JSON.parse(JSON.stringify(store().nodes))).toEqual(store().nodes);
  });

  it("selection changes are neither undo steps nor edits", () => {
    store().load(emptyFlowDocument());
    store().addNote("note", { x: 0, y: 0 });
    store().markSaved({ ...emptyFlowDocument(), id: "f", version: 1 });
    const steps = store().past.length;
    store().onNodesChange([{ type: "select", id: "note_1", selected: true }]);
    expect(store().past).toHaveLength(steps);
    expect(store().dirty).toBe(false);
  });

  it("deletes the selection with its edges", () => {
    const { constant, output } = twoNodes();
    store().onConnect({
      source: constant,
      sourceHandle: "value",
      target: output,
      targetHandle: "value",
    });
    store().select([constant]);
    store().deleteSelected();
    expect(store().nodes.map((n) => n.id)).toEqual([output]);
    expect(store().edges).toHaveLength(0);
  });

  it("copies and pastes the selection as new nodes", () => {
    const { constant, output } = twoNodes();
    store().onConnect({
      source: constant,
      sourceHandle: "value",
      target: output,
      targetHandle: "value",
    });
    store().selectAll();
    const fragment = copyFragment(store().nodes, store().edges);
    store().paste(fragment, lookupFixture);
    expect(store().nodes.map((n) => n.id)).toEqual([constant, output, "constant_2", "output_2"]);
    expect(store().edges).toHaveLength(2);
    expect(
      store()
        .nodes.filter((n) => n.selected)
        .map((n) => n.id),
    ).toEqual(["constant_2", "output_2"]);
  });

  it("serialises to a flow document and back", () => {
    const { constant, output } = twoNodes();
    store().onConnect({
      source: constant,
      sourceHandle: "value",
      target: output,
      targetHandle: "value",
    });
    store().setMeta({ name: "Hello" });
    const doc = currentDocument();
    expect(doc).toMatchObject({ name: "Hello", nodes: [{ id: constant }, { id: output }] });
    store().load(doc, lookupFixture);
    expect(currentDocument()).toEqual(doc);
    expect(store().dirty).toBe(false);
    expect(store().past).toHaveLength(0);
  });

  it("markSaved records the server's id and version and clears dirty", () => {
    twoNodes();
    store().markSaved({ ...emptyFlowDocument(), id: "abc", version: 4 });
    expect(store()).toMatchObject({ dirty: false, meta: { id: "abc", version: 4 } });
  });
});

describe("uniqueNodeId", () => {
  it("numbers ids from the operator's last segment", () => {
    expect(uniqueNodeId("http-request", new Set(["http_request_1"]))).toBe("http_request_2");
  });
});
