import type { ChatMessageView, Citation } from "../chat/types";
import { chunkListOf, chunksAmong } from "../runs/citations";
import type { RunView } from "../runs/run-state";
import { isTable } from "./output-view";

/** A node of the flow as the playground reads it (the canvas nodes and edges are structurally this). */
export interface FlowNodeLike {
  readonly id: string;
  readonly type?: string;
  readonly data: { readonly operator?: string; readonly params?: Record<string, unknown> };
}

export interface FlowEdgeLike {
  readonly source: string;
  readonly target: string;
}

/** A run input the flow reads: a `core.input` node or a `trigger.http` request field. */
export interface PlaygroundInput {
  readonly name: string;
  readonly type: string;
  readonly required: boolean;
}

/** The run input that receives the chat message, in order of preference (as the chat apps choose it). */
export const MESSAGE_INPUT_NAMES = [
  "message",
  "question",
  "query",
  "user_input",
  "input",
  "prompt",
  "text",
] as const;

/** The run input that receives the conversation (memory session) id. */
export const SESSION_INPUT_NAMES = ["session_id", "conversation_id", "conversation_uid"] as const;

const str = (value: unknown, fallback: string) => (typeof value === "string" ? value : fallback);

/** Every run input the flow reads: `core.input` names and `trigger.http` fields, first of each name. */
export function flowRunInputs(nodes: readonly FlowNodeLike[]): PlaygroundInput[] {
  const found = new Map<string, PlaygroundInput>();
  for (const node of nodes) {
    const params = node.data.params ?? {};
    if (node.data.operator === "core.input") {
      const name = str(params.name, "input");
      if (!found.has(name)) {
        found.set(name, {
          name,
          type: str(params.type, "Text"),
          required: params.required !== false,
        });
      }
    } else if (node.data.operator === "trigger.http" && Array.isArray(params.fields)) {
      for (const field of params.fields as Record<string, unknown>[]) {
        const name = str(field?.name, "");
        if (!name || found.has(name)) continue;
        found.set(name, {
          name,
          type: str(field.type, "Text"),
          required: field.required !== false,
        });
      }
    }
  }
  return [...found.values()];
}

/** The input that takes the message: a preferred name, else the flow's single Text input. */
export function detectMessageInput(inputs: readonly PlaygroundInput[]): string | null {
  const names = new Set(inputs.map((input) => input.name));
  const preferred = MESSAGE_INPUT_NAMES.find((name) => names.has(name));
  if (preferred) return preferred;
  const texts = inputs.filter(
    (input) =>
      (input.type === "Text" || input.type === "Optional[Text]") &&
      !(SESSION_INPUT_NAMES as readonly string[]).includes(input.name),
  );
  return texts.length === 1 ? (texts[0]?.name ?? null) : null;
}

/** The input that takes the memory session, when the flow reads one. */
export function detectSessionInput(inputs: readonly PlaygroundInput[]): string | null {
  const names = new Set(inputs.map((input) => input.name));
  return SESSION_INPUT_NAMES.find((name) => names.has(name)) ?? null;
}

function randomHex(bytes: number): string {
  const values = new Uint8Array(bytes);
  crypto.getRandomValues(values);
  return [...values].map((value) => value.toString(16).padStart(2, "0")).join("");
}

/** A fresh memory session for a playground conversation: `playground:{flowId}:{random}`. */
export function newPlaygroundSession(flowId: string, random: () => string = () => randomHex(8)) {
  return `playground:${flowId || "new"}:${random()}`;
}

/**
 * The nodes whose streamed chunks are the answer, best first: the flow's outputs, then the `llm.*`
 * nodes feeding them (nearest first), then any other `llm.*` node.
 */
export function streamSources(
  nodes: readonly FlowNodeLike[],
  edges: readonly FlowEdgeLike[],
): string[] {
  const operator = new Map(nodes.map((node) => [node.id, node.data.operator ?? ""]));
  const outputs = nodes.filter((node) => node.data.operator === "core.output").map((n) => n.id);
  const ordered: string[] = [...outputs];
  const seen = new Set(outputs);
  let frontier = outputs;
  while (frontier.length) {
    const next: string[] = [];
    for (const target of frontier) {
      for (const edge of edges) {
        if (edge.target !== target || seen.has(edge.source)) continue;
        seen.add(edge.source);
        next.push(edge.source);
        if (operator.get(edge.source)?.startsWith("llm.")) ordered.push(edge.source);
      }
    }
    frontier = next;
  }
  for (const node of nodes) {
    if (node.data.operator?.startsWith("llm.") && !ordered.includes(node.id)) ordered.push(node.id);
  }
  return ordered;
}

/** The text streamed so far by the first source that streamed any. */
export function streamedText(view: RunView, sources: readonly string[]): string {
  for (const id of sources) {
    const streamed = view.nodes[id]?.streamed ?? {};
    const text = Object.values(streamed).find((part) => part.length > 0);
    if (text) return text;
  }
  return "";
}

const TEXT_KEYS = ["answer", "text", "content", "output"] as const;

function isMessage(value: unknown): value is { role: string; content: string } {
  const message = value as { role?: unknown; content?: unknown } | null;
  return (
    typeof message === "object" &&
    message !== null &&
    typeof message.role === "string" &&
    typeof message.content === "string"
  );
}

function isChart(value: unknown): value is { kind: string; title: string; option: object } {
  const chart = value as { option?: unknown; kind?: unknown } | null;
  return (
    typeof chart === "object" &&
    chart !== null &&
    typeof chart.option === "object" &&
    chart.option !== null &&
    typeof chart.kind === "string"
  );
}

/** The text a value answers with, or null when it carries none. */
function textOf(value: unknown): string | null {
  if (typeof value === "string") return value;
  if (isMessage(value)) return value.content;
  if (Array.isArray(value) && value.length && value.every(isMessage)) {
    return value.filter((message) => message.role === "assistant").at(-1)?.content ?? null;
  }
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    const record = value as Record<string, unknown>;
    const key = TEXT_KEYS.find((name) => typeof record[name] === "string");
    if (key) return record[key] as string;
  }
  return null;
}

export type Extras = NonNullable<ChatMessageView["extras"]>;

/**
 * A finished run's answer from its outputs (the rules of the chat apps): a `Message` gives its content, text
 * itself, a dict its `answer`/`text`/`content`/`output`; tables, charts and chunk lists become extras.
 * Anything else is shown as JSON.
 */
export function answerFromOutputs(
  outputs: Readonly<Record<string, unknown>>,
  nodeOutputs: readonly unknown[] = [],
): { content: string; extras: Extras } {
  const texts: string[] = [];
  const tables: NonNullable<Extras["tables"]> = [];
  const charts: NonNullable<Extras["charts"]> = [];
  const other: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(outputs)) {
    if (isChart(value)) charts.push({ ...value, option: { ...value.option } });
    else if (isTable(value)) tables.push({ truncated: false, ...value } as (typeof tables)[0]);
    else if (!chunkListOf(value)) {
      const text = textOf(value);
      if (text !== null) texts.push(text);
      else other[name] = value;
    }
  }
  const extras: Extras = {};
  if (tables.length) extras.tables = tables;
  if (charts.length) extras.charts = charts;
  const citations: Citation[] = chunksAmong([...Object.values(outputs), ...nodeOutputs]);
  if (citations.length) extras.citations = citations;
  if (Object.keys(other).length) {
    texts.push(`\`\`\`json\n${JSON.stringify(other, null, 2)}\n\`\`\``);
  }
  return { content: texts.join("\n\n"), extras };
}

/** The values of every node output preview of a run view (retrieval nodes' chunks among them). */
export function nodeOutputValues(view: RunView): unknown[] {
  return Object.values(view.nodes).flatMap((node) =>
    Object.values(node.outputs).map((output) => output.preview),
  );
}
