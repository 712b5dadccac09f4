import type { APIRequestContext, Page } from "@playwright/test";
import { docScreenshot, SCREENSHOT_TAG } from "./doc-screenshots";
import { createFlow, expect, test } from "./editor-helpers";

/**
 * The editor's Playground against the real backend and the bundled local model (SmolLM2 on llama.cpp):
 * a chat flow with memory (the chat-assistant template's shape, with short answers), several turns,
 * tokens streamed into the message, the memory carried between turns, New chat, and the run trace.
 * Nothing here depends on what the model says.
 */
test.describe.configure({ timeout: 300_000 });
// The editor's toolbar, canvas and playground side by side, as in the other editor pictures.
test.use({ viewport: { width: 1440, height: 900 } });

/** The local model answers in seconds, but a busy machine (other tests, builds) slows it down. */
const ANSWER = { timeout: 90_000 };

async function chatFlow(request: APIRequestContext): Promise<string> {
  return createFlow(
    request,
    "E2E playground chat",
    [
      { id: "message", operator: "core.input", params: { name: "message" }, x: 0, y: 0 },
      {
        id: "session",
        operator: "core.input",
        params: { name: "session_id", required: false, default: "assistant" },
        x: 0,
        y: 160,
      },
      {
        id: "memory",
        operator: "llm.conversation_memory",
        params: { window: 20, system_prompt: "Answer in one short sentence." },
        x: 280,
        y: 60,
      },
      {
        id: "chat",
        operator: "llm.chat",
        params: { model: "default", max_tokens: 24, temperature: 0 },
        x: 560,
        y: 60,
      },
      { id: "answer", operator: "core.output", params: { name: "answer" }, x: 840, y: 60 },
    ],
    [
      ["message", "value", "memory", "message"],
      ["session", "value", "memory", "session_id"],
      ["memory", "messages", "chat", "messages"],
      ["memory", "session_id", "chat", "session_id"],
      ["chat", "message", "answer", "value"],
    ],
  );
}

/** Records every state of the assistant messages the page goes through (status and text length). */
async function recordMessages(page: Page): Promise<void> {
  await page.evaluate(() => {
    const log: { id: string; status: string; length: number }[] = [];
    (window as unknown as { __chatLog: typeof log }).__chatLog = log;
    const record = () => {
      const items = document.querySelectorAll<HTMLElement>(
        '[data-testid="chat-message"][data-role="assistant"]',
      );
      for (const item of Array.from(items)) {
        const markdown = item.querySelector('[data-testid="chat-markdown"]');
        log.push({
          id: item.dataset.messageId ?? "",
          status: item.dataset.status ?? "",
          length: markdown?.textContent?.length ?? 0,
        });
      }
    };
    new MutationObserver(record).observe(document.body, {
      subtree: true,
      childList: true,
      characterData: true,
      attributes: true,
    });
  });
}

async function chatLog(page: Page, messageId: string) {
  const log = await page.evaluate(
    () =>
      (window as unknown as { __chatLog: { id: string; status: string; length: number }[] })
        .__chatLog,
  );
  return log.filter((entry) => entry.id === messageId);
}

interface RunDetail {
  run: { id: string; status: string; inputs: Record<string, unknown>; trigger: string };
  nodes: { node_id: string; status: string; outputs_preview: Record<string, unknown> }[];
}

async function runDetail(request: APIRequestContext, runId: string): Promise<RunDetail> {
  const response = await request.get(`/api/runs/${runId}`);
  expect(response.ok()).toBe(true);
  return (await response.json()) as RunDetail;
}

/** The texts of the messages the memory node handed to the model in a run. */
async function promptOf(request: APIRequestContext, runId: string): Promise<string> {
  const detail = await runDetail(request, runId);
  const memory = detail.nodes.find((node) => node.node_id === "memory");
  return JSON.stringify(memory?.outputs_preview.messages ?? null);
}

async function send(page: Page, text: string): Promise<{ id: string; runId: string }> {
  const answers = page.locator('[data-testid="chat-message"][data-role="assistant"]');
  const before = await answers.count();
  await page.getByTestId("chat-input").fill(text);
  await page.getByTestId("chat-input").press("Enter");
  const answer = answers.nth(before);
  await expect(answer).toBeVisible();
  await expect(answer).toHaveAttribute("data-status", "complete", ANSWER);
  const link = answer.getByTestId("chat-trace-link");
  const href = (await link.getAttribute("href")) ?? "";
  expect(href).toMatch(/^\/runs\/[^/]+$/);
  return { id: (await answer.getAttribute("data-message-id")) ?? "", runId: href.slice(6) };
}

test(`chat with a flow in the editor's playground, with memory and a trace ${SCREENSHOT_TAG}`, async ({
  page,
  request,
}) => {
  const flowId = await chatFlow(request);
  await page.goto(`/flows/${flowId}`);
  await expect(page.getByTestId("node-chat")).toBeVisible();
  await page.getByTestId("playground-toggle").click();
  const playground = page.getByTestId("playground");
  await expect(playground.getByTestId("playground-wiring")).toContainText("message");
  await expect(playground.getByTestId("playground-wiring")).toContainText("session_id");
  await recordMessages(page);

  // Turn 1: the answer streams in (text shown while the message is still running), then completes.
  const first = await send(page, "My name is Ada. Say hello.");
  const log = await chatLog(page, first.id);
  expect(log.some((entry) => entry.status === "running" && entry.length > 0)).toBe(true);
  expect(log.at(-1)?.status).toBe("complete");
  const firstRun = await runDetail(request, first.runId);
  expect(firstRun.run.status).toBe("succeeded");
  expect(firstRun.run.trigger).toBe("editor");
  const session = firstRun.run.inputs.session_id;
  expect(session).toMatch(new RegExp(`^playground:${flowId}:[0-9a-f]{16}$`));
  expect(firstRun.run.inputs.message).toBe("My name is Ada. Say hello.");
  const chunks = await request.get(`/api/runs/${first.runId}/events?after_seq=0&limit=1000`);
  const events = (await chunks.json()) as { type: string; node_id?: string }[];
  expect(
    events.filter((e) => e.type === "node_chunk" && e.node_id === "chat").length,
  ).toBeGreaterThan(1);

  // Turn 2: same session; the model was given the first turn (question and answer) from memory.
  const second = await send(page, "What is my name?");
  const secondRun = await runDetail(request, second.runId);
  expect(secondRun.run.inputs.session_id).toBe(session);
  const prompt = await promptOf(request, second.runId);
  expect(prompt).toContain("My name is Ada. Say hello.");
  expect(prompt).toContain("What is my name?");
  expect(prompt).toContain('"assistant"');
  await expect(page.locator('[data-testid="chat-message"][data-role="user"]')).toHaveCount(2);
  await docScreenshot(page, "editor-playground.png");

  // New chat: a fresh session that remembers nothing of the first conversation.
  await page.getByTestId("playground-new-chat").click();
  await expect(page.getByTestId("chat-message")).toHaveCount(0);
  const third = await send(page, "Hello again.");
  const thirdRun = await runDetail(request, third.runId);
  expect(thirdRun.run.inputs.session_id).not.toBe(session);
  expect(thirdRun.run.inputs.session_id).toMatch(/^playground:/);
  expect(await promptOf(request, third.runId)).not.toContain("Ada");

  // The answer's trace: every node with its status and timing, and the model call with its tokens.
  await page.getByTestId("chat-trace-link").last().click();
  await expect(page).toHaveURL(new RegExp(`/runs/${third.runId}$`));
  await expect(page.getByTestId("trace-status")).toHaveText("succeeded");
  for (const nodeId of ["message", "session", "memory", "chat", "answer"]) {
    await expect(page.getByTestId(`trace-node-${nodeId}`)).toHaveAttribute(
      "data-status",
      "succeeded",
    );
  }
  await expect(page.getByTestId("trace-calls").locator("tbody tr")).toHaveCount(1);
  await expect(page.getByTestId("trace-tokens")).toContainText("1 model call");
  await page.getByTestId("trace-node-memory").getByRole("button").click();
  await expect(page.getByTestId("message-view").first()).toBeVisible();
  await docScreenshot(page, "run-trace.png");

  // Back in the editor, the conversation is still there.
  await page.goBack();
  await expect(page.getByTestId("node-chat")).toBeVisible();
  await page.getByTestId("playground-toggle").click();
  await expect(page.getByTestId("chat-message")).toHaveCount(2);
});

test("the playground says when a flow has no message input", async ({ page, request }) => {
  const flowId = await createFlow(
    request,
    "E2E playground without input",
    [
      { id: "c", operator: "core.constant", params: { value: 1 }, x: 0, y: 0 },
      { id: "out", operator: "core.output", x: 300, y: 0 },
    ],
    [["c", "value", "out", "value"]],
  );
  await page.goto(`/flows/${flowId}`);
  await page.getByTestId("playground-toggle").click();
  await expect(page.getByTestId("playground-wiring")).toContainText("No message input");
  await page.getByTestId("chat-input").fill("hi");
  await page.getByTestId("chat-send").click();
  await expect(page.locator('[data-testid="chat-message"][data-role="assistant"]')).toHaveAttribute(
    "data-status",
    "failed",
  );
  await expect(page.getByTestId("playground").getByRole("alert")).toContainText("no message input");
});
