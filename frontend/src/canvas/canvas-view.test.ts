import { beforeEach, describe, expect, it } from "vitest";
import { fixtureOperator } from "../test/catalog-fixture";
import { useCanvasStore } from "./canvas-store";
import {
  CASCADE,
  fitOptions,
  freePosition,
  MIN_OPEN_ZOOM,
  MINIMAP_HEIGHT,
  useCanvasView,
} from "./canvas-view";

describe("freePosition", () => {
  it("keeps a free spot and moves off an occupied one, down and right", () => {
    const nodes = [{ position: { x: 100, y: 100 } }];
    expect(freePosition({ x: 400, y: 100 }, nodes)).toEqual({ x: 400, y: 100 });
    expect(freePosition({ x: 100, y: 100 }, nodes)).toEqual({ x: 100 + CASCADE, y: 100 + CASCADE });
    // Nearly on top counts as on top.
    expect(freePosition({ x: 110, y: 95 }, nodes)).toEqual({ x: 110 + CASCADE, y: 95 + CASCADE });
  });

  it("cascades past every occupied step", () => {
    const nodes = [0, 1, 2].map((step) => ({
      position: { x: step * CASCADE, y: step * CASCADE },
    }));
    expect(freePosition({ x: 0, y: 0 }, nodes)).toEqual({ x: 3 * CASCADE, y: 3 * CASCADE });
  });
});

describe("adding nodes", () => {
  beforeEach(() => useCanvasStore.getState().reset());

  it("never puts a new node exactly on an existing one", () => {
    const store = useCanvasStore.getState();
    const at = { x: 200, y: 120 };
    const ids = [1, 2, 3].map(() => store.addOperator(fixtureOperator("core.delay"), at));
    const positions = ids.map(
      (id) => useCanvasStore.getState().nodes.find((node) => node.id === id)?.position,
    );
    expect(positions).toEqual([
      { x: 200, y: 120 },
      { x: 200 + CASCADE, y: 120 + CASCADE },
      { x: 200 + 2 * CASCADE, y: 120 + 2 * CASCADE },
    ]);
    const note = store.addNote("note", at);
    expect(useCanvasStore.getState().nodes.find((node) => node.id === note)?.position).toEqual({
      x: 200 + 3 * CASCADE,
      y: 120 + 3 * CASCADE,
    });
  });
});

describe("canvas view preferences", () => {
  beforeEach(() => {
    window.localStorage.clear();
    useCanvasView.setState({ minimap: true });
  });

  it("remembers the minimap toggle", () => {
    useCanvasView.getState().toggleMinimap();
    expect(useCanvasView.getState().minimap).toBe(false);
    expect(window.localStorage.getItem("rivulet.editor.minimap")).toBe("off");
    useCanvasView.getState().toggleMinimap();
    expect(window.localStorage.getItem("rivulet.editor.minimap")).toBe("on");
  });

  it("fits with room for the minimap, and opens flows at a readable zoom", () => {
    const open = fitOptions("open", true);
    expect(open.minZoom).toBe(MIN_OPEN_ZOOM);
    expect(open.padding).toMatchObject({ bottom: `${MINIMAP_HEIGHT + 24}px` });
    expect(fitOptions("all", true).minZoom).toBeLessThan(MIN_OPEN_ZOOM);
    expect(fitOptions("all", false).padding).toMatchObject({ bottom: "56px" });
  });
});
