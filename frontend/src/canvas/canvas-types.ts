import type { Edge, Node } from "@xyflow/react";
import type { PortRead } from "../api/operators";
import type { FlowDocument, FlowNode, NodePolicy } from "./flow-document";

/** The ports a node shows: the catalog's, or those the backend resolved for its params. */
export interface NodePorts {
  readonly inputs: readonly PortRead[];
  readonly outputs: readonly PortRead[];
}

/** `data` of an operator node: the document's node fields, serialisable only. */
export type OperatorNodeData = {
  readonly operator: string;
  readonly operatorVersion: number;
  readonly label: string | null;
  readonly params: Record<string, unknown>;
  readonly policy?: NodePolicy;
  readonly disabled: boolean;
  /** Derived from the catalog (and `POST /api/operators/{id}/ports`); never saved. */
  readonly ports: NodePorts;
};

/** `data` of a sticky note or a group frame. */
export type NoteNodeData = {
  readonly kind: "note" | "group";
  readonly text: string;
  readonly color: string | null;
};

export type OperatorCanvasNode = Node<OperatorNodeData, "operator">;
export type NoteCanvasNode = Node<NoteNodeData, "note">;
export type CanvasNode = OperatorCanvasNode | NoteCanvasNode;
export type CanvasEdge = Edge;

/** Everything of the document that is not nodes, edges or notes. */
export type FlowMeta = Omit<FlowDocument, "nodes" | "edges" | "notes">;

export function isOperatorNode(node: CanvasNode): node is OperatorCanvasNode {
  return node.type === "operator";
}

export function isNoteNode(node: CanvasNode): node is NoteCanvasNode {
  return node.type === "note";
}

export type { FlowNode };
