import type { XYPosition } from "@xyflow/react";
import type { ELK } from "elkjs/lib/elk-api";
import type { CanvasEdge, CanvasNode } from "./canvas-types";

let engine: Promise<ELK> | null = null;

/**
 * elkjs (about 1.4 MB of script) is loaded the first time a layout is asked for, not with the
 * editor: opening a flow never lays it out (the stored positions are used), so it would only slow
 * every open down.
 */
function loadElk(): Promise<ELK> {
  engine ??= import("elkjs/lib/elk.bundled.js").then(({ default: ElkEngine }) => new ElkEngine());
  return engine;
}

/**
 * Left-to-right layered layout of the operator nodes (elkjs); notes and groups stay where they are.
 * Returns the new top-left position of every laid-out node.
 */
export async function autoLayout(
  nodes: readonly CanvasNode[],
  edges: readonly CanvasEdge[],
): Promise<Map<string, XYPosition>> {
  const operators = nodes.filter((node) => node.type === "operator");
  const ids = new Set(operators.map((node) => node.id));
  const elk = await loadElk();
  const graph = await elk.layout({
    id: "root",
    layoutOptions: {
      "elk.algorithm": "layered",
      "elk.direction": "RIGHT",
      "elk.spacing.nodeNode": "40",
      "elk.layered.spacing.nodeNodeBetweenLayers": "80",
      "elk.layered.nodePlacement.strategy": "BRANDES_KOEPF",
    },
    children: operators.map((node) => ({
      id: node.id,
      width: node.measured?.width ?? node.width ?? 220,
      height: node.measured?.height ?? node.height ?? 120,
    })),
    edges: edges
      .filter((edge) => ids.has(edge.source) && ids.has(edge.target))
      .map((edge) => ({ id: edge.id, sources: [edge.source], targets: [edge.target] })),
  });
  const origin = operators.reduce(
    (min, node) => ({ x: Math.min(min.x, node.position.x), y: Math.min(min.y, node.position.y) }),
    { x: Number.POSITIVE_INFINITY, y: Number.POSITIVE_INFINITY },
  );
  // elk pads the graph; anchor the layout's top-left corner where the nodes' was.
  const children = graph.children ?? [];
  const minX = Math.min(...children.map((child) => child.x ?? 0));
  const minY = Math.min(...children.map((child) => child.y ?? 0));
  const positions = new Map<string, XYPosition>();
  for (const child of children) {
    positions.set(child.id, {
      x: origin.x + (child.x ?? 0) - minX,
      y: origin.y + (child.y ?? 0) - minY,
    });
  }
  return positions;
}
