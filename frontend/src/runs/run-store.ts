import { create } from "zustand";
import type { RunEvent } from "../api/runs";
import type { ConnectionState } from "./run-socket";
import { applyRunEvent, emptyRunView, type RunView } from "./run-state";

/**
 * The run the editor shows (live or replayed) and the socket's connection state. Operator nodes read
 * their own slice of `view.nodes` from here, so run updates never touch the canvas document.
 */
export interface RunStoreState {
  readonly view: RunView | null;
  readonly connection: ConnectionState;
  readonly reconnectAttempt: number;
  readonly error: string | null;
  /** The run inputs typed in the run panel, as text, by input name. */
  readonly inputs: Readonly<Record<string, string>>;
  readonly setInput: (name: string, text: string) => void;
  readonly show: (runId: string, flowId: string | null) => void;
  readonly apply: (event: RunEvent) => void;
  readonly clear: () => void;
  readonly setConnection: (state: ConnectionState, attempt: number) => void;
  readonly setError: (error: string | null) => void;
}

export const useRunStore = create<RunStoreState>()((set) => ({
  view: null,
  connection: "closed",
  reconnectAttempt: 0,
  error: null,
  inputs: {},
  setInput: (name, text) => set((state) => ({ inputs: { ...state.inputs, [name]: text } })),
  show: (runId, flowId) =>
    set((state) =>
      state.view?.runId === runId ? {} : { view: emptyRunView(runId, flowId), error: null },
    ),
  apply: (event) =>
    set((state) =>
      state.view && state.view.runId === event.run_id
        ? { view: applyRunEvent(state.view, event) }
        : {},
    ),
  clear: () => set({ view: null, error: null }),
  setConnection: (connection, reconnectAttempt) => set({ connection, reconnectAttempt }),
  setError: (error) => set({ error }),
}));
