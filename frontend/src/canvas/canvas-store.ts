import {
  addEdge,
  applyEdgeChanges,
  applyNodeChanges,
  type Connection,
  type Edge,
  type EdgeChange,
  type Node,
  type NodeChange,
} from "@xyflow/react";
import { create } from "zustand";

/**
 * The editor's single source of truth. Nodes and edges hold serialisable data only; behaviour
 * lives in the actions here, never as callbacks inside node `data`.
 *
 * Node `data` gets its type from the generated flow-document schema once the flows API lands.
 */
export interface CanvasState {
  readonly nodes: Node[];
  readonly edges: Edge[];
  readonly onNodesChange: (changes: NodeChange[]) => void;
  readonly onEdgesChange: (changes: EdgeChange[]) => void;
  readonly onConnect: (connection: Connection) => void;
  readonly load: (nodes: Node[], edges: Edge[]) => void;
  readonly reset: () => void;
}

export const useCanvasStore = create<CanvasState>()((set) => ({
  nodes: [],
  edges: [],
  onNodesChange: (changes) => set((state) => ({ nodes: applyNodeChanges(changes, state.nodes) })),
  onEdgesChange: (changes) => set((state) => ({ edges: applyEdgeChanges(changes, state.edges) })),
  onConnect: (connection) => set((state) => ({ edges: addEdge(connection, state.edges) })),
  load: (nodes, edges) => set({ nodes, edges }),
  reset: () => set({ nodes: [], edges: [] }),
}));
