import { act, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { RunEvent } from "../api/runs";
import { useCanvasStore } from "../canvas/canvas-store";
import type { CanvasNode } from "../canvas/canvas-types";
import { useRunStore } from "../runs/run-store";
import { Playground } from "./playground";
import { usePlaygroundStore } from "./playground-store";

const operator = (id: string, op: string, params: Record<string, unknown> = {}) =>
  ({
    id,
    type: "operator",
    position: { x: 0, y: 0 },
    data: {
      operator: op,
      operatorVersion: 1,
      label: null,
      params,
      disabled: false,
      ports: { inputs: [], outputs: [] },
    },
  }) as CanvasNode;

const base = { run_id: "r1", ts: 0 };
const emit = (events: object[]) =>
  act(() => {
    for (const event of events) useRunStore.getState().apply(event as RunEvent);
  });

beforeEach(() => {
  useCanvasStore.setState({
    nodes: [
      operator("message", "core.input", { name: "message" }),
      operator("session", "core.input", { name: "session_id", required: false }),
      operator("memory", "llm.conversation_memory"),
      operator("chat", "llm.chat"),
      operator("out", "core.output", { name: "answer" }),
    ],
    edges: [
      { id: "e1", source: "message", target: "memory" },
      { id: "e2", source: "memory", target: "chat" },
      { id: "e3", source: "chat", target: "out" },
    ],
  });
  useRunStore.setState({ view: null, inputs: {} });
  usePlaygroundStore.setState({ conversations: {} });
});

afterEach(() => vi.restoreAllMocks());

function renderPlayground() {
  const start = vi.fn(async (_request: unknown) => {
    useRunStore.getState().show("r1", "f1");
    return "r1";
  });
  const ensureSaved = vi.fn(async () => ({ id: "f1", version: 3 }));
  render(<Playground flowId="f1" ensureSaved={ensureSaved} start={start} onClose={() => {}} />);
  return { start, ensureSaved };
}

function inputsOf(start: { mock: { calls: unknown[][] } }, call: number): Record<string, string> {
  const request = start.mock.calls[call]?.[0] as { inputs?: Record<string, string> } | undefined;
  return request?.inputs ?? {};
}

async function sendMessage(text: string) {
  fireEvent.change(screen.getByTestId("chat-input"), { target: { value: text } });
  await act(async () => {
    fireEvent.keyDown(screen.getByTestId("chat-input"), { key: "Enter" });
  });
}

describe("Playground", () => {
  it("runs the flow with the message and the session, streams the answer and ends with the outputs", async () => {
    const { start, ensureSaved } = renderPlayground();
    expect(screen.getByTestId("playground-wiring")).toHaveTextContent("Message → message");
    await sendMessage("Hi there");
    expect(ensureSaved).toHaveBeenCalledOnce();
    const request = start.mock.calls[0]?.[0] as {
      flow_id: string;
      version: number;
      inputs: Record<string, string>;
    };
    expect(request.flow_id).toBe("f1");
    expect(request.version).toBe(3);
    expect(request.inputs.message).toBe("Hi there");
    expect(request.inputs.session_id).toMatch(/^playground:f1:[0-9a-f]{16}$/);
    const answer = () => screen.getAllByTestId("chat-message")[1] as HTMLElement;
    expect(answer()).toHaveAttribute("data-status", "running");
    expect(screen.getByTestId("chat-stop")).toBeInTheDocument();

    emit([
      {
        ...base,
        seq: 1,
        type: "run_started",
        flow_id: "f1",
        flow_version: 3,
        node_ids: ["chat", "out"],
      },
      { ...base, seq: 2, type: "node_chunk", node_id: "chat", port: "tokens", data: "Hel" },
    ]);
    expect(answer()).toHaveTextContent("Hel");
    emit([{ ...base, seq: 3, type: "node_chunk", node_id: "chat", port: "tokens", data: "lo!" }]);
    expect(answer()).toHaveTextContent("Hello!");
    expect(answer()).toHaveAttribute("data-status", "running");

    emit([
      {
        ...base,
        seq: 4,
        type: "run_finished",
        status: "succeeded",
        duration_ms: 1200,
        outputs: { answer: { role: "assistant", content: "Hello **friend**", name: null } },
      },
    ]);
    await waitFor(() => expect(answer()).toHaveAttribute("data-status", "complete"));
    expect(answer().querySelector("strong")).toHaveTextContent("friend");
    expect(screen.getByTestId("chat-trace-link")).toHaveAttribute("href", "/runs/r1");

    // The next turn keeps the session; New chat starts another one.
    const session = request.inputs.session_id;
    useRunStore.setState({ view: null });
    await sendMessage("Again");
    expect(inputsOf(start, 1).session_id).toBe(session);
    fireEvent.click(screen.getByTestId("playground-new-chat"));
    expect(screen.queryAllByTestId("chat-message")).toHaveLength(0);
    await sendMessage("Fresh");
    expect(inputsOf(start, 2).session_id).not.toBe(session);
  });

  it("shows a failed run's error on the answer", async () => {
    renderPlayground();
    await sendMessage("Hi");
    emit([
      { ...base, seq: 1, type: "run_started", flow_id: "f1", flow_version: 3, node_ids: ["chat"] },
      {
        ...base,
        seq: 2,
        type: "run_finished",
        status: "failed",
        duration_ms: 5,
        error: { code: "operator_error", message: "model unreachable", node_id: "chat" },
      },
    ]);
    await waitFor(() =>
      expect(screen.getAllByTestId("chat-message")[1]).toHaveAttribute("data-status", "failed"),
    );
    expect(screen.getByRole("alert")).toHaveTextContent("model unreachable");
  });

  it("refuses to send when a required run input is empty", async () => {
    useCanvasStore.setState({
      nodes: [...useCanvasStore.getState().nodes, operator("tone", "core.input", { name: "tone" })],
    });
    const { start } = renderPlayground();
    await sendMessage("Hi");
    expect(start).not.toHaveBeenCalled();
    expect(screen.getByRole("alert")).toHaveTextContent("The run input 'tone' is required");
  });
});
