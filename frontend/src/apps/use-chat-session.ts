import { type QueryClient, useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useRef, useState } from "react";
import type { ChatMessageView } from "../chat/types";
import { ChatApiError, type ChatClient, type ReplyHandlers } from "./chat-client";
import type { AppMessage, Conversation, Rating } from "./types";

/** Query keys of one app's chat, per caller (a share token and a session see different chats). */
export const chatKeys = {
  all: (slug: string) => ["app-chat", slug] as const,
  info: (slug: string) => [...chatKeys.all(slug), "info"] as const,
  conversations: (slug: string) => [...chatKeys.all(slug), "conversations"] as const,
  messages: (slug: string, conversationId: string) =>
    [...chatKeys.all(slug), "messages", conversationId] as const,
};

/** A stored message as the chat view shows it. */
export function toView(message: AppMessage): ChatMessageView {
  return {
    id: message.id,
    role: message.role,
    content: message.content,
    status: message.status,
    runId: message.run_id ?? null,
    extras: (message.extras ?? {}) as ChatMessageView["extras"],
    feedback: message.feedback ?? null,
  };
}

/** Placeholders shown until the server names the messages (`start`); unique per reply. */
let localSeq = 0;

interface Streaming {
  readonly conversationId: string;
  readonly controller: AbortController;
  assistantId: string;
}

export interface ChatSessionOptions {
  /** The server refused the caller (401): the link was revoked, or the session ended. */
  readonly onUnauthorized: () => void;
  /** A conversation was created for the first message. */
  readonly onConversationCreated: (conversation: Conversation) => void;
}

function mapMessages(
  client: QueryClient,
  key: readonly unknown[],
  update: (messages: ChatMessageView[]) => ChatMessageView[],
) {
  client.setQueryData<ChatMessageView[]>(key, (messages) => update(messages ?? []));
}

function failedView(id: string, error: unknown): Partial<ChatMessageView> {
  const message = error instanceof Error ? error.message : String(error);
  return { id, status: "failed", extras: { error: { message } } };
}

/**
 * The transcript of the selected conversation and the actions on it. Messages live in the query
 * cache (one entry per conversation), and a streaming reply writes into that entry token by token,
 * so switching conversations and coming back keeps what arrived.
 */
export function useChatSession(
  chat: ChatClient,
  conversationId: string | null,
  options: ChatSessionOptions,
) {
  const queryClient = useQueryClient();
  const [busy, setBusy] = useState(false);
  const streaming = useRef<Streaming | null>(null);
  const optionsRef = useRef(options);
  optionsRef.current = options;

  const messages = useQuery({
    queryKey: chatKeys.messages(chat.slug, conversationId ?? ""),
    queryFn: async ({ signal }) =>
      (await chat.messages(conversationId ?? "", signal)).map((message) => toView(message)),
    enabled: conversationId !== null,
    staleTime: Number.POSITIVE_INFINITY,
    refetchOnWindowFocus: false,
    retry: false,
  });

  useEffect(() => {
    const error = messages.error;
    if (error instanceof ChatApiError && error.status === 401) optionsRef.current.onUnauthorized();
  }, [messages.error]);

  // Leaving the page ends a reply's stream (the server finishes the run on its own).
  useEffect(() => () => streaming.current?.controller.abort(), []);

  /** Streams one reply into conversation `cid`, after the user's `text` when there is one. */
  const run = useCallback(
    async (
      cid: string,
      text: string | null,
      start: (handlers: ReplyHandlers, signal: AbortSignal) => Promise<void>,
    ) => {
      const key = chatKeys.messages(chat.slug, cid);
      const replace = (id: string, patch: Partial<ChatMessageView>) =>
        mapMessages(queryClient, key, (list) =>
          list.map((item) => (item.id === id ? { ...item, ...patch } : item)),
        );
      localSeq += 1;
      const localUser = `local:${localSeq}:user`;
      const localAssistant = `local:${localSeq}:assistant`;
      const current: Streaming = {
        conversationId: cid,
        controller: new AbortController(),
        assistantId: localAssistant,
      };
      streaming.current = current;
      setBusy(true);
      const placeholders: ChatMessageView[] = [
        ...(text === null
          ? []
          : [{ id: localUser, role: "user" as const, content: text, status: "complete" as const }]),
        { id: localAssistant, role: "assistant", content: "", status: "running" },
      ];
      mapMessages(queryClient, key, (list) => [...list, ...placeholders]);
      const handlers: ReplyHandlers = {
        onStart: ({ user_message, assistant_message }) => {
          mapMessages(queryClient, key, (list) =>
            list.map((item) =>
              item.id === localUser || item.id === user_message.id
                ? toView(user_message)
                : item.id === localAssistant
                  ? toView(assistant_message)
                  : item,
            ),
          );
          current.assistantId = assistant_message.id;
        },
        onToken: (text) =>
          mapMessages(queryClient, key, (list) =>
            list.map((item) =>
              item.id === current.assistantId ? { ...item, content: item.content + text } : item,
            ),
          ),
        onDone: (message) => replace(current.assistantId, toView(message)),
        onError: (message) => replace(current.assistantId, toView(message)),
      };
      const { signal } = current.controller;
      try {
        await start(handlers, signal);
      } catch (error) {
        if (!signal.aborted) {
          if (error instanceof ChatApiError && error.status === 401) {
            optionsRef.current.onUnauthorized();
          }
          replace(current.assistantId, failedView(current.assistantId, error));
        }
      } finally {
        // Stopped (or the stream broke off) before `done`: what arrived stays, marked as stopped.
        mapMessages(queryClient, key, (list) =>
          list.map((item) =>
            item.id === current.assistantId && item.status === "running"
              ? { ...item, status: "cancelled" }
              : item,
          ),
        );
        if (streaming.current === current) streaming.current = null;
        setBusy(false);
        void queryClient.invalidateQueries({ queryKey: chatKeys.conversations(chat.slug) });
      }
    },
    [chat, queryClient],
  );

  const send = useCallback(
    async (text: string) => {
      if (streaming.current) return;
      let cid = conversationId;
      if (cid === null) {
        try {
          const created = await chat.createConversation();
          cid = created.id;
          queryClient.setQueryData<ChatMessageView[]>(chatKeys.messages(chat.slug, cid), []);
          optionsRef.current.onConversationCreated(created);
        } catch (error) {
          if (error instanceof ChatApiError && error.status === 401) {
            optionsRef.current.onUnauthorized();
          }
          throw error;
        }
      }
      const target = cid;
      await run(target, text, (handlers, signal) => chat.send(target, text, handlers, signal));
    },
    [chat, conversationId, queryClient, run],
  );

  const regenerate = useCallback(async () => {
    if (streaming.current || conversationId === null) return;
    const cid = conversationId;
    const key = chatKeys.messages(chat.slug, cid);
    mapMessages(queryClient, key, (list) => {
      const last = list.at(-1);
      return last?.role === "assistant" ? list.slice(0, -1) : list;
    });
    await run(cid, null, (handlers, signal) => chat.regenerate(cid, handlers, signal));
  }, [chat, conversationId, queryClient, run]);

  const stop = useCallback(async () => {
    const current = streaming.current;
    if (!current) return;
    try {
      await chat.stop(current.conversationId);
    } finally {
      current.controller.abort();
    }
  }, [chat]);

  const feedback = useCallback(
    async (messageId: string, rating: Rating | null) => {
      if (conversationId === null) return;
      const key = chatKeys.messages(chat.slug, conversationId);
      const set = (value: Rating | null) =>
        mapMessages(queryClient, key, (list) =>
          list.map((item) => (item.id === messageId ? { ...item, feedback: value } : item)),
        );
      const before = queryClient
        .getQueryData<ChatMessageView[]>(key)
        ?.find((item) => item.id === messageId)?.feedback;
      set(rating);
      try {
        const saved = await chat.feedback(messageId, rating);
        set(saved.feedback ?? null);
      } catch (error) {
        set(before ?? null);
        if (error instanceof ChatApiError && error.status === 401) {
          optionsRef.current.onUnauthorized();
        }
      }
    },
    [chat, conversationId, queryClient],
  );

  return {
    messages: messages.data ?? [],
    loading: messages.isLoading,
    error: messages.error,
    busy,
    send,
    regenerate,
    stop,
    feedback,
  };
}
