import {
  applyEdgeChanges,
  applyNodeChanges,
  type Connection,
  type EdgeChange,
  type NodeChange,
  type XYPosition,
} from "@xyflow/react";
import { create } from "zustand";
import type { Schemas } from "../api/client";
import type { OperatorRead } from "../api/operators";
import type {
  CanvasEdge,
  CanvasNode,
  FlowMeta,
  NodePorts,
  OperatorCanvasNode,
  OperatorNodeData,
} from "./canvas-types";
import { freePosition } from "./canvas-view";
import { type ClipboardFragment, pasteFragment } from "./clipboard-fragment";
import { checkConnection } from "./connection-rules";
import {
  edgeId,
  emptyFlowDocument,
  type FlowDocument,
  fromFlowDocument,
  toFlowDocument,
} from "./flow-document";
import { dropEstimate, estimateLargeFlow, withEdgePorts, withEstimate } from "./large-flow";
import { defaultParams } from "./param-defaults";

export type Diagnostic = Schemas["Diagnostic"];
/** The API omits `severity` when it is the default (`error`). */
export function isError(diagnostic: Diagnostic): boolean {
  return diagnostic.severity !== "warning" && diagnostic.severity !== "info";
}

export type OperatorLookup = (operatorId: string) => OperatorRead | undefined;

interface Snapshot {
  readonly meta: FlowMeta;
  readonly nodes: CanvasNode[];
  readonly edges: CanvasEdge[];
}

/** The last connection the rules refused, for the canvas to explain (`at` makes repeats distinct). */
export interface Refusal {
  readonly reason: string;
  readonly at: number;
}

const HISTORY_LIMIT = 100;
/** Edits with the same key within this window (typing in one field) are one undo step. */
const COALESCE_MS = 1_000;

/**
 * The editor's single source of truth: the flow document as React Flow nodes and edges, selection
 * (the nodes' `selected` flags), undo/redo history and the dirty flag. Nodes and edges hold
 * serialisable data only; behaviour lives in the actions here, never as callbacks in node `data`.
 */
export interface CanvasState extends Snapshot {
  readonly past: readonly Snapshot[];
  readonly future: readonly Snapshot[];
  readonly dirty: boolean;
  readonly diagnostics: readonly Diagnostic[];
  readonly refusal: Refusal | null;
  readonly coalesce: { readonly key: string; readonly at: number } | null;
  readonly dragging: boolean;

  readonly load: (doc: FlowDocument, lookup?: OperatorLookup) => void;
  readonly reset: () => void;
  readonly onNodesChange: (changes: NodeChange<CanvasNode>[]) => void;
  readonly onEdgesChange: (changes: EdgeChange<CanvasEdge>[]) => void;
  readonly onConnect: (connection: Connection) => void;
  readonly addOperator: (operator: OperatorRead, position: XYPosition) => string;
  readonly addNote: (kind: "note" | "group", position: XYPosition) => string;
  readonly updateParams: (nodeId: string, patch: Record<string, unknown>) => void;
  readonly updateNode: (nodeId: string, patch: Partial<OperatorNodeData>) => void;
  readonly updateNote: (nodeId: string, text: string) => void;
  /** The resolved ports of some nodes (by node id), in one update. */
  readonly setPorts: (ports: ReadonlyMap<string, NodePorts>) => void;
  readonly setMeta: (patch: Partial<FlowMeta>) => void;
  readonly deleteSelected: () => void;
  readonly selectAll: () => void;
  readonly select: (nodeIds: readonly string[]) => void;
  readonly paste: (
    fragment: ClipboardFragment,
    lookup: OperatorLookup,
    offset?: XYPosition,
  ) => void;
  readonly applyPositions: (positions: ReadonlyMap<string, XYPosition>) => void;
  readonly undo: () => void;
  readonly redo: () => void;
  readonly markSaved: (doc: FlowDocument) => void;
  readonly setDiagnostics: (diagnostics: readonly Diagnostic[]) => void;
  readonly refuse: (reason: string) => void;
}

const snapshot = (state: Snapshot): Snapshot => ({
  meta: state.meta,
  nodes: state.nodes,
  edges: state.edges,
});

const initial = () => {
  const { meta, nodes, edges } = fromFlowDocument(emptyFlowDocument());
  return {
    meta,
    nodes,
    edges,
    past: [],
    future: [],
    dirty: false,
    diagnostics: [],
    refusal: null,
    coalesce: null,
    dragging: false,
  };
};

/** A node id like `template_2`: the operator's last segment, numbered to be unique. */
export function uniqueNodeId(base: string, taken: ReadonlySet<string>): string {
  const stem = base.replace(/[^A-Za-z0-9_]/g, "_") || "node";
  for (let n = 1; ; n++) {
    const id = `${stem}_${n}`;
    if (!taken.has(id)) return id;
  }
}

export const useCanvasStore = create<CanvasState>()((set, get) => {
  /** Applies an undoable change: the current state goes onto the history, redo is cleared. */
  const commit = (patch: Partial<Snapshot>, coalesceKey?: string) =>
    set((state) => {
      const now = Date.now();
      const merge =
        coalesceKey !== undefined &&
        state.coalesce?.key === coalesceKey &&
        now - state.coalesce.at < COALESCE_MS;
      const past = merge ? state.past : [...state.past, snapshot(state)].slice(-HISTORY_LIMIT);
      return {
        ...patch,
        past,
        future: [],
        dirty: true,
        coalesce: coalesceKey === undefined ? null : { key: coalesceKey, at: now },
      };
    });

  const mapOperator = (nodeId: string, update: (node: OperatorCanvasNode) => OperatorCanvasNode) =>
    get().nodes.map((node) =>
      node.id === nodeId && node.type === "operator" ? update(node) : node,
    );

  return {
    ...initial(),

    load: (doc, lookup) => {
      const graph = fromFlowDocument(doc, lookup);
      const nodes = lookup ? withEdgePorts(graph.nodes, graph.edges, lookup) : graph.nodes;
      set({ ...initial(), ...graph, nodes: estimateLargeFlow(nodes) });
    },
    reset: () => set(initial()),

    onNodesChange: (changes) => {
      const state = get();
      const measured = new Set(
        changes.flatMap((change) => (change.type === "dimensions" ? [change.id] : [])),
      );
      let nodes = applyNodeChanges(changes, state.nodes);
      if (measured.size) {
        nodes = nodes.map((node) =>
          node.handles && measured.has(node.id) ? dropEstimate(node) : node,
        );
      }
      const removes = changes.some((change) => change.type === "remove");
      const drags = changes.filter((change) => change.type === "position");
      const dragStart = drags.some((change) => change.dragging) && !state.dragging;
      const dragEnd = drags.some((change) => change.dragging === false);
      const resized = changes.some((change) => change.type === "dimensions" && change.resizing);
      if (removes || dragStart || (resized && !state.dragging)) {
        commit({ nodes });
        set({ dragging: dragStart || resized });
      } else {
        set({ nodes, ...(dragEnd ? { dragging: false, dirty: true } : {}) });
      }
    },

    onEdgesChange: (changes) => {
      const edges = applyEdgeChanges(changes, get().edges);
      if (changes.some((change) => change.type === "remove")) commit({ edges });
      else set({ edges });
    },

    onConnect: (connection) => {
      const { nodes, edges } = get();
      const verdict = checkConnection(connection, nodes, edges);
      if (!verdict.ok) {
        get().refuse(verdict.reason);
        return;
      }
      const { source, target, sourceHandle, targetHandle } = connection;
      const kept = edges.filter(
        (edge) => !(edge.target === target && edge.targetHandle === targetHandle),
      );
      const id = edgeId(source, sourceHandle ?? "", target, targetHandle ?? "");
      commit({ edges: [...kept, { id, source, target, sourceHandle, targetHandle }] });
    },

    addOperator: (operator, position) => {
      const taken = new Set(get().nodes.map((node) => node.id));
      const id = uniqueNodeId(operator.id.split(".").pop() ?? "node", taken);
      const node: OperatorCanvasNode = {
        id,
        type: "operator",
        position: freePosition(position, get().nodes),
        selected: true,
        data: {
          operator: operator.id,
          operatorVersion: operator.version,
          label: null,
          params: defaultParams(operator.params_schema),
          disabled: false,
          ports: { inputs: operator.inputs, outputs: operator.outputs },
        },
      };
      const others = get().nodes.map((other) => ({ ...other, selected: false }));
      commit({ nodes: [...others, node] });
      return id;
    },

    addNote: (kind, position) => {
      const taken = new Set(get().nodes.map((node) => node.id));
      const id = uniqueNodeId(kind, taken);
      const group = kind === "group";
      const note: CanvasNode = {
        id,
        type: "note",
        position: freePosition(position, get().nodes),
        width: group ? 420 : 220,
        height: group ? 280 : 120,
        zIndex: group ? -1 : 0,
        data: { kind, text: group ? "Group" : "", color: null },
      };
      commit({ nodes: group ? [note, ...get().nodes] : [...get().nodes, note] });
      return id;
    },

    updateParams: (nodeId, patch) => {
      const nodes = mapOperator(nodeId, (node) => ({
        ...node,
        data: { ...node.data, params: { ...node.data.params, ...patch } },
      }));
      commit({ nodes }, `params:${nodeId}:${Object.keys(patch).join(",")}`);
    },

    updateNode: (nodeId, patch) => {
      const nodes = mapOperator(nodeId, (node) => ({ ...node, data: { ...node.data, ...patch } }));
      commit({ nodes }, `node:${nodeId}:${Object.keys(patch).join(",")}`);
    },

    updateNote: (nodeId, text) => {
      const nodes = get().nodes.map((node) =>
        node.id === nodeId && node.type === "note"
          ? { ...node, data: { ...node.data, text } }
          : node,
      );
      commit({ nodes }, `note:${nodeId}`);
    },

    setPorts: (ports) =>
      set({
        nodes: get().nodes.map((node) => {
          const resolved = ports.get(node.id);
          if (!resolved || node.type !== "operator") return node;
          const updated = { ...node, data: { ...node.data, ports: resolved } };
          // A node not drawn yet in a large flow: its estimate follows its new ports.
          return node.handles ? withEstimate(updated) : updated;
        }),
      }),

    setMeta: (patch) => commit({ meta: { ...get().meta, ...patch } }, `meta:${Object.keys(patch)}`),

    deleteSelected: () => {
      const { nodes, edges } = get();
      const gone = new Set(nodes.filter((node) => node.selected).map((node) => node.id));
      const keptEdges = edges.filter(
        (edge) => !edge.selected && !gone.has(edge.source) && !gone.has(edge.target),
      );
      if (!gone.size && keptEdges.length === edges.length) return;
      commit({ nodes: nodes.filter((node) => !gone.has(node.id)), edges: keptEdges });
    },

    selectAll: () => set({ nodes: get().nodes.map((node) => ({ ...node, selected: true })) }),

    select: (nodeIds) => {
      const wanted = new Set(nodeIds);
      set({
        nodes: get().nodes.map((node) => ({ ...node, selected: wanted.has(node.id) })),
        edges: get().edges.map((edge) => ({ ...edge, selected: false })),
      });
    },

    paste: (fragment, lookup, offset) => {
      const { nodes, edges } = get();
      const pasted = pasteFragment(fragment, new Set(nodes.map((node) => node.id)), lookup, offset);
      if (!pasted.nodes.length) return;
      commit({
        nodes: [...nodes.map((node) => ({ ...node, selected: false })), ...pasted.nodes],
        edges: [...edges, ...pasted.edges],
      });
    },

    applyPositions: (positions) => {
      const nodes = get().nodes.map((node) => {
        const position = positions.get(node.id);
        return position ? { ...node, position } : node;
      });
      commit({ nodes });
    },

    undo: () =>
      set((state) => {
        const previous = state.past.at(-1);
        if (!previous) return {};
        return {
          ...previous,
          past: state.past.slice(0, -1),
          future: [snapshot(state), ...state.future],
          dirty: true,
          coalesce: null,
        };
      }),

    redo: () =>
      set((state) => {
        const [next, ...rest] = state.future;
        if (!next) return {};
        return {
          ...next,
          past: [...state.past, snapshot(state)],
          future: rest,
          dirty: true,
          coalesce: null,
        };
      }),

    markSaved: (doc) =>
      set((state) => ({ meta: { ...state.meta, id: doc.id, version: doc.version }, dirty: false })),

    setDiagnostics: (diagnostics) => set({ diagnostics }),

    refuse: (reason) => set({ refusal: { reason, at: Date.now() } }),
  };
});

/** The store's current graph as a `rivulet.flow/v1` document. */
export function currentDocument(state: Snapshot = useCanvasStore.getState()): FlowDocument {
  return toFlowDocument(state);
}
