import { act, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { useCanvasStore } from "../canvas/canvas-store";
import { emptyFlowDocument, type FlowDocument } from "../canvas/flow-document";
import { useRunStore } from "../runs/run-store";
import {
  isSecretInput,
  REMEMBERED_PREFIX,
  RunInputs,
  readRememberedInputs,
  useRememberedRunInputs,
  writeRememberedInputs,
} from "./run-inputs";

function input(name: string, type = "Text"): NonNullable<FlowDocument["nodes"]>[number] {
  return {
    id: `in_${name}`,
    operator: "core.input",
    operator_version: 1,
    label: null,
    params: { name, type, required: true },
    position: { x: 0, y: 0 },
    disabled: false,
  };
}

function flow(id: string, names: string[], secretVariables: string[] = []): FlowDocument {
  return {
    ...emptyFlowDocument(),
    id,
    name: id,
    version: 1,
    nodes: names.map((name) => input(name, name === "count" ? "Int" : "Text")),
    variables: secretVariables.map((name) => ({
      name,
      type: "secret",
      required: true,
      default: null,
      description: "",
    })),
  };
}

function Editor({ flowId }: { readonly flowId: string | null }) {
  useRememberedRunInputs(flowId);
  return <RunInputs />;
}

const stored = (flowId: string) => {
  const raw = window.localStorage.getItem(REMEMBERED_PREFIX + flowId);
  return raw ? JSON.parse(raw) : null;
};

beforeEach(() => {
  window.localStorage.clear();
  useRunStore.setState({ inputs: {} });
});
afterEach(() => window.localStorage.clear());

describe("isSecretInput", () => {
  it("knows credentials by type, name or a secret variable", () => {
    const none = new Set<string>();
    expect(isSecretInput("question", "Text", none)).toBe(false);
    expect(isSecretInput("top_k", "Int", none)).toBe(false);
    expect(isSecretInput("api_key", "Text", none)).toBe(true);
    expect(isSecretInput("dbPassword", "Text", none)).toBe(true);
    expect(isSecretInput("github_token", "Text", none)).toBe(true);
    expect(isSecretInput("value", "Secret", none)).toBe(true);
    expect(isSecretInput("hush", "Text", new Set(["hush"]))).toBe(true);
  });
});

describe("remembered run inputs", () => {
  it("stores typed inputs per flow and never a secret one", () => {
    const isSecret = (name: string) => name === "api_key";
    writeRememberedInputs("f1", { question: "Why?", api_key: "sk-1", empty: "" }, isSecret);
    expect(stored("f1")).toEqual({ question: "Why?" });
    window.localStorage.setItem(
      `${REMEMBERED_PREFIX}f2`,
      JSON.stringify({ q: "x", api_key: "old", n: 3 }),
    );
    expect(readRememberedInputs("f2", isSecret)).toEqual({ q: "x" });
    window.localStorage.setItem(`${REMEMBERED_PREFIX}f3`, "{broken");
    expect(readRememberedInputs("f3", isSecret)).toBeNull();
    writeRememberedInputs("f1", { api_key: "sk-2" }, isSecret);
    expect(stored("f1")).toBeNull();
  });

  it("restores a flow's inputs after a reload, keeps flows apart and skips secrets", () => {
    act(() => useCanvasStore.getState().load(flow("f1", ["question", "count", "api_key"], [])));
    const first = render(<Editor flowId="f1" />);
    fireEvent.change(screen.getByTestId("run-input-question"), { target: { value: "Hello" } });
    fireEvent.change(screen.getByTestId("run-input-count"), { target: { value: "3" } });
    fireEvent.change(screen.getByTestId("run-input-api_key"), { target: { value: "sk-live" } });
    expect((screen.getByTestId("run-input-api_key") as HTMLInputElement).type).toBe("password");
    expect(stored("f1")).toEqual({ question: "Hello", count: "3" });
    expect(JSON.stringify(window.localStorage)).not.toContain("sk-live");
    first.unmount();

    // a reload: the run store starts empty, the flow loads, its inputs come back (not the secret)
    useRunStore.setState({ inputs: {} });
    render(<Editor flowId="f1" />);
    expect((screen.getByTestId("run-input-question") as HTMLInputElement).value).toBe("Hello");
    expect((screen.getByTestId("run-input-count") as HTMLInputElement).value).toBe("3");
    expect((screen.getByTestId("run-input-api_key") as HTMLInputElement).value).toBe("");
  });

  it("opening another flow does not carry the inputs over", () => {
    act(() => useCanvasStore.getState().load(flow("a", ["question"])));
    const view = render(<Editor flowId="a" />);
    fireEvent.change(screen.getByTestId("run-input-question"), { target: { value: "for a" } });
    act(() => useCanvasStore.getState().load(flow("b", ["question"])));
    view.rerender(<Editor flowId="b" />);
    expect((screen.getByTestId("run-input-question") as HTMLInputElement).value).toBe("");
    fireEvent.change(screen.getByTestId("run-input-question"), { target: { value: "for b" } });
    act(() => useCanvasStore.getState().load(flow("a", ["question"])));
    view.rerender(<Editor flowId="a" />);
    expect((screen.getByTestId("run-input-question") as HTMLInputElement).value).toBe("for a");
    expect(stored("b")).toEqual({ question: "for b" });
  });

  it("keeps what was typed in a new flow once it is saved, and drops a value that became secret", () => {
    act(() => useCanvasStore.getState().load(flow("", ["hush"])));
    const view = render(<Editor flowId={null} />);
    fireEvent.change(screen.getByTestId("run-input-hush"), { target: { value: "typed" } });
    view.rerender(<Editor flowId="new-id" />);
    expect(stored("new-id")).toEqual({ hush: "typed" });
    act(() => useCanvasStore.getState().load(flow("new-id", ["hush"], ["hush"])));
    view.rerender(<Editor flowId="new-id" />);
    expect(stored("new-id")).toBeNull();
  });
});
