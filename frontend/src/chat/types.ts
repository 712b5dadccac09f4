import type { ChartSpec, Table } from "../api/datasources";
import type { ChunkLike } from "../knowledge/chunk-meta";

/** A passage an answer cites (a `Chunk` of a retrieval node, as runs and apps return it). */
export type Citation = ChunkLike;
export type { ChartSpec, Table };

/** One message of a chat, as the shared chat view shows it (app page and editor playground). */
export interface ChatMessageView {
  id: string;
  role: "user" | "assistant";
  content: string;
  status: "running" | "complete" | "failed" | "cancelled";
  runId?: string | null;
  extras?: {
    tables?: Table[];
    charts?: ChartSpec[];
    citations?: Citation[];
    error?: { code?: string; message: string; node_id?: string | null };
    duration_ms?: number;
  };
  feedback?: "up" | "down" | null;
}

export interface ChatViewProps {
  messages: readonly ChatMessageView[];
  /** A reply is streaming. */
  busy: boolean;
  suggestedQuestions?: readonly string[];
  placeholder?: string;
  onSend(text: string): void;
  onStop?(): void;
  /** Answers the last user message again (shown on the last answer). */
  onRegenerate?(): void;
  onFeedback?(messageId: string, rating: "up" | "down" | null): void;
  /** The run trace of an assistant message; `null`: no link. */
  traceHref?(runId: string): string | null;
  emptyTitle?: string;
  emptyDescription?: string;
}
