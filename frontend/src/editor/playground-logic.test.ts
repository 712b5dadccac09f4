import { describe, expect, it } from "vitest";
import type { RunEvent } from "../api/runs";
import { applyRunEvents, emptyRunView } from "../runs/run-state";
import {
  answerFromOutputs,
  detectMessageInput,
  detectSessionInput,
  type FlowNodeLike,
  flowRunInputs,
  newPlaygroundSession,
  streamedText,
  streamSources,
} from "./playground-logic";

const input = (id: string, name: string, type = "Text", required = true): FlowNodeLike => ({
  id,
  data: { operator: "core.input", params: { name, type, required } },
});
const op = (id: string, operator: string, params: Record<string, unknown> = {}) => ({
  id,
  data: { operator, params },
});

describe("playground input detection", () => {
  it("reads core.input names and trigger.http fields", () => {
    const inputs = flowRunInputs([
      input("a", "question"),
      op("h", "trigger.http", {
        fields: [
          { name: "conversation_id", type: "Text", required: false },
          { name: "question", type: "Text" },
        ],
      }),
      op("c", "llm.chat"),
    ]);
    expect(inputs).toEqual([
      { name: "question", type: "Text", required: true },
      { name: "conversation_id", type: "Text", required: false },
    ]);
    expect(detectMessageInput(inputs)).toBe("question");
    expect(detectSessionInput(inputs)).toBe("conversation_id");
  });

  it("prefers message, question, query, user_input, input, prompt, text in that order", () => {
    const names = (...list: string[]) =>
      list.map((name) => ({ name, type: "Text", required: true }));
    expect(detectMessageInput(names("text", "prompt", "query"))).toBe("query");
    expect(detectMessageInput(names("input", "message"))).toBe("message");
    expect(detectMessageInput(names("user_input", "prompt"))).toBe("user_input");
  });

  it("falls back to the single Text input (not the session), else none", () => {
    const inputs = [
      { name: "topic", type: "Text", required: true },
      { name: "limit", type: "Int", required: false },
      { name: "session_id", type: "Text", required: false },
    ];
    expect(detectMessageInput(inputs)).toBe("topic");
    expect(detectSessionInput(inputs)).toBe("session_id");
    expect(
      detectMessageInput([...inputs, { name: "tone", type: "Text", required: true }]),
    ).toBeNull();
    expect(detectMessageInput([])).toBeNull();
    expect(detectSessionInput(inputs.slice(0, 2))).toBeNull();
  });

  it("makes a playground session per conversation", () => {
    expect(newPlaygroundSession("f1", () => "abc")).toBe("playground:f1:abc");
    const a = newPlaygroundSession("f1");
    const b = newPlaygroundSession("f1");
    expect(a).toMatch(/^playground:f1:[0-9a-f]{16}$/);
    expect(a).not.toBe(b);
  });
});

describe("playground streaming and answers", () => {
  const nodes = [
    input("in", "message"),
    op("mem", "llm.conversation_memory"),
    op("chat", "llm.chat"),
    op("other", "llm.summarize"),
    op("out", "core.output"),
  ];
  const edges = [
    { source: "in", target: "mem" },
    { source: "mem", target: "chat" },
    { source: "chat", target: "out" },
  ];

  it("streams from the output, then the llm nodes feeding it", () => {
    const sources = streamSources(nodes, edges);
    expect(sources).toEqual(["out", "chat", "mem", "other"]);
    const base = { run_id: "r1", ts: 0 };
    const view = applyRunEvents(emptyRunView("r1"), [
      {
        ...base,
        seq: 1,
        type: "run_started",
        flow_id: "f",
        flow_version: 1,
        node_ids: ["chat", "out"],
        trigger: "editor",
      },
      { ...base, seq: 2, type: "node_chunk", node_id: "chat", port: "tokens", data: "Hello" },
      { ...base, seq: 3, type: "node_chunk", node_id: "chat", port: "tokens", data: " wor" },
    ] as RunEvent[]);
    expect(streamedText(view, sources)).toBe("Hello wor");
    expect(streamedText(emptyRunView("r2"), sources)).toBe("");
  });

  it("takes the answer from Message, text and dict outputs; tables, charts and chunks as extras", () => {
    expect(
      answerFromOutputs({
        result: { role: "assistant", content: "Hi", name: null, tool_call_id: null },
      }).content,
    ).toBe("Hi");
    expect(answerFromOutputs({ a: "plain" }).content).toBe("plain");
    expect(answerFromOutputs({ a: { answer: "from dict", score: 1 } }).content).toBe("from dict");
    const chunk = { id: "c1", text: "passage", document_id: "d" };
    const rich = answerFromOutputs(
      {
        table: { columns: ["x"], rows: [[1]] },
        chart: { kind: "bar", title: "", option: { series: [] } },
        answer: "See [c1]",
      },
      [[chunk]],
    );
    expect(rich.content).toBe("See [c1]");
    expect(rich.extras.tables).toEqual([{ columns: ["x"], rows: [[1]], truncated: false }]);
    expect(rich.extras.charts?.[0]?.kind).toBe("bar");
    expect(rich.extras.citations).toEqual([chunk]);
    expect(answerFromOutputs({ n: 3 }).content).toBe('```json\n{\n  "n": 3\n}\n```');
  });
});
