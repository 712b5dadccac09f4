import type { APIRequestContext, Page } from "@playwright/test";
import { docScreenshot, SCREENSHOT_TAG } from "./doc-screenshots";
import { expect, test } from "./editor-helpers";

/**
 * A chat app end to end, on the real backend and its local default model (no scripted model): the
 * administrator publishes the chat-assistant template from the editor, shares it, and a visitor
 * with no account chats through the link in a fresh browser until the link is revoked. Answers are
 * never compared to wording; only their status and presence.
 */
const SLOW = 60_000;

/** Imports the chat-assistant template and keeps its answers short. */
async function assistantFlow(request: APIRequestContext): Promise<string> {
  const imported = await request.post("/api/templates/import", {
    data: { name: "chat-assistant", on_conflict: "new" },
  });
  expect(imported.status(), await imported.text()).toBe(201);
  const flowId: string = (await imported.json()).flows[0].flow_id;
  const flow = await (await request.get(`/api/flows/${flowId}`)).json();
  const document = flow.document;
  document.name = "E2E chat assistant";
  for (const node of document.nodes) {
    if (node.operator === "llm.chat") node.params = { ...node.params, max_tokens: 24 };
  }
  const saved = await request.put(`/api/flows/${flowId}`, {
    data: { document, base_version: flow.summary.version, message: "short answers" },
  });
  expect(saved.status(), await saved.text()).toBe(200);
  return flowId;
}

/** Records every status an assistant message shows, so a fast reply cannot slip between polls. */
async function watchStatuses(page: Page): Promise<void> {
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { __statuses: string[] }).__statuses = seen;
    const note = (element: Element) => {
      if (element.getAttribute("data-role") !== "assistant") return;
      const status = element.getAttribute("data-status") ?? "";
      if (seen.at(-1) !== status) seen.push(status);
    };
    new MutationObserver((records) => {
      for (const record of records) {
        const target = record.target as Element;
        if (record.type === "attributes") note(target);
        record.addedNodes.forEach((node) => {
          if (!(node instanceof Element)) return;
          if (node.matches("[data-testid=chat-message]")) note(node);
          node.querySelectorAll("[data-testid=chat-message]").forEach(note);
        });
      }
    }).observe(document.body, {
      subtree: true,
      childList: true,
      attributes: true,
      attributeFilter: ["data-status"],
    });
  });
}

const statuses = (page: Page) =>
  page.evaluate(() => (window as unknown as { __statuses: string[] }).__statuses.splice(0));

async function ask(page: Page, text: string, answers: number): Promise<void> {
  await watchStatuses(page);
  await page.getByTestId("chat-input").fill(text);
  await page.getByTestId("chat-send").click();
  const assistant = page.locator("[data-testid=chat-message][data-role=assistant]");
  await expect(assistant).toHaveCount(answers);
  await expect(assistant.last()).toHaveAttribute("data-status", "complete", { timeout: SLOW });
  await expect(assistant.last().getByTestId("chat-markdown")).not.toBeEmpty();
  const seen = await statuses(page);
  expect(seen).toContain("running");
  expect(seen.at(-1)).toBe("complete");
}

test("a chat app: publish, share, chat as a visitor, history, feedback, revoke", {
  tag: SCREENSHOT_TAG,
}, async ({ page, request, browser, baseURL }) => {
  test.setTimeout(300_000);
  const flowId = await assistantFlow(request);

  // Publish from the editor's Publish dialog.
  await page.goto(`/flows/${flowId}`);
  await page.getByTestId("publish").click();
  const dialog = page.getByRole("dialog", { name: "Publish E2E chat assistant" });
  const form = dialog.getByRole("form", { name: "New chat app" });
  await form.getByLabel("Title").fill("Garden helpdesk");
  await expect(form.getByLabel(/^Slug/)).toHaveValue("garden-helpdesk");
  await form.getByLabel("Description").fill("Short answers from a small local model.");
  await form.getByLabel(/^Suggested questions/).fill("What can you do?\nSay hello in three words.");
  await form.getByRole("button", { name: "Create app" }).click();
  await expect(dialog.getByRole("status")).toContainText("/apps/garden-helpdesk");
  await dialog.getByRole("link", { name: "Share links and widget" }).click();

  // The Publishing page: the app, a share link shown once, the widget.
  const apps = page.getByRole("table", { name: "Chat apps" });
  const row = apps.getByTestId("app-row").filter({ hasText: "Garden helpdesk" });
  await expect(row).toContainText("E2E chat assistant");
  await expect(row.getByRole("checkbox", { name: "Garden helpdesk enabled" })).toBeChecked();
  await row.getByRole("button", { name: "Share" }).click();
  await page.getByLabel("Link name").fill("e2e visitors");
  await page.getByRole("button", { name: "Create link" }).click();
  const shareUrl = (await page.getByTestId("share-link-url").textContent()) ?? "";
  expect(shareUrl).toMatch(/\/apps\/garden-helpdesk#t=rva_/);
  await expect(page.getByTestId("widget-snippet")).toContainText("?embed=1#t=rva_");
  await page.locator("section[aria-labelledby=apps-title]").evaluate((element) => {
    element.scrollIntoView({ block: "start" });
    window.scrollBy(0, -72); // clear of the sticky top bar
  });
  await docScreenshot(page, "apps-publishing.png");

  // A visitor: a fresh browser with no session.
  const visitor = await browser.newContext({
    baseURL,
    storageState: { cookies: [], origins: [] },
    viewport: { width: 1280, height: 800 },
  });
  const chat = await visitor.newPage();
  const visitorErrors: string[] = [];
  chat.on("pageerror", (error) => visitorErrors.push(error.message));
  await chat.goto(shareUrl);
  await expect(chat.getByRole("heading", { level: 1, name: "Garden helpdesk" })).toBeVisible();
  expect(chat.url()).not.toContain("#t=");
  await expect(chat.getByTestId("chat-suggestion")).toHaveCount(2);

  await ask(chat, "Hello! Who are you?", 1);
  await ask(chat, "Thanks. Say it shorter.", 2);
  await expect(chat.getByTestId("chat-message")).toHaveCount(4);
  const sidebar = chat.getByRole("navigation", { name: "Conversations" });
  await expect(sidebar.getByTestId("conversation-item")).toHaveCount(1);
  await expect(sidebar.getByTestId("conversation-item")).toContainText("Hello! Who are you?");
  await docScreenshot(chat, "apps-chat.png");

  // History comes back from the server after a reload and from a new chat.
  await chat.reload();
  await expect(chat.getByTestId("chat-message")).toHaveCount(4, { timeout: SLOW });
  await sidebar.getByTestId("new-conversation").click();
  await expect(chat.getByTestId("chat-message")).toHaveCount(0);
  await sidebar.getByRole("button", { name: "Hello! Who are you?", exact: true }).click();
  const messages = chat.getByTestId("chat-message");
  await expect(messages).toHaveCount(4);
  await expect(messages.nth(0)).toContainText("Hello! Who are you?");
  await expect(messages.nth(2)).toContainText("Thanks. Say it shorter.");

  // Feedback on the last answer is kept.
  const last = chat.locator("[data-testid=chat-message][data-role=assistant]").last();
  await last.getByTestId("chat-feedback-up").click();
  await expect(last.getByTestId("chat-feedback-up")).toHaveAttribute("aria-pressed", "true");
  await chat.reload();
  await expect(
    chat
      .locator("[data-testid=chat-message][data-role=assistant]")
      .last()
      .getByTestId("chat-feedback-up"),
  ).toHaveAttribute("aria-pressed", "true", { timeout: SLOW });

  // Embedded (the widget's iframe address): the same chat without the sidebar.
  await chat.goto(`${new URL(shareUrl).pathname}?embed=1`);
  await expect(chat.getByRole("heading", { level: 1, name: "Garden helpdesk" })).toBeVisible();
  await expect(chat.getByRole("navigation", { name: "Conversations" })).toHaveCount(0);
  await expect(chat.getByTestId("chat-suggestion")).toHaveCount(2);

  // The administrator sees the rating, then revokes the link.
  await page.reload();
  const appRow = page.getByTestId("app-row").filter({ hasText: "Garden helpdesk" });
  await appRow.getByRole("button", { name: "Feedback" }).click();
  const rated = page.getByTestId("feedback-row");
  await expect(rated).toHaveCount(1);
  await expect(rated).toContainText("Thanks. Say it shorter.");
  await expect(rated.getByRole("img", { name: "Good answer" })).toBeVisible();
  await appRow.getByRole("button", { name: "Share" }).click();
  const links = page.getByRole("table", { name: "Share links of Garden helpdesk" });
  await links.getByRole("button", { name: "Revoke e2e visitors" }).click();
  await expect(links).toContainText("revoked");

  await chat.reload();
  await expect(
    chat.getByRole("heading", { name: "This link was revoked or is no longer valid" }),
  ).toBeVisible();
  expect(visitorErrors).toEqual([]);
  await visitor.close();
});
