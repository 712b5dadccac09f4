import type { NodeHandle } from "@xyflow/react";
import type { OperatorRead, PortRead } from "../api/operators";
import type { CanvasEdge, CanvasNode, NodePorts, OperatorCanvasNode } from "./canvas-types";

/**
 * Large flows (hundreds of nodes). React Flow draws only the nodes and edges inside the view
 * (`onlyRenderVisibleElements`) — but a node it has never measured is always drawn once, to be
 * measured, so opening a 500-node flow would still mount, lay out and paint all 500 nodes before
 * the view could be fitted. Loading such a flow therefore gives every operator node an *estimated*
 * size and handle positions (from its port rows, as `.op-node` lays them out): React Flow culls the
 * nodes outside the view right away and fits the view on the estimates. A node is measured for real
 * when it is first drawn (the estimate is half a pixel off on purpose, so the measured size always
 * differs and its handles are measured from the DOM), and the estimate is dropped then
 * (`dropEstimate`). Estimates only ever place nodes that are not drawn yet: the culling box and the
 * far end of an edge into such a node.
 */

/** From this many nodes on, the canvas culls what is outside the view and estimates sizes on load. */
export const LARGE_FLOW = 150;

// `.op-node` (styles.css): a header, then one 26 px row per port (inputs first) from 55 px down,
// 14 px handles centred on the rows and on the left (inputs) and right (outputs) borders; 60 px
// plus the rows high, 220 px wide unless a row is longer. (Kept in step with styles.css by hand:
// a stale value only misplaces nodes that are not drawn yet.)
const CHROME = 60;
const FIRST_ROW = 55;
const ROW = 26;
const HANDLE = 14;
const handleTop = (row: number) => FIRST_ROW + ROW * row + (ROW - HANDLE) / 2;
const MIN_WIDTH = 220;
const MAX_WIDTH = 300;

function estimatedWidth(ports: NodePorts): number {
  let widest = 0;
  for (const port of [...ports.inputs, ...ports.outputs]) {
    widest = Math.max(widest, 40 + 7 * port.name.length + 6.3 * port.type.length);
  }
  return Math.min(MAX_WIDTH, Math.max(MIN_WIDTH, Math.round(widest)));
}

/** The size and handle boxes (relative to the node) an operator node with these ports gets. */
export function estimateLayout(ports: NodePorts): {
  readonly width: number;
  readonly height: number;
  readonly handles: NodeHandle[];
} {
  const width = estimatedWidth(ports);
  const rows = ports.inputs.length + ports.outputs.length;
  const handles: NodeHandle[] = [
    ...ports.inputs.map((port, index) => ({
      id: port.name,
      type: "target" as const,
      position: "left" as NodeHandle["position"],
      x: -HANDLE / 2 + 1,
      y: handleTop(index),
      width: HANDLE,
      height: HANDLE,
    })),
    ...ports.outputs.map((port, index) => ({
      id: port.name,
      type: "source" as const,
      position: "right" as NodeHandle["position"],
      x: width - HANDLE / 2 - 1,
      y: handleTop(ports.inputs.length + index),
      width: HANDLE,
      height: HANDLE,
    })),
  ];
  return { width, height: CHROME + ROW * rows, handles };
}

/** `node` with an estimated size and handles, unless React Flow measured it already. */
export function withEstimate(node: OperatorCanvasNode): OperatorCanvasNode {
  if (node.measured?.width && !node.handles) return node;
  const { width, height, handles } = estimateLayout(node.data.ports);
  return { ...node, measured: { width: width + 0.5, height: height + 0.5 }, handles };
}

/** Every operator node of a large flow with an estimate (see above); a small flow as it is. */
export function estimateLargeFlow(nodes: CanvasNode[]): CanvasNode[] {
  if (nodes.length < LARGE_FLOW) return nodes;
  return nodes.map((node) => (node.type === "operator" ? withEstimate(node) : node));
}

/** `node` without its estimated handles, once React Flow has measured it. */
export function dropEstimate<T extends CanvasNode>(node: T): T {
  if (!node.handles) return node;
  const { handles: _estimated, ...measured } = node;
  return measured as T;
}

const portIds = new WeakMap<NodePorts, number>();
let nextPortId = 0;

/**
 * A key that changes when a node's ports, the set of nodes or the connections change, not when a
 * node moves, is measured or is selected: what the port types inferred from the connections depend
 * on. Ports are compared by identity (they are replaced, never edited), so the key costs a lookup
 * per node instead of serialising every node's ports on every change.
 */
export function graphShape(nodes: readonly CanvasNode[], edges: readonly CanvasEdge[]): string {
  const parts: string[] = [];
  for (const node of nodes) {
    if (node.type !== "operator") {
      parts.push(node.id);
      continue;
    }
    let id = portIds.get(node.data.ports);
    if (id === undefined) {
      id = nextPortId++;
      portIds.set(node.data.ports, id);
    }
    parts.push(`${node.id}:${id}`);
  }
  for (const edge of edges) parts.push(edge.id);
  return parts.join("\n");
}

/**
 * The ports a node with params-dependent ports (`dynamic_inputs`/`dynamic_outputs`: a template's
 * variables) shows until `POST /api/operators/{id}/ports` answers: the catalog's, plus one `Any`
 * port for each stored edge end that names a port the catalog does not have. The edges of a flow
 * just opened are drawn at once instead of popping in when the answers arrive.
 */
export function withEdgePorts(
  nodes: CanvasNode[],
  edges: readonly CanvasEdge[],
  lookup: (operatorId: string) => OperatorRead | undefined,
): CanvasNode[] {
  const wanted = new Map<string, { inputs: Set<string>; outputs: Set<string> }>();
  const entry = (id: string) => {
    let found = wanted.get(id);
    if (!found) {
      found = { inputs: new Set(), outputs: new Set() };
      wanted.set(id, found);
    }
    return found;
  };
  for (const edge of edges) {
    if (edge.targetHandle) entry(edge.target).inputs.add(edge.targetHandle);
    if (edge.sourceHandle) entry(edge.source).outputs.add(edge.sourceHandle);
  }
  return nodes.map((node) => {
    if (node.type !== "operator") return node;
    const operator = lookup(node.data.operator);
    const ends = wanted.get(node.id);
    if (!operator || !ends || !(operator.dynamic_inputs || operator.dynamic_outputs)) return node;
    const { inputs, outputs } = node.data.ports;
    const extra = (known: readonly PortRead[], names: Set<string>): PortRead[] =>
      [...names]
        .filter((name) => !known.some((port) => port.name === name))
        .map((name) => ({ name, type: "Any", required: false, description: "" }));
    const moreInputs = operator.dynamic_inputs ? extra(inputs, ends.inputs) : [];
    const moreOutputs = operator.dynamic_outputs ? extra(outputs, ends.outputs) : [];
    if (!moreInputs.length && !moreOutputs.length) return node;
    const ports = { inputs: [...inputs, ...moreInputs], outputs: [...outputs, ...moreOutputs] };
    return { ...node, data: { ...node.data, ports } };
  });
}
