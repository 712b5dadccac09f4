import { chatHeaders } from "./app-auth";
import { readSse } from "./sse";
import type { AppInfo, AppMessage, Conversation } from "./types";

/**
 * The chat routes of one app (`/api/chat/<slug>/…`) as the app page calls them: with the share
 * token and visitor id (see app-auth.ts) or with the session cookie. It is a plain `fetch` client,
 * not the shared openapi-fetch one: its 401 means "the link was revoked" here, not "log in again",
 * and a message answers with a server-sent event stream.
 */
export class ChatApiError extends Error {
  readonly status: number;

  constructor(message: string, status: number) {
    super(message);
    this.name = "ChatApiError";
    this.status = status;
  }
}

/** What a streamed reply reports, in order: `start` once, `token`s, then `done` or `error`. */
export interface ReplyHandlers {
  onStart?(event: {
    user_message: AppMessage;
    assistant_message: AppMessage;
    run_id: string;
  }): void;
  onToken?(text: string): void;
  onDone?(message: AppMessage): void;
  onError?(message: AppMessage): void;
}

async function failure(response: Response, what: string): Promise<ChatApiError> {
  let detail = `answered ${response.status}`;
  try {
    const body = (await response.json()) as { detail?: unknown };
    if (typeof body.detail === "string") detail = body.detail;
  } catch {
    // not a JSON problem document
  }
  return new ChatApiError(`${what}: ${detail}`, response.status);
}

export class ChatClient {
  readonly slug: string;
  readonly token: string | null;

  constructor(slug: string, token: string | null) {
    this.slug = slug;
    this.token = token;
  }

  private url(path = ""): string {
    return `/api/chat/${encodeURIComponent(this.slug)}${path}`;
  }

  private async request(
    what: string,
    path: string,
    init: { method?: string; body?: unknown; signal?: AbortSignal } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = chatHeaders(this.token);
    if (init.body !== undefined) headers["Content-Type"] = "application/json";
    const response = await globalThis.fetch(
      new Request(this.url(path), {
        method: init.method ?? "GET",
        headers,
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
        credentials: "same-origin",
        signal: init.signal,
      }),
    );
    if (!response.ok) throw await failure(response, what);
    return response;
  }

  private async json<T>(
    what: string,
    path: string,
    init?: { method?: string; body?: unknown; signal?: AbortSignal },
  ): Promise<T> {
    return (await (await this.request(what, path, init)).json()) as T;
  }

  info(signal?: AbortSignal): Promise<AppInfo> {
    return this.json("Opening the app failed", "", { signal });
  }

  conversations(signal?: AbortSignal): Promise<Conversation[]> {
    return this.json("Listing conversations failed", "/conversations", { signal });
  }

  createConversation(title?: string): Promise<Conversation> {
    return this.json("Starting a conversation failed", "/conversations", {
      method: "POST",
      body: title ? { title } : {},
    });
  }

  renameConversation(conversationId: string, title: string): Promise<Conversation> {
    return this.json("Renaming the conversation failed", `/conversations/${conversationId}`, {
      method: "PATCH",
      body: { title },
    });
  }

  async deleteConversation(conversationId: string): Promise<void> {
    await this.request("Deleting the conversation failed", `/conversations/${conversationId}`, {
      method: "DELETE",
    });
  }

  messages(conversationId: string, signal?: AbortSignal): Promise<AppMessage[]> {
    return this.json("Loading the messages failed", `/conversations/${conversationId}/messages`, {
      signal,
    });
  }

  feedback(messageId: string, rating: "up" | "down" | null): Promise<AppMessage> {
    return this.json("Saving the feedback failed", `/messages/${messageId}/feedback`, {
      method: "PUT",
      body: { rating },
    });
  }

  async stop(conversationId: string): Promise<boolean> {
    const body = await this.json<{ stopped: boolean }>(
      "Stopping the reply failed",
      `/conversations/${conversationId}/stop`,
      { method: "POST" },
    );
    return body.stopped;
  }

  /** Sends a message and reads the reply as it streams; resolves when the stream ends. */
  send(conversationId: string, content: string, handlers: ReplyHandlers, signal?: AbortSignal) {
    return this.stream(
      "Sending the message failed",
      `/conversations/${conversationId}/messages`,
      { content },
      handlers,
      signal,
    );
  }

  /** Answers the last user message again (the last answer is dropped), streamed like `send`. */
  regenerate(conversationId: string, handlers: ReplyHandlers, signal?: AbortSignal) {
    return this.stream(
      "Regenerating the answer failed",
      `/conversations/${conversationId}/regenerate`,
      undefined,
      handlers,
      signal,
    );
  }

  private async stream(
    what: string,
    path: string,
    body: unknown,
    handlers: ReplyHandlers,
    signal?: AbortSignal,
  ): Promise<void> {
    const response = await this.request(what, path, { method: "POST", body, signal });
    if (!response.body) throw new ChatApiError(`${what}: the reply has no body`, response.status);
    for await (const { event, data } of readSse(response.body, signal)) {
      dispatchReplyEvent(event, data, handlers);
    }
  }
}

/** Hands one server-sent event of a reply to its handler; unknown events are ignored. */
export function dispatchReplyEvent(event: string, data: string, handlers: ReplyHandlers): void {
  const payload = JSON.parse(data) as Record<string, unknown>;
  switch (event) {
    case "start":
      handlers.onStart?.(payload as Parameters<NonNullable<ReplyHandlers["onStart"]>>[0]);
      break;
    case "token":
      handlers.onToken?.(String(payload.data ?? ""));
      break;
    case "done":
      handlers.onDone?.(payload.message as AppMessage);
      break;
    case "error":
      handlers.onError?.(payload.message as AppMessage);
      break;
    default:
      break;
  }
}
