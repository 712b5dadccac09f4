import { beforeEach, describe, expect, it } from "vitest";
import { useCanvasStore } from "./canvas-store";

const node = (id: string, x: number) => ({ id, position: { x, y: 0 }, data: { label: id } });

describe("canvas store", () => {
  beforeEach(() => useCanvasStore.getState().reset());

  it("connects nodes through the onConnect action", () => {
    const { load, onConnect } = useCanvasStore.getState();
    load([node("a", 0), node("b", 200)], []);
    onConnect({ source: "a", target: "b", sourceHandle: "text", targetHandle: "value" });

    const { edges } = useCanvasStore.getState();
    expect(edges).toHaveLength(1);
    expect(edges[0]).toMatchObject({ source: "a", target: "b", sourceHandle: "text" });
  });

  it("applies node changes immutably and keeps state serialisable", () => {
    const { load, onNodesChange } = useCanvasStore.getState();
    load([node("a", 0)], []);
    const before = useCanvasStore.getState().nodes;
    onNodesChange([{ type: "position", id: "a", position: { x: 40, y: 10 } }]);

    const after = useCanvasStore.getState().nodes;
    expect(after).not.toBe(before);
    expect(after[0]?.position).toEqual({ x: 40, y: 10 });
    expect(JSON.parse(JSON.stringify(after))).toEqual(after);
  });
});
