import { create } from "zustand";
import type { ChatMessageView } from "../chat/types";

/** One playground conversation: its messages and the memory session its runs share. */
export interface PlaygroundConversation {
  /** `playground:{flowId}:{random}`, chosen at the first message (the flow has an id by then). */
  readonly sessionId: string | null;
  readonly messages: readonly ChatMessageView[];
}

const EMPTY: PlaygroundConversation = { sessionId: null, messages: [] };

interface PlaygroundState {
  /** By flow id (`new` for an unsaved flow): kept while the app is open, e.g. across a trace visit. */
  readonly conversations: Readonly<Record<string, PlaygroundConversation>>;
  readonly update: (
    key: string,
    change: (conversation: PlaygroundConversation) => PlaygroundConversation,
  ) => void;
  readonly patchMessage: (key: string, id: string, patch: Partial<ChatMessageView>) => void;
  readonly reset: (key: string) => void;
  /** Moves a conversation to another key (an unsaved flow got its id). */
  readonly rename: (from: string, to: string) => void;
}

export const usePlaygroundStore = create<PlaygroundState>()((set) => ({
  conversations: {},
  update: (key, change) =>
    set((state) => ({
      conversations: { ...state.conversations, [key]: change(state.conversations[key] ?? EMPTY) },
    })),
  patchMessage: (key, id, patch) =>
    set((state) => {
      const conversation = state.conversations[key] ?? EMPTY;
      const messages = conversation.messages.map((message) =>
        message.id === id ? { ...message, ...patch } : message,
      );
      return { conversations: { ...state.conversations, [key]: { ...conversation, messages } } };
    }),
  reset: (key) => set((state) => ({ conversations: { ...state.conversations, [key]: EMPTY } })),
  rename: (from, to) =>
    set((state) => {
      const { [from]: moved, ...rest } = state.conversations;
      return moved ? { conversations: { ...rest, [to]: moved } } : {};
    }),
}));

export function conversationOf(key: string): PlaygroundConversation {
  return usePlaygroundStore.getState().conversations[key] ?? EMPTY;
}

export const emptyConversation = EMPTY;
