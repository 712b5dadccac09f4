import { type Connection, getOutgoers } from "@xyflow/react";
import type { PortRead } from "../api/operators";
import type { CanvasEdge, CanvasNode, OperatorCanvasNode } from "./canvas-types";
import {
  type Bindings,
  checkCompatible,
  erase,
  formatPortType,
  type PortType,
  safeParsePortType,
  substitute,
  unify,
} from "./port-types";

/** The verdict on a connection the user is drawing; `reason` is shown when it is refused. */
export interface ConnectionVerdict {
  readonly ok: boolean;
  readonly reason: string;
  /** `collect`: a stream is collected into a value (allowed; the compiler inserts the step). */
  readonly coercion: "collect" | null;
}

export interface ResolvedPorts {
  readonly inputs: Readonly<Record<string, PortType>>;
  readonly outputs: Readonly<Record<string, PortType>>;
}

const refuse = (reason: string): ConnectionVerdict => ({ ok: false, reason, coercion: null });

function operatorNodes(nodes: readonly CanvasNode[]): Map<string, OperatorCanvasNode> {
  const byId = new Map<string, OperatorCanvasNode>();
  for (const node of nodes) if (node.type === "operator") byId.set(node.id, node);
  return byId;
}

function portMap(ports: readonly PortRead[], bindings: Bindings): Record<string, PortType> {
  return Object.fromEntries(
    ports.map((port) => [port.name, erase(substitute(safeParsePortType(port.type), bindings))]),
  );
}

/** Kahn order over the edges; nodes on a cycle come last, in document order (like the compiler). */
function topologicalOrder(ids: readonly string[], edges: readonly CanvasEdge[]): string[] {
  const indegree = new Map(ids.map((id) => [id, 0]));
  for (const edge of edges) {
    if (indegree.has(edge.target)) indegree.set(edge.target, (indegree.get(edge.target) ?? 0) + 1);
  }
  const queue = ids.filter((id) => indegree.get(id) === 0);
  const order: string[] = [];
  while (queue.length) {
    const id = queue.shift() as string;
    order.push(id);
    for (const edge of edges) {
      if (edge.source !== id || !indegree.has(edge.target)) continue;
      const left = (indegree.get(edge.target) ?? 0) - 1;
      indegree.set(edge.target, left);
      if (left === 0) queue.push(edge.target);
    }
  }
  return [...order, ...ids.filter((id) => !order.includes(id))];
}

/** Bindings of a node's type variables from its connected inputs, given upstream output types. */
function bindingsFor(
  node: OperatorCanvasNode,
  incoming: readonly CanvasEdge[],
  outputsOf: (nodeId: string) => Readonly<Record<string, PortType>> | undefined,
): Bindings {
  const bindings: Bindings = {};
  for (const edge of incoming) {
    const port = node.data.ports.inputs.find((input) => input.name === edge.targetHandle);
    const source = outputsOf(edge.source)?.[edge.sourceHandle ?? ""];
    if (port && source) unify(safeParsePortType(port.type), source, bindings);
  }
  return bindings;
}

/** Concrete port types of every operator node, with generics inferred as the compiler does. */
export function resolvePortTypes(
  nodes: readonly CanvasNode[],
  edges: readonly CanvasEdge[],
): Map<string, ResolvedPorts> {
  const byId = operatorNodes(nodes);
  const resolved = new Map<string, ResolvedPorts>();
  for (const id of topologicalOrder([...byId.keys()], edges)) {
    const node = byId.get(id) as OperatorCanvasNode;
    const incoming = edges.filter((edge) => edge.target === id);
    const bindings = bindingsFor(node, incoming, (source) => resolved.get(source)?.outputs);
    resolved.set(id, {
      inputs: portMap(node.data.ports.inputs, bindings),
      outputs: portMap(node.data.ports.outputs, bindings),
    });
  }
  return resolved;
}

/** True when an edge from `source` to `target` would close a cycle. */
export function wouldCreateCycle(
  source: string,
  target: string,
  nodes: readonly CanvasNode[],
  edges: readonly CanvasEdge[],
): boolean {
  if (source === target) return true;
  const byId = new Map(nodes.map((node) => [node.id, node]));
  const seen = new Set<string>();
  const stack = [byId.get(target)].filter((node) => node !== undefined);
  while (stack.length) {
    const node = stack.pop() as CanvasNode;
    if (seen.has(node.id)) continue;
    seen.add(node.id);
    for (const next of getOutgoers(node, nodes as CanvasNode[], edges as CanvasEdge[])) {
      if (next.id === source) return true;
      stack.push(next);
    }
  }
  return false;
}

/**
 * May `connection` be drawn? Checks that both ends are operator ports, that no cycle forms and that
 * the types fit (`check_compatible`, generics bound from the target's other inputs). An input that
 * already has a writer is replaced by the new edge, so its current edge is ignored here.
 */
export function checkConnection(
  connection: Connection | CanvasEdge,
  nodes: readonly CanvasNode[],
  edges: readonly CanvasEdge[],
): ConnectionVerdict {
  const byId = operatorNodes(nodes);
  const source = byId.get(connection.source);
  const target = byId.get(connection.target);
  if (!source || !target) return refuse("Only operator ports can be connected.");
  if (source.id === target.id) return refuse("A node cannot feed itself.");
  const outPort = source.data.ports.outputs.find((port) => port.name === connection.sourceHandle);
  const inPort = target.data.ports.inputs.find((port) => port.name === connection.targetHandle);
  if (!outPort) return refuse(`${source.id} has no output '${connection.sourceHandle ?? ""}'.`);
  if (!inPort) return refuse(`${target.id} has no input '${connection.targetHandle ?? ""}'.`);
  const others = edges.filter(
    (edge) => !(edge.target === target.id && edge.targetHandle === inPort.name),
  );
  if (wouldCreateCycle(source.id, target.id, nodes, others)) {
    return refuse(`Connecting ${source.id} → ${target.id} would create a cycle.`);
  }
  const resolved = resolvePortTypes(nodes, others);
  const sourceType = resolved.get(source.id)?.outputs[outPort.name];
  if (!sourceType) return refuse(`${source.id}.${outPort.name} has no type.`);
  const incoming = others.filter((edge) => edge.target === target.id);
  const bindings = bindingsFor(target, incoming, (id) => resolved.get(id)?.outputs);
  const pattern = safeParsePortType(inPort.type);
  unify(pattern, sourceType, bindings);
  const targetType = erase(substitute(pattern, bindings));
  const verdict = checkCompatible(sourceType, targetType);
  if (!verdict.ok) {
    return refuse(
      `${source.id}.${outPort.name} gives ${formatPortType(sourceType)} but ` +
        `${target.id}.${inPort.name} expects ${formatPortType(targetType)}.`,
    );
  }
  return { ok: true, reason: "", coercion: verdict.coercion };
}
