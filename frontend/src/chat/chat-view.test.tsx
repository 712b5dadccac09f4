import { act, fireEvent, render, screen, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { ChatView } from "./chat-view";
import { safeUrl } from "./markdown";
import type { ChatMessageView, ChatViewProps } from "./types";

const user = (id: string, content: string): ChatMessageView => ({
  id,
  role: "user",
  content,
  status: "complete",
});
const answer = (id: string, content: string, extra: Partial<ChatMessageView> = {}) =>
  ({ id, role: "assistant", content, status: "complete", ...extra }) as ChatMessageView;

function renderChat(props: Partial<ChatViewProps> = {}) {
  const onSend = vi.fn();
  const view = render(<ChatView messages={[]} busy={false} onSend={onSend} {...props} />);
  return { ...view, onSend };
}

describe("ChatView markdown", () => {
  it("renders GFM: emphasis, lists, tables and code blocks with a copy button", () => {
    const text = [
      "Hello **world**",
      "",
      "- one",
      "- two",
      "",
      "| a | b |",
      "|---|---|",
      "| 1 | 2 |",
      "",
      "```python",
      "print('hi')",
      "```",
    ].join("\n");
    renderChat({ messages: [answer("a1", text)] });
    const message = screen.getByTestId("chat-message");
    expect(message.querySelector("strong")).toHaveTextContent("world");
    expect(message.querySelectorAll("li")).toHaveLength(2);
    expect(message.querySelector("table td")).toHaveTextContent("1");
    expect(message.querySelector("pre code")).toHaveTextContent("print('hi')");
    expect(within(message).getByText("python")).toBeInTheDocument();
    expect(within(message).getByTestId("chat-code-copy")).toBeInTheDocument();
  });

  it("never renders raw HTML or script links", () => {
    const hostile = [
      "<script>window.__pwned = true</script>",
      '<img src=x onerror="window.__pwned = true">',
      "[click](javascript:alert(1)) [data](data:text/html,hi) [ok](https://example.org/a)",
      "[mail](mailto:a@example.org) ![pic](javascript:alert(2))",
    ].join("\n\n");
    const { container } = renderChat({ messages: [answer("a1", hostile)] });
    expect(container.querySelector("script")).toBeNull();
    expect(container.querySelector("img")).toBeNull();
    expect(container.innerHTML).not.toMatch(/javascript:|onerror|data:text/);
    expect((window as { __pwned?: boolean }).__pwned).toBeUndefined();
    const links = [...container.querySelectorAll(".chat-markdown a")];
    expect(links.map((link) => link.getAttribute("href"))).toEqual([
      "https://example.org/a",
      "mailto:a@example.org",
    ]);
    for (const link of links) {
      expect(link.getAttribute("rel")).toContain("noopener");
      expect(link.getAttribute("target")).toBe("_blank");
    }
    expect(screen.getByText("click")).toBeInTheDocument();
  });

  it("keeps only http(s), mailto and its own citation links", () => {
    expect(safeUrl("https://a.example")).toBe("https://a.example");
    expect(safeUrl(" JavaScript:alert(1)")).toBeNull();
    expect(safeUrl("/relative")).toBeNull();
    expect(safeUrl("#cite-abc")).toBe("#cite-abc");
  });

  it("links [chunk-id] markers to the cited sources", () => {
    const citations = [{ id: "c1", text: "Passage one", source: "doc.pdf" }];
    renderChat({
      messages: [answer("a1", "It is so [c1].", { extras: { citations } })],
    });
    const link = screen.getByRole("link", { name: "[1]" });
    expect(link).toHaveAttribute("data-cites", "c1");
    expect(screen.getByText("1 source")).toBeInTheDocument();
    fireEvent.click(link);
    expect(screen.getByTestId("citation")).toHaveAttribute("open");
  });

  it("shows tables, charts and errors from the extras", () => {
    renderChat({
      messages: [
        answer("a1", "Rows:", {
          extras: {
            tables: [{ columns: ["x"], rows: [[1]], truncated: false }],
            charts: [{ kind: "bar", title: "t", option: { series: [] } }],
          },
        }),
        answer("a2", "", {
          status: "failed",
          extras: { error: { message: "model unreachable", node_id: "chat" } },
        }),
      ],
    });
    expect(screen.getByTestId("table-view")).toHaveTextContent("x1");
    expect(screen.getByTestId("chart-view")).toBeInTheDocument();
    expect(screen.getByRole("alert")).toHaveTextContent("chat model unreachable");
    expect(screen.getByText("Failed")).toBeInTheDocument();
  });
});

describe("ChatView interaction", () => {
  it("sends on Enter, keeps Shift+Enter for a new line, and offers suggestions when empty", () => {
    const { onSend } = renderChat({ suggestedQuestions: ["What is Rivulet?"] });
    const input = screen.getByTestId("chat-input");
    fireEvent.change(input, { target: { value: "line one" } });
    fireEvent.keyDown(input, { key: "Enter", shiftKey: true });
    expect(onSend).not.toHaveBeenCalled();
    fireEvent.keyDown(input, { key: "Enter" });
    expect(onSend).toHaveBeenCalledWith("line one");
    expect(input).toHaveValue("");
    fireEvent.click(screen.getByTestId("chat-suggestion"));
    expect(onSend).toHaveBeenLastCalledWith("What is Rivulet?");
    expect(screen.getByLabelText("Message")).toBe(input);
  });

  it("updates a streaming answer in place and offers Stop while busy", () => {
    const onStop = vi.fn();
    const onRegenerate = vi.fn();
    const running = answer("a1", "Hel", { status: "running" });
    const { rerender, onSend } = renderChat({
      messages: [user("u1", "hi"), running],
      busy: true,
      onStop,
      onRegenerate,
    });
    const message = () => screen.getAllByTestId("chat-message")[1];
    expect(message()).toHaveAttribute("data-status", "running");
    expect(message()).toHaveTextContent("Hel");
    expect(screen.queryByTestId("chat-send")).toBeNull();
    expect(screen.queryByTestId("chat-regenerate")).toBeNull();
    fireEvent.click(screen.getByTestId("chat-stop"));
    expect(onStop).toHaveBeenCalledOnce();
    const props = { onSend, onStop, onRegenerate };
    rerender(
      <ChatView
        messages={[user("u1", "hi"), { ...running, content: "Hello there" }]}
        busy
        {...props}
      />,
    );
    expect(message()).toHaveTextContent("Hello there");
    rerender(
      <ChatView
        messages={[user("u1", "hi"), { ...running, content: "Hello there", status: "complete" }]}
        busy={false}
        {...props}
      />,
    );
    expect(message()).toHaveAttribute("data-status", "complete");
    fireEvent.click(screen.getByTestId("chat-regenerate"));
    expect(onRegenerate).toHaveBeenCalledOnce();
  });

  it("offers regenerate only on the last answer, feedback toggles, and a trace link per run", () => {
    const onFeedback = vi.fn();
    renderChat({
      messages: [
        user("u1", "a"),
        answer("a1", "first", { runId: "run1", feedback: "up" }),
        user("u2", "b"),
        answer("a2", "second", { runId: "run2" }),
      ],
      onRegenerate: vi.fn(),
      onFeedback,
      traceHref: (runId) => (runId === "run2" ? `/runs/${runId}` : null),
    });
    expect(screen.getAllByTestId("chat-regenerate")).toHaveLength(1);
    const [first, second] = screen.getAllByTestId("chat-feedback-up");
    expect(first).toHaveAttribute("aria-pressed", "true");
    fireEvent.click(first as HTMLElement);
    expect(onFeedback).toHaveBeenLastCalledWith("a1", null);
    fireEvent.click(second as HTMLElement);
    expect(onFeedback).toHaveBeenLastCalledWith("a2", "up");
    fireEvent.click(screen.getAllByTestId("chat-feedback-down")[1] as HTMLElement);
    expect(onFeedback).toHaveBeenLastCalledWith("a2", "down");
    const links = screen.getAllByTestId("chat-trace-link");
    expect(links).toHaveLength(1);
    expect(links[0]).toHaveAttribute("href", "/runs/run2");
  });

  it("copies a message to the clipboard", async () => {
    const writeText = vi.fn().mockResolvedValue(undefined);
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    renderChat({ messages: [answer("a1", "Copy **me**")] });
    await act(async () => {
      fireEvent.click(screen.getByTestId("chat-copy"));
    });
    expect(writeText).toHaveBeenCalledWith("Copy **me**");
    expect(screen.getByTestId("chat-copy")).toHaveTextContent("Copied");
  });

  it("follows a streaming answer unless the user scrolled up", () => {
    const messages = [user("u1", "hi"), answer("a1", "x", { status: "running" })];
    const { container, rerender, onSend } = renderChat({ messages, busy: true });
    const scroller = container.querySelector(".chat-view__scroll") as HTMLDivElement;
    let height = 1000;
    Object.defineProperty(scroller, "scrollHeight", { get: () => height, configurable: true });
    Object.defineProperty(scroller, "clientHeight", { value: 200, configurable: true });
    const grow = (content: string) => {
      height += 100;
      rerender(
        <ChatView
          messages={[
            messages[0] as ChatMessageView,
            { ...(messages[1] as ChatMessageView), content },
          ]}
          busy
          onSend={onSend}
        />,
      );
    };
    grow("xx");
    expect(scroller.scrollTop).toBe(1100);
    scroller.scrollTop = 300;
    fireEvent.scroll(scroller);
    grow("xxx");
    expect(scroller.scrollTop).toBe(300);
  });
});
