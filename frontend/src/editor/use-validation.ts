import { useEffect } from "react";
import { validateFlow } from "../api/flows";
import { currentDocument, useCanvasStore } from "../canvas/canvas-store";
import type { CanvasEdge, CanvasNode, FlowMeta, OperatorNodeData } from "../canvas/canvas-types";

const DEBOUNCE_MS = 500;

/** A node's compiled content (everything but its position), once per `data` object. */
const nodeKeys = new WeakMap<OperatorNodeData, string>();

function nodeKey(data: OperatorNodeData): string {
  let key = nodeKeys.get(data);
  if (key === undefined) {
    const { ports: _derived, ...content } = data;
    key = JSON.stringify(content);
    nodeKeys.set(data, key);
  }
  return key;
}

/**
 * What the compiler sees of the graph. The nodes' `data` only changes on an edit, so a node moved,
 * measured or selected costs a lookup here, not a serialisation (hundreds of nodes are measured as
 * they scroll into view in a large flow).
 */
function contentKey(meta: FlowMeta, nodes: readonly CanvasNode[], edges: readonly CanvasEdge[]) {
  return JSON.stringify([
    meta,
    nodes.map((node) => (node.type === "operator" ? `${node.id} ${nodeKey(node.data)}` : null)),
    edges.map((edge) => [edge.source, edge.sourceHandle, edge.target, edge.targetHandle]),
  ]);
}

/**
 * Keeps the server's diagnostics (`POST /api/flows/validate`) current: the document is checked by the
 * same compiler that runs it, shortly after every edit, and the findings land on nodes and fields.
 */
export function useLiveValidation(enabled: boolean): void {
  const nodes = useCanvasStore((state) => state.nodes);
  const edges = useCanvasStore((state) => state.edges);
  const meta = useCanvasStore((state) => state.meta);
  // Positions, sizes and selection do not change what compiles: only re-validate on a content change.
  const key = contentKey(meta, nodes, edges);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` is the trigger; the effect reads the store.
  useEffect(() => {
    if (!enabled) return;
    const controller = new AbortController();
    const timer = setTimeout(() => {
      validateFlow(currentDocument(), controller.signal)
        .then((report) => useCanvasStore.getState().setDiagnostics(report.diagnostics))
        .catch(() => undefined);
    }, DEBOUNCE_MS);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [key, enabled]);
}
