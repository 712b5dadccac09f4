import type { XYPosition } from "@xyflow/react";
import type { OperatorRead } from "../api/operators";
import type { CanvasEdge, CanvasNode } from "./canvas-types";
import {
  edgeId,
  emptyFlowDocument,
  type FlowEdge,
  type FlowNode,
  type FlowNote,
  fromFlowDocument,
  toFlowDocument,
} from "./flow-document";

/**
 * What copy puts on the clipboard: a slice of a flow document (its own JSON shape, so it pastes
 * into any flow, in this tab or another one).
 */
export interface ClipboardFragment {
  readonly schema: "rivulet.clipboard/v1";
  readonly nodes: readonly FlowNode[];
  readonly edges: readonly FlowEdge[];
  readonly notes: readonly FlowNote[];
}

export const CLIPBOARD_SCHEMA = "rivulet.clipboard/v1";
const PASTE_OFFSET: XYPosition = { x: 40, y: 40 };

/** The selected nodes and the edges between them. */
export function copyFragment(nodes: readonly CanvasNode[], edges: readonly CanvasEdge[]) {
  const selected = nodes.filter((node) => node.selected);
  const ids = new Set(selected.map((node) => node.id));
  const doc = toFlowDocument({
    meta: emptyFlowDocument(),
    nodes: selected,
    edges: edges.filter((edge) => ids.has(edge.source) && ids.has(edge.target)),
  });
  const fragment: ClipboardFragment = {
    schema: CLIPBOARD_SCHEMA,
    nodes: doc.nodes ?? [],
    edges: doc.edges ?? [],
    notes: doc.notes ?? [],
  };
  return fragment;
}

export function parseFragment(text: string): ClipboardFragment | null {
  try {
    const value = JSON.parse(text) as Partial<ClipboardFragment>;
    if (value.schema !== CLIPBOARD_SCHEMA || !Array.isArray(value.nodes)) return null;
    return {
      schema: CLIPBOARD_SCHEMA,
      nodes: value.nodes,
      edges: Array.isArray(value.edges) ? value.edges : [],
      notes: Array.isArray(value.notes) ? value.notes : [],
    };
  } catch {
    return null;
  }
}

function freshId(id: string, taken: Set<string>): string {
  const stem = id.replace(/_\d+$/, "");
  let candidate = id;
  for (let n = 1; taken.has(candidate); n++) candidate = `${stem}_${n}`;
  taken.add(candidate);
  return candidate;
}

/** Canvas nodes and edges for a fragment: fresh ids, shifted by `offset`, selected. */
export function pasteFragment(
  fragment: ClipboardFragment,
  existing: ReadonlySet<string>,
  lookup: (operatorId: string) => OperatorRead | undefined,
  offset: XYPosition = PASTE_OFFSET,
): { nodes: CanvasNode[]; edges: CanvasEdge[] } {
  const taken = new Set(existing);
  const renamed = new Map<string, string>();
  for (const item of [...fragment.notes, ...fragment.nodes]) {
    renamed.set(item.id, freshId(item.id, taken));
  }
  const move = <T extends { id: string; position?: { x?: number; y?: number } }>(item: T): T => ({
    ...item,
    id: renamed.get(item.id) ?? item.id,
    position: { x: (item.position?.x ?? 0) + offset.x, y: (item.position?.y ?? 0) + offset.y },
  });
  const edges = fragment.edges
    .filter((edge) => renamed.has(edge.source) && renamed.has(edge.target))
    .map((edge) => {
      const source = renamed.get(edge.source) as string;
      const target = renamed.get(edge.target) as string;
      return {
        ...edge,
        source,
        target,
        id: edgeId(source, edge.source_port, target, edge.target_port),
      };
    });
  const graph = fromFlowDocument(
    {
      ...emptyFlowDocument(),
      nodes: fragment.nodes.map(move),
      notes: fragment.notes.map((note) => ({ ...move(note), members: [] })),
      edges,
    },
    lookup,
  );
  return { nodes: graph.nodes.map((node) => ({ ...node, selected: true })), edges: graph.edges };
}
