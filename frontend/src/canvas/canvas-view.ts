import type { FitViewOptions, XYPosition } from "@xyflow/react";
import { create } from "zustand";

/**
 * How the editor frames the canvas. The view is only fitted when a flow is opened or imported and
 * when the user asks (Fit, `F`); adding a node never moves the view.
 */

const MINIMAP_KEY = "rivulet.editor.minimap";

/** The minimap's size on screen (px). */
export const MINIMAP_WIDTH = 148;
export const MINIMAP_HEIGHT = 96;
/** Its distance from the canvas edge (React Flow's panel margin). */
const PANEL_MARGIN = 12;

/**
 * Opening a flow never zooms out below this: ports stay large enough to hit (a 26 px handle area is
 * 13 px on screen). A bigger flow opens at this zoom, centred; *Fit* shows all of it.
 */
export const MIN_OPEN_ZOOM = 0.5;
export const MAX_FIT_ZOOM = 1.1;

function readMinimap(): boolean {
  try {
    return window.localStorage.getItem(MINIMAP_KEY) !== "off";
  } catch {
    return true;
  }
}

interface CanvasViewState {
  readonly minimap: boolean;
  readonly toggleMinimap: () => void;
}

/** View preferences kept across reloads (local storage). */
export const useCanvasView = create<CanvasViewState>()((set, get) => ({
  minimap: readMinimap(),
  toggleMinimap: () => {
    const minimap = !get().minimap;
    try {
      window.localStorage.setItem(MINIMAP_KEY, minimap ? "on" : "off");
    } catch {
      // Storage may be unavailable (private mode): the toggle still works for this page.
    }
    set({ minimap });
  },
}));

/**
 * `fitView` options. The bottom padding keeps the fitted flow clear of the minimap (bottom right)
 * and the controls (bottom left). `open`: when a flow is opened or imported (a readable zoom floor);
 * `all`: the explicit Fit, which shows the whole flow however small.
 */
export function fitOptions(kind: "open" | "all", minimap = useCanvasView.getState().minimap) {
  const bottom = minimap ? MINIMAP_HEIGHT + 2 * PANEL_MARGIN : 56;
  const options: FitViewOptions = {
    padding: { top: "32px", left: "32px", right: "32px", bottom: `${bottom}px` },
    maxZoom: MAX_FIT_ZOOM,
    minZoom: kind === "open" ? MIN_OPEN_ZOOM : 0.1,
  };
  return options;
}

interface Box {
  readonly position: XYPosition;
}

/** Two nodes whose corners are this close (flow px) count as lying on top of each other. */
const NEAR = 40;
/** How far a new node moves down and right from an occupied spot. */
export const CASCADE = 48;

/**
 * Where a new node goes: `wanted`, or the first spot down and right of it (by CASCADE steps) whose
 * top-left corner is not within NEAR of an existing node's, so a node never lands on another.
 */
export function freePosition(wanted: XYPosition, nodes: readonly Box[]): XYPosition {
  const taken = (x: number, y: number) =>
    nodes.some(
      (node) => Math.abs(node.position.x - x) < NEAR && Math.abs(node.position.y - y) < NEAR,
    );
  let { x, y } = wanted;
  for (let step = 0; step < 200 && taken(x, y); step++) {
    x += CASCADE;
    y += CASCADE;
  }
  return { x, y };
}
