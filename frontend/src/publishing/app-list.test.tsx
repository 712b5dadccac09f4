import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { AppRead, AppTokenRead, FeedbackItem } from "../api/apps";
import { jsonResponse as json, stubServer } from "../test/fake-server";
import { renderWithClient } from "../test/render-with-client";
import { detectedInputs, flowRunInputs, slugify } from "./app-form";
import { AppList } from "./app-list";
import { widgetSnippet } from "./app-share-links";
import { PublishDialog } from "./publish-dialog";

const APP: AppRead = {
  id: "app1",
  slug: "helpdesk",
  flow_id: "flow1",
  flow_version: null,
  title: "Helpdesk",
  description: "Garden shop answers",
  suggested_questions: ["Hours?"],
  message_input: "message",
  session_input: "session_id",
  enabled: true,
  owner_id: "u1",
  workspace_id: null,
  created_at: "2026-12-07T10:00:00Z",
  updated_at: "2026-12-07T10:00:00Z",
  flow_name: "Chat assistant",
  url: "/apps/helpdesk",
  inputs: [
    { name: "message", type: "Text", required: true, node_id: "m", source: "core.input" },
    { name: "session_id", type: "Text", required: false, node_id: "s", source: "core.input" },
  ],
  inputs_ok: true,
  problems: [],
};

const TOKEN: AppTokenRead = {
  id: "tok1",
  app_id: "app1",
  name: "website",
  prefix: "rva_ab12",
  rate_limit_per_minute: 60,
  created_at: "2026-12-07T10:00:00Z",
  last_used_at: null,
  revoked_at: null,
};

const FLOW_DOCUMENT = {
  schema: "rivulet.flow/v1",
  id: "flow1",
  name: "Chat assistant",
  description: "",
  nodes: [
    { id: "m", operator: "core.input", params: { name: "question" } },
    { id: "s", operator: "core.input", params: { name: "conversation_id" } },
    { id: "h", operator: "trigger.http", params: { fields: [{ name: "topic", type: "Text" }] } },
    { id: "o", operator: "core.output", params: { name: "answer" } },
  ],
  edges: [],
};

const FLOWS = {
  items: [
    {
      id: "flow1",
      name: "Chat assistant",
      description: "",
      node_count: 4,
      tags: [],
      version: 2,
      created_at: "2026-12-07T10:00:00Z",
      updated_at: "2026-12-07T10:00:00Z",
    },
  ],
};

describe("helpers", () => {
  it("reads the run inputs of a flow document", () => {
    expect(flowRunInputs(FLOW_DOCUMENT as never)).toEqual(["question", "conversation_id", "topic"]);
    expect(flowRunInputs(undefined)).toEqual([]);
  });

  it("shows which inputs the server will detect", () => {
    expect(detectedInputs(["question", "conversation_id", "topic"])).toEqual({
      message: "question",
      session: "conversation_id",
    });
    expect(detectedInputs(["ask", "session_id"])).toEqual({
      message: "ask",
      session: "session_id",
    });
    expect(detectedInputs(["a", "b"])).toEqual({ message: null, session: null });
  });

  it("makes slugs from titles", () => {
    expect(slugify("  Garden Shop — Helpdesk! ")).toBe("garden-shop-helpdesk");
    expect(slugify("Élan")).toBe("elan");
  });

  it("embeds the app with the token in the fragment and an escaped title", () => {
    const snippet = widgetSnippet(
      { slug: "helpdesk", title: 'A "B" <C>' },
      "rva_s",
      "https://x.io",
    );
    expect(snippet).toContain('src="https://x.io/apps/helpdesk?embed=1#t=rva_s"');
    expect(snippet).toContain('title="A &quot;B&quot; &lt;C>"');
    expect(widgetSnippet({ slug: "helpdesk", title: "H" }, null, "https://x.io")).toContain(
      "#t=<share-link-token>",
    );
  });
});

describe("AppList", () => {
  it("lists apps and switches one off", async () => {
    const patches: unknown[] = [];
    let app = APP;
    stubServer({
      "GET /api/apps": () => json([app]),
      "PATCH /api/apps/app1": async (request) => {
        const body = (await request.json()) as { enabled: boolean };
        patches.push(body);
        app = { ...app, enabled: body.enabled };
        return json(app);
      },
    });
    renderWithClient(<AppList />);
    const row = await screen.findByTestId("app-row");
    expect(row).toHaveTextContent("Helpdesk");
    expect(row).toHaveTextContent("/apps/helpdesk");
    expect(row).toHaveTextContent("Chat assistant");
    expect(within(row).getByRole("link", { name: "Open Helpdesk" })).toHaveAttribute(
      "href",
      "/apps/helpdesk",
    );
    fireEvent.click(within(row).getByRole("checkbox", { name: "Helpdesk enabled" }));
    await waitFor(() => expect(patches).toEqual([{ enabled: false }]));
    await waitFor(() =>
      expect(within(row).getByRole("checkbox", { name: "Helpdesk enabled" })).not.toBeChecked(),
    );
  });

  it("creates an app for a flow with its questions and detected inputs", async () => {
    const posted: unknown[] = [];
    stubServer({
      "GET /api/apps": () => json([]),
      "GET /api/flows": () => json(FLOWS),
      "GET /api/flows/flow1": () => json({ document: FLOW_DOCUMENT, summary: FLOWS.items[0] }),
      "POST /api/apps": async (request) => {
        posted.push(await request.json());
        return json(APP, 201);
      },
    });
    renderWithClient(<AppList />);
    fireEvent.click(await screen.findByRole("button", { name: "New chat app" }));
    const form = screen.getByRole("form", { name: "New chat app" });
    const flow = within(form).getByRole("combobox", { name: "Flow" });
    await within(flow).findByRole("option", { name: "Chat assistant" });
    fireEvent.change(flow, { target: { value: "flow1" } });
    fireEvent.change(within(form).getByLabelText("Title"), { target: { value: "Garden Help" } });
    expect(within(form).getByLabelText(/^Slug/)).toHaveValue("garden-help");
    fireEvent.change(within(form).getByLabelText(/^Suggested questions/), {
      target: { value: "Hours?\n\n  Delivery?  \n" },
    });
    const message = within(form).getByRole("combobox", { name: "Message input" });
    await within(message).findByRole("option", { name: "question" });
    expect(within(message).getByRole("option", { name: "Detect (question)" })).toBeInTheDocument();
    const session = within(form).getByRole("combobox", { name: "Session input" });
    expect(
      within(session).getByRole("option", { name: "Detect (conversation_id)" }),
    ).toBeInTheDocument();
    fireEvent.change(message, { target: { value: "question" } });
    fireEvent.click(within(form).getByRole("button", { name: "Create app" }));
    await waitFor(() =>
      expect(posted).toEqual([
        {
          flow_id: "flow1",
          slug: "garden-help",
          title: "Garden Help",
          description: "",
          suggested_questions: ["Hours?", "Delivery?"],
          message_input: "question",
          session_input: null,
        },
      ]),
    );
  });

  it("shows a new share link once, lists links, revokes one and fills the widget", async () => {
    let tokens = [TOKEN];
    const created: unknown[] = [];
    stubServer({
      "GET /api/apps": () => json([APP]),
      "GET /api/apps/app1/tokens": () => json(tokens),
      "POST /api/apps/app1/tokens": async (request) => {
        const body = (await request.json()) as { name: string; rate_limit_per_minute: number };
        created.push(body);
        const token = { ...TOKEN, id: "tok2", name: body.name, prefix: "rva_cd34" };
        tokens = [...tokens, token];
        return json(
          { token, secret: "rva_cd34secret", share_url: "/apps/helpdesk#t=rva_cd34secret" },
          201,
        );
      },
      "DELETE /api/apps/app1/tokens/tok1": () => {
        tokens = tokens.map((t) =>
          t.id === "tok1" ? { ...t, revoked_at: "2026-12-07T12:00:00Z" } : t,
        );
        return json(tokens[0]);
      },
    });
    renderWithClient(<AppList />);
    fireEvent.click(await screen.findByRole("button", { name: "Share" }));
    const table = await screen.findByRole("table", { name: "Share links of Helpdesk" });
    expect(table).toHaveTextContent("website");
    expect(table).toHaveTextContent("rva_ab12…");
    expect(screen.getByTestId("widget-snippet")).toHaveTextContent("#t=<share-link-token>");

    fireEvent.change(screen.getByLabelText("Link name"), { target: { value: "intranet" } });
    fireEvent.change(screen.getByLabelText("Messages per minute"), { target: { value: "10" } });
    fireEvent.click(screen.getByRole("button", { name: "Create link" }));
    const url = await screen.findByTestId("share-link-url");
    expect(url).toHaveTextContent(`${window.location.origin}/apps/helpdesk#t=rva_cd34secret`);
    expect(screen.getByRole("button", { name: "Copy link" })).toBeVisible();
    expect(screen.getByTestId("widget-snippet")).toHaveTextContent(
      "/apps/helpdesk?embed=1#t=rva_cd34secret",
    );
    expect(created).toEqual([{ name: "intranet", rate_limit_per_minute: 10 }]);
    expect(await within(table).findByText("intranet")).toBeVisible();

    fireEvent.click(within(table).getByRole("button", { name: "Revoke website" }));
    await waitFor(() => expect(within(table).getAllByText("revoked")).toHaveLength(1));
  });

  it("lists feedback with the question, the answer and a link to the run", async () => {
    const item: FeedbackItem = {
      message: {
        id: "a1",
        conversation_id: "c1",
        role: "assistant",
        content: "We open at nine.",
        status: "complete",
        run_id: "run1",
        feedback: "down",
        feedback_comment: "",
        created_at: "2026-12-07T10:00:00Z",
      },
      conversation_id: "c1",
      run_id: "run1",
      feedback: "down",
      comment: "too short",
      created_at: "2026-12-07T10:00:00Z",
      question: "When do you open?",
    };
    stubServer({
      "GET /api/apps": () => json([APP]),
      "GET /api/apps/app1/feedback": () => json([item]),
    });
    renderWithClient(<AppList />);
    fireEvent.click(await screen.findByRole("button", { name: "Feedback" }));
    const row = await screen.findByTestId("feedback-row");
    expect(within(row).getByRole("img", { name: "Bad answer" })).toBeVisible();
    expect(row).toHaveTextContent("When do you open?");
    expect(row).toHaveTextContent("We open at nine.");
    expect(row).toHaveTextContent("too short");
    expect(within(row).getByRole("link", { name: "Open run" })).toHaveAttribute(
      "href",
      "/flows/flow1?run=run1",
    );
  });

  it("deletes an app after a confirmation", async () => {
    let apps = [APP];
    stubServer({
      "GET /api/apps": () => json(apps),
      "DELETE /api/apps/app1": () => {
        apps = [];
        return new Response(null, { status: 204 });
      },
    });
    renderWithClient(<AppList />);
    fireEvent.click(await screen.findByRole("button", { name: "Delete Helpdesk" }));
    fireEvent.click(screen.getByRole("button", { name: "Really delete Helpdesk" }));
    expect(await screen.findByText(/No chat apps yet/)).toBeVisible();
  });
});

describe("PublishDialog", () => {
  it("creates a chat app for the open flow and links to it", async () => {
    const posted: { flow_id: string; title: string; slug: string }[] = [];
    stubServer({
      "GET /api/apps": () => json([]),
      "GET /api/flows": () => json(FLOWS),
      "POST /api/apps": async (request) => {
        posted.push(await request.json());
        return json(APP, 201);
      },
    });
    renderWithClient(<PublishDialog flowId="flow1" flowName="Chat assistant" onClose={() => {}} />);
    const dialog = screen.getByRole("dialog", { name: "Publish Chat assistant" });
    expect(within(dialog).queryByRole("combobox", { name: "Flow" })).toBeNull();
    expect(within(dialog).getByRole("button", { name: "Publish" })).toBeEnabled();
    fireEvent.click(within(dialog).getByRole("button", { name: "Create app" }));
    await waitFor(() =>
      expect(posted[0]).toMatchObject({
        flow_id: "flow1",
        title: "Chat assistant",
        slug: "chat-assistant",
      }),
    );
    expect(await within(dialog).findByRole("link", { name: "Open app" })).toHaveAttribute(
      "href",
      "/apps/helpdesk",
    );
  });
});
