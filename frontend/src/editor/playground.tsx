import { useCallback, useEffect, useMemo, useRef } from "react";
import { api } from "../api/client";
import { cancelRun, type RunDetail } from "../api/runs";
import { useCanvasStore } from "../canvas/canvas-store";
import { ChatView } from "../chat/chat-view";
import type { ChatMessageView } from "../chat/types";
import type { RunStartRequest } from "../runs/run-socket";
import { isRunActive, type RunView } from "../runs/run-state";
import { useRunStore } from "../runs/run-store";
import {
  answerFromOutputs,
  detectMessageInput,
  detectSessionInput,
  type FlowEdgeLike,
  type FlowNodeLike,
  flowRunInputs,
  newPlaygroundSession,
  nodeOutputValues,
  streamedText,
  streamSources,
} from "./playground-logic";
import { emptyConversation, usePlaygroundStore } from "./playground-store";
import { inputValue } from "./run-inputs";
import "./playground.css";

/** How often a reply's run is polled when the editor shows another run meanwhile. */
const POLL_MS = 1_000;

export interface SavedFlow {
  readonly id: string;
  readonly version: number;
}

export interface PlaygroundProps {
  readonly flowId: string | null;
  /** Saves the flow when it has unsaved changes; `null` when saving failed (the editor says why). */
  readonly ensureSaved: () => Promise<SavedFlow | null>;
  /** Starts an editor run over the run socket (the editor then shows it); resolves with its id. */
  readonly start: (request: RunStartRequest) => Promise<string>;
  readonly onClose: () => void;
}

/** The flow's structure as the playground reads it, stable between unrelated store updates. */
/** Operators whose params decide the playground's inputs (the only params the shape keeps). */
const INPUT_OPERATORS = new Set(["core.input", "trigger.http"]);

/**
 * What the playground reads of the flow: operators, edges, and the params of input nodes only, so a
 * drag or an edit elsewhere on a large flow costs a short string, not every node's params serialised.
 */
function useFlowShape(): { nodes: FlowNodeLike[]; edges: FlowEdgeLike[] } {
  const key = useCanvasStore((state) =>
    JSON.stringify({
      nodes: state.nodes.flatMap((node) => {
        if (node.type !== "operator") return [];
        const operator = node.data.operator;
        const params = INPUT_OPERATORS.has(operator) ? node.data.params : undefined;
        return [{ id: node.id, data: { operator, params } }];
      }),
      edges: state.edges.map((edge) => ({ source: edge.source, target: edge.target })),
    }),
  );
  return useMemo(() => JSON.parse(key), [key]);
}

type Final = Pick<ChatMessageView, "content" | "status" | "extras">;

function finalFromView(view: RunView, streamed: string): Final {
  const { content, extras } = answerFromOutputs(view.outputs, nodeOutputValues(view));
  return finalOf(view.status, content || streamed, extras, view.error, view.durationMs);
}

function finalFromDetail(detail: RunDetail): Final {
  const { run, nodes } = detail;
  const previews = nodes.flatMap((node) => Object.values(node.outputs_preview ?? {}));
  const { content, extras } = answerFromOutputs(run.outputs ?? {}, previews);
  const duration =
    run.started_at && run.finished_at
      ? Date.parse(run.finished_at) - Date.parse(run.started_at)
      : null;
  return finalOf(run.status, content, extras, run.error ?? null, duration);
}

function finalOf(
  status: RunView["status"],
  content: string,
  extras: NonNullable<ChatMessageView["extras"]>,
  error: RunView["error"],
  durationMs: number | null,
): Final {
  const withTime = durationMs === null ? extras : { ...extras, duration_ms: durationMs };
  if (status === "succeeded") return { status: "complete", content, extras: withTime };
  if (status === "cancelled") return { status: "cancelled", content, extras: withTime };
  return {
    status: "failed",
    content,
    extras: {
      ...withTime,
      error: {
        code: error?.code,
        message: error?.message ?? `The run ended ${status}.`,
        node_id: error?.node_id ?? null,
      },
    },
  };
}

let counter = 0;
const nextId = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${++counter}`;

/**
 * The editor's Playground: chat with the flow being edited. Each message starts a real editor run (the
 * message into the flow's message input, the conversation's memory session into its session input),
 * streams the answer from the run's chunks and ends with the run's outputs; each answer links to its trace.
 */
export function Playground({ flowId, ensureSaved, start, onClose }: PlaygroundProps) {
  const key = flowId ?? "new";
  const conversation = usePlaygroundStore((state) => state.conversations[key]) ?? emptyConversation;
  const { nodes, edges } = useFlowShape();
  const inputs = useMemo(() => flowRunInputs(nodes), [nodes]);
  const messageInput = detectMessageInput(inputs);
  const sessionInput = detectSessionInput(inputs);
  const sources = useMemo(() => streamSources(nodes, edges), [nodes, edges]);
  const pending = conversation.messages.find((message) => message.status === "running");
  const pendingRun = pending?.runId ?? null;
  const live = useRunStore((state) =>
    pendingRun && state.view?.runId === pendingRun ? state.view : null,
  );
  const keyRef = useRef(key);
  keyRef.current = key;

  const finish = useCallback((messageId: string, final: Final) => {
    usePlaygroundStore.getState().patchMessage(keyRef.current, messageId, final);
  }, []);

  // The shown run finished: its outputs are the answer.
  useEffect(() => {
    if (!pending || !live || isRunActive(live.status)) return;
    finish(pending.id, finalFromView(live, streamedText(live, sources)));
  }, [pending, live, sources, finish]);

  // The editor shows another run (History, a reload): follow the reply's run through the API.
  useEffect(() => {
    if (!pending || !pendingRun || live) return;
    let stopped = false;
    const poll = async () => {
      const { data } = await api.GET("/api/runs/{run_id}", {
        params: { path: { run_id: pendingRun } },
      });
      if (stopped) return;
      if (data && !isRunActive(data.run.status)) finish(pending.id, finalFromDetail(data));
      else timer = window.setTimeout(() => void poll(), POLL_MS);
    };
    let timer = window.setTimeout(() => void poll(), POLL_MS);
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, [pending, pendingRun, live, finish]);

  const send = useCallback(
    async (text: string) => {
      const store = usePlaygroundStore.getState();
      const answerId = nextId("a");
      const fail = (message: string, code?: string) =>
        store.patchMessage(keyRef.current, answerId, {
          status: "failed",
          extras: { error: { message, code } },
        });
      store.update(keyRef.current, (current) => ({
        ...current,
        messages: [
          ...current.messages,
          { id: nextId("u"), role: "user", content: text, status: "complete" },
          { id: answerId, role: "assistant", content: "", status: "running" },
        ],
      }));
      if (!messageInput) {
        fail("This flow reads no message input.", "no_message_input");
        return;
      }
      const before = keyRef.current;
      const saved = await ensureSaved();
      if (!saved) {
        fail("Save the flow before chatting with it (saving failed: see the notice).", "unsaved");
        return;
      }
      if (before !== saved.id) store.rename(before, saved.id);
      keyRef.current = saved.id;
      let session = usePlaygroundStore.getState().conversations[saved.id]?.sessionId ?? null;
      if (!session) {
        session = newPlaygroundSession(saved.id);
        const chosen = session;
        store.update(saved.id, (current) => ({ ...current, sessionId: chosen }));
      }
      const typed = useRunStore.getState().inputs;
      const others = inputs.filter(
        (input) => input.name !== messageInput && input.name !== sessionInput,
      );
      const missing = others.find((input) => input.required && !typed[input.name]);
      if (missing) {
        fail(`The run input '${missing.name}' is required: fill it in under Inputs.`, "input");
        return;
      }
      const values: Record<string, unknown> = Object.fromEntries(
        others
          .filter((input) => typed[input.name])
          .map((input) => [input.name, inputValue(input.type, typed[input.name] ?? "")]),
      );
      values[messageInput] = text;
      if (sessionInput) values[sessionInput] = session;
      try {
        const runId = await start({ flow_id: saved.id, version: saved.version, inputs: values });
        usePlaygroundStore.getState().patchMessage(saved.id, answerId, { runId });
      } catch (error) {
        fail(error instanceof Error ? error.message : String(error), "run_start");
      }
    },
    [messageInput, sessionInput, inputs, ensureSaved, start],
  );

  const stop = useCallback(() => {
    if (pendingRun) void cancelRun(pendingRun).catch(() => undefined);
  }, [pendingRun]);

  const newChat = () => {
    stop();
    usePlaygroundStore.getState().reset(key);
  };

  const shown = useMemo(
    () =>
      conversation.messages.map((message) =>
        live && message.id === pending?.id
          ? { ...message, content: streamedText(live, sources) }
          : message,
      ),
    [conversation.messages, live, pending?.id, sources],
  );

  return (
    <aside className="playground" data-testid="playground" aria-label="Playground">
      <header className="playground__header">
        <strong>Playground</strong>
        <button
          type="button"
          className="button button--ghost button--small"
          onClick={newChat}
          data-testid="playground-new-chat"
        >
          New chat
        </button>
        <button
          type="button"
          className="button button--ghost button--small"
          onClick={onClose}
          aria-label="Close the playground"
        >
          ✕
        </button>
      </header>
      <p className="playground__wiring muted" data-testid="playground-wiring">
        {messageInput ? (
          <>
            Message → <code>{messageInput}</code>
            {sessionInput ? (
              <>
                {" "}
                · memory session → <code>{sessionInput}</code>
                {conversation.sessionId ? (
                  <code className="playground__session" title={conversation.sessionId}>
                    {conversation.sessionId.split(":").at(-1)}
                  </code>
                ) : null}
              </>
            ) : (
              " · no session input: every message is answered on its own"
            )}
          </>
        ) : (
          <>
            No message input: add an <strong>Input</strong> named <code>message</code> (Text).
          </>
        )}
      </p>
      <ChatView
        messages={shown}
        busy={pending !== undefined}
        placeholder={messageInput ? `Message (${messageInput})…` : "Add a message input first"}
        emptyTitle="Chat with this flow"
        emptyDescription="Each message runs the flow; answers stream in as the model writes them."
        onSend={(text) => void send(text)}
        onStop={stop}
        traceHref={(runId) => `/runs/${runId}`}
      />
    </aside>
  );
}
