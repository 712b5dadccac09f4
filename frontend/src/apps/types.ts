/**
 * What the chat routes (`/api/chat/<slug>/…`) answer, as the app page reads it. The shapes mirror
 * `rivulet.storage.base` (`ConversationRecord`, `AppMessage`) and the app-info response.
 */
export type AppMessageStatus = "running" | "complete" | "failed" | "cancelled";
export type Rating = "up" | "down";

export interface AppInfo {
  readonly slug: string;
  readonly title: string;
  readonly description: string;
  readonly suggested_questions: readonly string[];
  readonly flow_name?: string | null;
}

export interface Conversation {
  readonly id: string;
  readonly app_id: string;
  readonly subject: string;
  readonly title: string;
  readonly message_count: number;
  readonly created_at: string;
  readonly updated_at: string;
}

export interface AppMessage {
  readonly id: string;
  readonly conversation_id: string;
  readonly role: "user" | "assistant";
  readonly content: string;
  readonly status: AppMessageStatus;
  readonly run_id?: string | null;
  readonly extras?: Record<string, unknown>;
  readonly feedback?: Rating | null;
  readonly feedback_comment?: string;
  readonly created_at: string;
}
