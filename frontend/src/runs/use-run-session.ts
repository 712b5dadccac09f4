import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useRef } from "react";
import { runKeys } from "../api/runs";
import { redirectToLogin } from "../auth/redirect";
import { defaultSocketUrl, RunSocket, type RunStartRequest } from "./run-socket";
import { useRunStore } from "./run-store";

const RUN_PARAM = "run";

/** The run id in the page URL (`?run=…`), so a reload shows the same run. */
export function runIdFromUrl(): string | null {
  return new URLSearchParams(window.location.search).get(RUN_PARAM);
}

function setRunInUrl(runId: string | null): void {
  const url = new URL(window.location.href);
  if (runId) url.searchParams.set(RUN_PARAM, runId);
  else url.searchParams.delete(RUN_PARAM);
  window.history.replaceState(window.history.state, "", url);
}

/** Shows `runId` in the store and the URL, leaving the run shown before. */
function follow(socket: RunSocket | null, runId: string, flowId: string | null): void {
  const previous = useRunStore.getState().view?.runId;
  if (previous && previous !== runId) socket?.unsubscribe(previous);
  useRunStore.getState().show(runId, flowId);
  setRunInUrl(runId);
}

export interface RunSession {
  /** Starts a run of the saved flow over the socket and shows it. */
  readonly start: (request: RunStartRequest) => Promise<string>;
  /** Shows a run (past or live): replays its events from seq 0, then follows live ones. */
  readonly open: (runId: string, flowId: string | null) => void;
  readonly cancel: () => void;
  readonly close: () => void;
}

/**
 * One `/api/ws` connection for the editor page. The shown run's id is kept in the URL; on mount a run
 * named there is replayed and followed, so reloading mid-run restores it.
 */
export function useRunSession(): RunSession {
  const socketRef = useRef<RunSocket | null>(null);
  const client = useQueryClient();

  useEffect(() => {
    const store = useRunStore.getState();
    const socket = new RunSocket({
      url: defaultSocketUrl(),
      onEvent: (event) => {
        useRunStore.getState().apply(event);
        if (event.type === "run_finished" || event.type === "run_started") {
          void client.invalidateQueries({ queryKey: runKeys.all });
        }
      },
      onState: (state, attempt) => useRunStore.getState().setConnection(state, attempt),
      onError: (error) => useRunStore.getState().setError(error.message),
      onAccepted: (accepted) => follow(socket, accepted.run_id, accepted.flow_id),
      onRevoked: () => {
        void client.invalidateQueries();
        redirectToLogin();
      },
    });
    socketRef.current = socket;
    socket.connect();
    const initial = runIdFromUrl();
    if (initial) {
      store.show(initial, null);
      socket.subscribe(initial, 0);
    } else {
      store.clear();
    }
    return () => {
      socket.close();
      socketRef.current = null;
    };
  }, [client]);

  const start = useCallback(
    async (request: RunStartRequest) => {
      const socket = socketRef.current;
      if (!socket) throw new Error("The run connection is not open.");
      useRunStore.getState().setError(null);
      const accepted = await socket.startRun(request);
      void client.invalidateQueries({ queryKey: runKeys.all });
      return accepted.run_id;
    },
    [client],
  );

  const open = useCallback((runId: string, flowId: string | null) => {
    if (useRunStore.getState().view?.runId === runId) return;
    follow(socketRef.current, runId, flowId);
    socketRef.current?.subscribe(runId, 0);
  }, []);

  const cancel = useCallback(() => {
    const runId = useRunStore.getState().view?.runId;
    if (runId) socketRef.current?.cancel(runId);
  }, []);

  const close = useCallback(() => {
    const runId = useRunStore.getState().view?.runId;
    if (runId) socketRef.current?.unsubscribe(runId);
    useRunStore.getState().clear();
    setRunInUrl(null);
  }, []);

  return { start, open, cancel, close };
}
