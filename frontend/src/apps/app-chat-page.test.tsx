import { act, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { jsonResponse as json, stubServer } from "../test/fake-server";
import { renderWithClient } from "../test/render-with-client";
import { tokenKey } from "./app-auth";
import { AppChatPage } from "./app-chat-page";
import type { AppInfo, AppMessage, Conversation } from "./types";

const INFO: AppInfo = {
  slug: "helpdesk",
  title: "Helpdesk",
  description: "Answers about the garden shop.",
  suggested_questions: ["What are your opening hours?", "Do you deliver?"],
  flow_name: "chat",
};

const conversation = (
  id: string,
  title: string,
  updated = "2026-12-07T10:00:00Z",
): Conversation => ({
  id,
  app_id: "app1",
  subject: "token:t1:abc",
  title,
  message_count: 2,
  created_at: updated,
  updated_at: updated,
});

const message = (
  id: string,
  role: "user" | "assistant",
  content: string,
  extra: Partial<AppMessage> = {},
): AppMessage => ({
  id,
  conversation_id: "c1",
  role,
  content,
  status: "complete",
  run_id: role === "assistant" ? `run-${id}` : null,
  extras: {},
  feedback: null,
  feedback_comment: "",
  created_at: "2026-12-07T10:00:00Z",
  ...extra,
});

/** A reply stream the test writes event by event. */
function sseStream() {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
  });
  const encoder = new TextEncoder();
  return {
    response: new Response(body, { headers: { "content-type": "text/event-stream" } }),
    emit(event: string, data: unknown) {
      controller.enqueue(encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`));
    },
    close() {
      controller.close();
    },
  };
}

function open(url: string) {
  window.history.replaceState(null, "", url);
  return renderWithClient(<AppChatPage />);
}

afterEach(() => window.localStorage.clear());

describe("AppChatPage", () => {
  it("moves the link's token to storage, cleans the URL and sends it with a visitor id", async () => {
    const requests = stubServer({
      "GET /api/chat/helpdesk": () => json(INFO),
      "GET /api/chat/helpdesk/conversations": () => json([]),
    });
    open("/apps/helpdesk#t=rva_secret");
    expect(await screen.findByRole("heading", { name: "Helpdesk", level: 1 })).toBeVisible();
    expect(window.location.hash).toBe("");
    expect(window.localStorage.getItem(tokenKey("helpdesk"))).toBe("rva_secret");
    const first = requests[0];
    expect(first?.headers.get("Authorization")).toBe("Bearer rva_secret");
    expect(first?.headers.get("X-Rivulet-Visitor")).toMatch(/^[0-9a-f]{32}$/);
    // Empty: the suggested questions and no conversations yet.
    const suggestions = await screen.findAllByTestId("chat-suggestion");
    expect(suggestions.map((item) => item.textContent)).toEqual(INFO.suggested_questions);
    expect(await screen.findByText("No conversations yet.")).toBeVisible();
  });

  it("shows the revoked screen on 401 with a token and forgets the token", async () => {
    stubServer({ "GET /api/chat/helpdesk": () => json({ detail: "invalid token" }, 401) });
    open("/apps/helpdesk#t=rva_gone");
    expect(
      await screen.findByRole("heading", { name: "This link was revoked or is no longer valid" }),
    ).toBeVisible();
    expect(window.localStorage.getItem(tokenKey("helpdesk"))).toBeNull();
    expect(window.location.href).not.toContain("rva_gone");
  });

  it("sends a user without a token or session to the login page, to come back", async () => {
    stubServer({ "GET /api/chat/helpdesk": () => json({ detail: "log in" }, 401) });
    open("/apps/helpdesk?embed=1");
    await waitFor(() => expect(window.location.pathname).toBe("/login"));
    expect(new URLSearchParams(window.location.search).get("next")).toBe("/apps/helpdesk?embed=1");
  });

  it("turns to the revoked screen when the link is revoked while the page is open", async () => {
    stubServer({
      "GET /api/chat/helpdesk": () => json(INFO),
      "GET /api/chat/helpdesk/conversations": () => json([]),
      "POST /api/chat/helpdesk/conversations": () => json({ detail: "revoked" }, 401),
    });
    localStorage.setItem(tokenKey("helpdesk"), "rva_later_revoked");
    open("/apps/helpdesk");
    fireEvent.change(await screen.findByTestId("chat-input"), {
      target: { value: "Still there?" },
    });
    fireEvent.click(screen.getByTestId("chat-send"));
    expect(
      await screen.findByRole("heading", { name: "This link was revoked or is no longer valid" }),
    ).toBeVisible();
    expect(localStorage.getItem(tokenKey("helpdesk"))).toBeNull();
  });

  it("shows a refused message (rate limit) on the answer, and the page keeps working", async () => {
    stubServer({
      "GET /api/chat/helpdesk": () => json(INFO),
      "GET /api/chat/helpdesk/conversations": () => json([conversation("c1", "Hours")]),
      "GET /api/chat/helpdesk/conversations/c1/messages": () => json([]),
      "POST /api/chat/helpdesk/conversations/c1/messages": () =>
        json({ detail: "rate limit exceeded: 60 per minute" }, 429),
    });
    open("/apps/helpdesk?c=c1");
    fireEvent.change(await screen.findByTestId("chat-input"), { target: { value: "Hours?" } });
    fireEvent.click(screen.getByTestId("chat-send"));
    expect(await screen.findByText(/rate limit exceeded/)).toBeVisible();
    const items = screen.getAllByTestId("chat-message");
    expect(items.map((item) => item.getAttribute("data-status"))).toEqual(["complete", "failed"]);
    expect(screen.getByTestId("chat-send")).toBeInTheDocument();
  });

  it("says when the app is not there (disabled or deleted)", async () => {
    stubServer({});
    open("/apps/helpdesk");
    expect(await screen.findByRole("heading", { name: "This app is not available" })).toBeVisible();
  });

  it("streams a reply token by token into a new conversation", async () => {
    const stream = sseStream();
    const conversations: Conversation[] = [];
    const sent: unknown[] = [];
    stubServer({
      "GET /api/chat/helpdesk": () => json(INFO),
      "GET /api/chat/helpdesk/conversations": () => json(conversations),
      "POST /api/chat/helpdesk/conversations": () => {
        const created = conversation("c1", "");
        conversations.push({ ...created, title: "Do you deliver?" });
        return json(created, 201);
      },
      "POST /api/chat/helpdesk/conversations/c1/messages": async (request) => {
        sent.push(await request.json());
        return stream.response;
      },
    });
    localStorage.setItem(tokenKey("helpdesk"), "rva_kept");
    open("/apps/helpdesk");
    fireEvent.click((await screen.findAllByTestId("chat-suggestion"))[1] as HTMLElement);

    const user = message("u1", "user", "Do you deliver?");
    const assistant = message("a1", "assistant", "", { status: "running" });
    await waitFor(() => expect(sent).toEqual([{ content: "Do you deliver?" }]));
    expect(new URLSearchParams(window.location.search).get("c")).toBe("c1");
    act(() => {
      stream.emit("start", { user_message: user, assistant_message: assistant, run_id: "run-a1" });
      stream.emit("token", { data: "Yes, " });
      stream.emit("token", { data: "within" });
    });
    const reply = await screen.findByText("Yes, within");
    const item = reply.closest("[data-testid=chat-message]") as HTMLElement;
    expect(item).toHaveAttribute("data-status", "running");
    expect(item).toHaveAttribute("data-role", "assistant");
    expect(screen.getByTestId("chat-stop")).toBeVisible();

    act(() => {
      stream.emit("done", {
        message: { ...assistant, content: "Yes, within 10 km.", status: "complete" },
      });
      stream.close();
    });
    const done = await screen.findByText("Yes, within 10 km.");
    expect(done.closest("[data-testid=chat-message]")).toHaveAttribute("data-status", "complete");
    expect(screen.getByTestId("chat-send")).toBeVisible();
    const sidebar = screen.getByRole("navigation", { name: "Conversations" });
    expect(await within(sidebar).findByText("Do you deliver?")).toBeVisible();
  });

  it("shows a failed reply's error", async () => {
    const stream = sseStream();
    stubServer({
      "GET /api/chat/helpdesk": () => json(INFO),
      "GET /api/chat/helpdesk/conversations": () => json([conversation("c1", "Hours")]),
      "GET /api/chat/helpdesk/conversations/c1/messages": () => json([]),
      "POST /api/chat/helpdesk/conversations/c1/messages": () => stream.response,
    });
    open("/apps/helpdesk?c=c1");
    fireEvent.change(await screen.findByTestId("chat-input"), { target: { value: "Hours?" } });
    fireEvent.click(screen.getByTestId("chat-send"));
    const assistant = message("a1", "assistant", "", { status: "running" });
    await waitFor(() =>
      act(() => {
        stream.emit("start", {
          user_message: message("u1", "user", "Hours?"),
          assistant_message: assistant,
          run_id: "r",
        });
        stream.emit("error", {
          message: {
            ...assistant,
            status: "failed",
            extras: { error: { code: "operator_failed", message: "the model is down" } },
          },
        });
        stream.close();
      }),
    );
    expect(await screen.findByText(/the model is down/)).toBeVisible();
    const items = screen.getAllByTestId("chat-message");
    expect(items.at(-1)).toHaveAttribute("data-status", "failed");
  });

  it("reopens a conversation from the URL, rates, regenerates and stops", async () => {
    const history = [message("u1", "user", "Hi"), message("a1", "assistant", "Hello!")];
    const stream = sseStream();
    const calls: string[] = [];
    stubServer({
      "GET /api/chat/helpdesk": () => json(INFO),
      "GET /api/chat/helpdesk/conversations": () => json([conversation("c1", "Hi")]),
      "GET /api/chat/helpdesk/conversations/c1/messages": () => json(history),
      "PUT /api/chat/helpdesk/messages/a1/feedback": async (request) => {
        const body = (await request.json()) as { rating: "up" | "down" | null };
        calls.push(`feedback ${body.rating}`);
        return json({ ...history[1], feedback: body.rating });
      },
      "POST /api/chat/helpdesk/conversations/c1/regenerate": () => {
        calls.push("regenerate");
        return stream.response;
      },
      "POST /api/chat/helpdesk/conversations/c1/stop": () => {
        calls.push("stop");
        return json({ stopped: true });
      },
    });
    open("/apps/helpdesk?c=c1");
    expect(await screen.findByText("Hello!")).toBeVisible();
    fireEvent.click(screen.getByTestId("chat-feedback-up"));
    await waitFor(() =>
      expect(screen.getByTestId("chat-feedback-up")).toHaveAttribute("aria-pressed", "true"),
    );
    expect(calls).toEqual(["feedback up"]);

    fireEvent.click(screen.getByTestId("chat-regenerate"));
    await waitFor(() => expect(calls).toContain("regenerate"));
    expect(screen.queryByText("Hello!")).toBeNull();
    act(() => {
      stream.emit("start", {
        user_message: history[0],
        assistant_message: message("a2", "assistant", "", { status: "running" }),
        run_id: "r2",
      });
      stream.emit("token", { data: "Hi again" });
    });
    expect(await screen.findByText("Hi again")).toBeVisible();
    fireEvent.click(screen.getByTestId("chat-stop"));
    await waitFor(() => expect(calls).toContain("stop"));
    await waitFor(() =>
      expect(screen.getAllByTestId("chat-message").at(-1)).toHaveAttribute(
        "data-status",
        "cancelled",
      ),
    );
    expect(screen.getAllByTestId("chat-message")).toHaveLength(2);
  });

  it("renames and deletes a conversation from the sidebar", async () => {
    let list = [
      conversation("c1", "Hours"),
      conversation("c2", "Delivery", "2026-12-07T11:00:00Z"),
    ];
    const requests = stubServer({
      "GET /api/chat/helpdesk": () => json(INFO),
      "GET /api/chat/helpdesk/conversations": () => json(list),
      "PATCH /api/chat/helpdesk/conversations/c1": async (request) => {
        const { title } = (await request.json()) as { title: string };
        list = list.map((item) => (item.id === "c1" ? { ...item, title } : item));
        return json(list[0]);
      },
      "DELETE /api/chat/helpdesk/conversations/c2": () => {
        list = list.filter((item) => item.id !== "c2");
        return new Response(null, { status: 204 });
      },
    });
    open("/apps/helpdesk");
    const sidebar = await screen.findByRole("navigation", { name: "Conversations" });
    const items = await within(sidebar).findAllByTestId("conversation-item");
    expect(items.map((item) => item.textContent?.slice(0, 8))).toEqual(["Delivery", "Hours✎×"]);

    fireEvent.click(within(sidebar).getByRole("button", { name: "Rename “Hours”" }));
    const input = within(sidebar).getByRole("textbox", { name: "Conversation title" });
    fireEvent.change(input, { target: { value: "Opening hours" } });
    fireEvent.submit(input);
    expect(await within(sidebar).findByText("Opening hours")).toBeVisible();

    fireEvent.click(within(sidebar).getByRole("button", { name: "Delete “Delivery”" }));
    const confirm = within(sidebar).getByRole("group", { name: "Delete “Delivery”?" });
    fireEvent.click(within(confirm).getByRole("button", { name: "Delete" }));
    await waitFor(() => expect(within(sidebar).queryByText("Delivery")).toBeNull());
    expect(requests.filter((r) => r.method === "DELETE")).toHaveLength(1);
  });

  it("drops the sidebar when embedded", async () => {
    stubServer({
      "GET /api/chat/helpdesk": () => json(INFO),
      "GET /api/chat/helpdesk/conversations": () => json([]),
    });
    open("/apps/helpdesk?embed=1#t=rva_embed");
    expect(await screen.findByRole("heading", { name: "Helpdesk", level: 1 })).toBeVisible();
    expect(screen.queryByRole("navigation", { name: "Conversations" })).toBeNull();
    expect(window.location.search).toBe("?embed=1");
  });
});
