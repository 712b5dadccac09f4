import type { Schemas } from "../api/client";
import type { NodeRunRecord, RunEvent } from "../api/runs";

export type ModelCall = Schemas["ModelCallRecord"];

/** What the trace shows per node: its record plus what its chunks and model calls add up to. */
export interface TraceRow {
  readonly node: NodeRunRecord;
  readonly operator: string | null;
  readonly label: string | null;
  /** `node_chunk` events (streamed tokens) of the node. */
  readonly chunks: number;
  readonly calls: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
  /** Time to the first streamed token of the node's first model call. */
  readonly ttftMs: number | null;
}

interface DocNode {
  readonly id: string;
  readonly operator: string;
  readonly label?: string | null;
}

/** Per node: chunk counts from the events, token counts from the model calls; in the order they started. */
export function traceRows(
  nodes: readonly NodeRunRecord[],
  events: readonly RunEvent[],
  calls: readonly ModelCall[],
  document: readonly DocNode[] = [],
): TraceRow[] {
  const chunks = new Map<string, number>();
  for (const event of events) {
    if (event.type === "node_chunk") {
      chunks.set(event.node_id, (chunks.get(event.node_id) ?? 0) + 1);
    }
  }
  const byId = new Map(document.map((node) => [node.id, node]));
  // Calls come newest first; the first call of a node is the last one listed.
  const ordered = [...calls].reverse();
  // In the order the nodes started (those that never started last, as listed).
  const started = (node: NodeRunRecord) =>
    node.started_at ? Date.parse(node.started_at) : Number.POSITIVE_INFINITY;
  const inOrder = nodes
    .map((node, index) => ({ node, index }))
    .sort((a, b) => started(a.node) - started(b.node) || a.index - b.index)
    .map((item) => item.node);
  return inOrder.map((node) => {
    const mine = ordered.filter((call) => call.node_id === node.node_id);
    return {
      node,
      operator: byId.get(node.node_id)?.operator ?? null,
      label: byId.get(node.node_id)?.label ?? null,
      chunks: chunks.get(node.node_id) ?? 0,
      calls: mine.length,
      promptTokens: mine.reduce((sum, call) => sum + call.prompt_tokens, 0),
      completionTokens: mine.reduce((sum, call) => sum + call.completion_tokens, 0),
      ttftMs: mine.find((call) => typeof call.ttft_ms === "number")?.ttft_ms ?? null,
    };
  });
}

/** `12 ms`, `1.4 s`; empty for no value. */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "";
  return ms < 1_000 ? `${ms.toFixed(ms < 10 ? 1 : 0)} ms` : `${(ms / 1_000).toFixed(2)} s`;
}
