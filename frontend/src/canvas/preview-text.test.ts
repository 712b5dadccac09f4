import { describe, expect, it } from "vitest";
import { previewText } from "./preview-text";

describe("previewText", () => {
  it("shows strings as is and other values as JSON, cut at the limit", () => {
    expect(previewText("hello")).toBe("hello");
    expect(previewText({ a: 1 })).toBe('{"a":1}');
    expect(previewText("abcdef", 4)).toBe("abc…");
  });

  it("shows a chat Message as role: content, a conversation one message per line", () => {
    const answer = { role: "assistant", content: "Hi!", name: null, tool_call_id: null };
    expect(previewText(answer)).toBe("assistant: Hi!");
    expect(previewText([{ role: "user", content: "Hello" }, answer])).toBe(
      "user: Hello\nassistant: Hi!",
    );
    expect(previewText([])).toBe("[]");
  });
});
