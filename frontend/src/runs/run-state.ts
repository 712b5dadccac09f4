import type { ErrorInfo, RunEvent, RunStatus } from "../api/runs";

/** What a node shows during and after a run. `queued`: listed by run_started, not started yet. */
export type NodeStatus = "queued" | "running" | "succeeded" | "failed" | "skipped" | "cancelled";

export interface PortOutput {
  readonly preview: unknown;
  readonly truncated: boolean;
}

export interface NodeRunState {
  readonly status: NodeStatus;
  readonly cached: boolean;
  readonly attempt: number;
  readonly progress: { readonly value: number; readonly max: number | null } | null;
  /** Streamed text (node_chunk data joined), per output port. */
  readonly streamed: Readonly<Record<string, string>>;
  readonly outputs: Readonly<Record<string, PortOutput>>;
  readonly error: ErrorInfo | null;
  readonly retrying: boolean;
  readonly reason: string | null;
  readonly startedTs: number | null;
  readonly durationMs: number | null;
}

export interface RunView {
  readonly runId: string;
  readonly flowId: string | null;
  readonly flowVersion: number | null;
  readonly status: RunStatus;
  readonly lastSeq: number;
  readonly nodeIds: readonly string[];
  readonly nodes: Readonly<Record<string, NodeRunState>>;
  readonly outputs: Readonly<Record<string, unknown>>;
  readonly error: ErrorInfo | null;
  readonly durationMs: number | null;
  readonly startedTs: number | null;
  readonly cancelRequested: boolean;
  /** Every event applied, in seq order (the run panel's log). */
  readonly events: readonly RunEvent[];
}

/** Streamed text kept per port; older text is dropped beyond this. */
const STREAM_LIMIT = 20_000;

export function emptyRunView(runId: string, flowId: string | null = null): RunView {
  return {
    runId,
    flowId,
    flowVersion: null,
    status: "queued",
    lastSeq: 0,
    nodeIds: [],
    nodes: {},
    outputs: {},
    error: null,
    durationMs: null,
    startedTs: null,
    cancelRequested: false,
    events: [],
  };
}

const idleNode: NodeRunState = {
  status: "queued",
  cached: false,
  attempt: 0,
  progress: null,
  streamed: {},
  outputs: {},
  error: null,
  retrying: false,
  reason: null,
  startedTs: null,
  durationMs: null,
};

function chunkText(data: unknown): string {
  if (typeof data === "string") return data;
  return `${JSON.stringify(data)}\n`;
}

function applyNodeEvent(node: NodeRunState, event: RunEvent): NodeRunState {
  switch (event.type) {
    case "node_started":
      return {
        ...node,
        status: "running",
        attempt: event.attempt,
        startedTs: event.ts,
        error: null,
        retrying: false,
        progress: null,
        streamed: {},
      };
    case "node_progress":
      return { ...node, progress: { value: event.value, max: event.max ?? null } };
    case "node_chunk": {
      const text = (node.streamed[event.port] ?? "") + chunkText(event.data);
      return { ...node, streamed: { ...node.streamed, [event.port]: text.slice(-STREAM_LIMIT) } };
    }
    case "node_output":
      return {
        ...node,
        outputs: {
          ...node.outputs,
          [event.port]: { preview: event.preview, truncated: event.truncated },
        },
      };
    case "node_succeeded":
      return { ...node, status: "succeeded", cached: event.cached, durationMs: event.duration_ms };
    case "node_failed":
      return {
        ...node,
        status: event.retrying ? "running" : "failed",
        error: event.error,
        retrying: event.retrying,
      };
    case "node_skipped":
      return { ...node, status: "skipped", reason: event.reason };
    default:
      return node;
  }
}

function finishNodes(nodes: Readonly<Record<string, NodeRunState>>) {
  const next: Record<string, NodeRunState> = {};
  for (const [id, node] of Object.entries(nodes)) {
    next[id] = node.status === "running" ? { ...node, status: "cancelled" } : node;
  }
  return next;
}

/**
 * Folds one event into the view. Events at or below `lastSeq` were applied already (a replay that
 * overlaps live delivery, or a resubscription after a reconnect) and are ignored.
 */
export function applyRunEvent(view: RunView, event: RunEvent): RunView {
  if (event.seq <= view.lastSeq) return view;
  const base: RunView = { ...view, lastSeq: event.seq, events: [...view.events, event] };
  switch (event.type) {
    case "run_started":
      return {
        ...base,
        status: "running",
        flowId: event.flow_id,
        flowVersion: event.flow_version,
        startedTs: event.ts,
        nodeIds: event.node_ids,
        nodes: Object.fromEntries(event.node_ids.map((id) => [id, base.nodes[id] ?? idleNode])),
      };
    case "run_cancelled":
      return { ...base, cancelRequested: true };
    case "run_finished":
      return {
        ...base,
        status: event.status,
        outputs: event.outputs ?? {},
        error: event.error ?? null,
        durationMs: event.duration_ms,
        nodes: event.status === "succeeded" ? base.nodes : finishNodes(base.nodes),
      };
    default: {
      const node = base.nodes[event.node_id] ?? idleNode;
      return { ...base, nodes: { ...base.nodes, [event.node_id]: applyNodeEvent(node, event) } };
    }
  }
}

export function applyRunEvents(view: RunView, events: readonly RunEvent[]): RunView {
  return events.reduce(applyRunEvent, view);
}

export function isRunActive(status: RunStatus): boolean {
  return status === "queued" || status === "running";
}
