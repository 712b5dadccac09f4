import type { Schemas } from "../api/client";
import type { OperatorRead } from "../api/operators";
import type {
  CanvasEdge,
  CanvasNode,
  FlowMeta,
  NodePorts,
  NoteCanvasNode,
  OperatorCanvasNode,
} from "./canvas-types";

/** `rivulet.flow/v1` (schemas/flow.v1.schema.json), as the generated API types describe it. */
export type FlowDocument = Schemas["FlowDocument"];
export type FlowNode = Schemas["Node"];
export type FlowEdge = Schemas["Edge"];
export type FlowNote = Schemas["Note"];
export type NodePolicy = Schemas["NodePolicy"];

export const FLOW_SCHEMA = "rivulet.flow/v1";
const NO_PORTS: NodePorts = { inputs: [], outputs: [] };

/** A new, empty document. */
export function emptyFlowDocument(name = "Untitled flow"): FlowDocument {
  return { schema: FLOW_SCHEMA, id: "", name, description: "", version: 0, nodes: [], edges: [] };
}

export function edgeId(source: string, sourcePort: string, target: string, targetPort: string) {
  return `${source}.${sourcePort}-${target}.${targetPort}`;
}

function operatorNode(node: FlowNode, ports: NodePorts): OperatorCanvasNode {
  return {
    id: node.id,
    type: "operator",
    position: { x: node.position?.x ?? 0, y: node.position?.y ?? 0 },
    data: {
      operator: node.operator,
      operatorVersion: node.operator_version ?? 1,
      label: node.label ?? null,
      params: node.params ?? {},
      ...(node.policy ? { policy: node.policy } : {}),
      disabled: node.disabled ?? false,
      ports,
    },
  };
}

function noteNode(note: FlowNote): NoteCanvasNode {
  const kind = note.kind ?? "note";
  return {
    id: note.id,
    type: "note",
    position: { x: note.position?.x ?? 0, y: note.position?.y ?? 0 },
    width: note.width ?? 240,
    height: note.height ?? 120,
    zIndex: kind === "group" ? -1 : 0,
    data: { kind, text: note.text ?? "", color: note.color ?? null },
  };
}

export interface CanvasGraph {
  readonly meta: FlowMeta;
  readonly nodes: CanvasNode[];
  readonly edges: CanvasEdge[];
}

/** Document → canvas. Ports come from `lookup` (the catalog); unknown operators get none. */
export function fromFlowDocument(
  doc: FlowDocument,
  lookup: (operatorId: string) => OperatorRead | undefined = () => undefined,
): CanvasGraph {
  const { nodes = [], edges = [], notes = [], ...meta } = doc;
  const portsOf = (id: string): NodePorts => {
    const operator = lookup(id);
    return operator ? { inputs: operator.inputs, outputs: operator.outputs } : NO_PORTS;
  };
  return {
    meta,
    // Groups first so that frames render beneath the nodes they hold.
    nodes: [
      ...notes.map(noteNode),
      ...nodes.map((node) => operatorNode(node, portsOf(node.operator))),
    ],
    edges: edges.map((edge) => ({
      id: edge.id,
      source: edge.source,
      target: edge.target,
      sourceHandle: edge.source_port,
      targetHandle: edge.target_port,
    })),
  };
}

function toFlowNode(node: OperatorCanvasNode): FlowNode {
  const { data } = node;
  return {
    id: node.id,
    operator: data.operator,
    operator_version: data.operatorVersion,
    label: data.label,
    params: data.params,
    position: { x: node.position.x, y: node.position.y },
    ...(data.policy ? { policy: data.policy } : {}),
    disabled: data.disabled,
  };
}

function contains(frame: NoteCanvasNode, node: OperatorCanvasNode): boolean {
  const width = node.measured?.width ?? node.width ?? 0;
  const height = node.measured?.height ?? node.height ?? 0;
  const cx = node.position.x + width / 2;
  const cy = node.position.y + height / 2;
  const { x, y } = frame.position;
  return cx >= x && cy >= y && cx <= x + (frame.width ?? 0) && cy <= y + (frame.height ?? 0);
}

function toFlowNote(note: NoteCanvasNode, operators: readonly OperatorCanvasNode[]): FlowNote {
  const members =
    note.data.kind === "group"
      ? operators.filter((node) => contains(note, node)).map((node) => node.id)
      : [];
  return {
    id: note.id,
    kind: note.data.kind,
    text: note.data.text,
    position: { x: note.position.x, y: note.position.y },
    width: note.measured?.width ?? note.width ?? 240,
    height: note.measured?.height ?? note.height ?? 120,
    color: note.data.color,
    members,
  };
}

/** Canvas → document. A group's members are the operator nodes whose centre lies in its frame. */
export function toFlowDocument(graph: CanvasGraph): FlowDocument {
  const operators = graph.nodes.filter(
    (node): node is OperatorCanvasNode => node.type === "operator",
  );
  const notes = graph.nodes.filter((node): node is NoteCanvasNode => node.type === "note");
  return {
    ...graph.meta,
    schema: FLOW_SCHEMA,
    nodes: operators.map(toFlowNode),
    edges: graph.edges.map((edge) => ({
      id: edge.id,
      source: edge.source,
      source_port: edge.sourceHandle ?? "",
      target: edge.target,
      target_port: edge.targetHandle ?? "",
    })),
    notes: notes.map((note) => toFlowNote(note, operators)),
  };
}

/** Parses an imported file: a flow document, or `{document}` as the API returns it. */
export function parseFlowJson(text: string): FlowDocument {
  const value: unknown = JSON.parse(text);
  const candidate =
    typeof value === "object" && value !== null && "document" in value
      ? (value as { document: unknown }).document
      : value;
  if (typeof candidate !== "object" || candidate === null || Array.isArray(candidate)) {
    throw new Error("The file is not a flow document (expected a JSON object).");
  }
  const doc = candidate as Partial<FlowDocument>;
  if (doc.schema !== undefined && doc.schema !== FLOW_SCHEMA) {
    throw new Error(`Unsupported flow schema '${String(doc.schema)}'; expected ${FLOW_SCHEMA}.`);
  }
  if (!Array.isArray(doc.nodes ?? [])) throw new Error("'nodes' must be a list.");
  if (!Array.isArray(doc.edges ?? [])) throw new Error("'edges' must be a list.");
  return {
    ...emptyFlowDocument(typeof doc.name === "string" && doc.name ? doc.name : "Imported flow"),
    ...doc,
    schema: FLOW_SCHEMA,
  } as FlowDocument;
}
