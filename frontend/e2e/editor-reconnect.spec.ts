import type { WebSocketRoute } from "@playwright/test";
import { createFlow, expect, node, test } from "./editor-helpers";

test("a dropped WebSocket reconnects and resumes the run from the last seq", async ({ page }) => {
  test.setTimeout(60_000);
  const flowId = await createFlow(
    page.request,
    "E2E reconnect",
    [
      {
        id: "start",
        operator: "core.constant",
        params: { value: "again", type: "Text" },
        x: 0,
        y: 0,
      },
      { id: "wait", operator: "core.delay", params: { seconds: 3 }, x: 320, y: 0 },
      { id: "result", operator: "core.output", params: { name: "result" }, x: 640, y: 0 },
    ],
    [
      ["start", "value", "wait", "value"],
      ["wait", "value", "result", "value"],
    ],
  );
  // Every page socket goes through this route to the real server, so the test can cut it.
  const sockets: WebSocketRoute[] = [];
  await page.routeWebSocket(/\/api\/ws$/, (ws) => {
    ws.connectToServer();
    sockets.push(ws);
  });
  await page.goto(`/flows/${flowId}`);
  await expect(page.getByTestId("ws-connection")).toHaveText("open");
  await page.getByTestId("run").click();
  await expect(node(page, "wait")).toHaveAttribute("data-status", "running");

  // Drop the connection mid-run: the client backs off, reconnects and resubscribes after its last seq.
  await sockets[0]?.close({ code: 1011, reason: "network drop" });
  await expect(page.getByTestId("run-status")).toHaveText("succeeded", { timeout: 20_000 });
  expect(sockets.length).toBeGreaterThanOrEqual(2);
  await expect(page.getByTestId("ws-connection")).toHaveText("open");
  await expect(node(page, "result").getByTestId("node-output")).toHaveText("again");

  // Every event exactly once, in order: seq 1..N without a gap or a repeat.
  const seqs = (await page.locator(".event-log__seq").allTextContents()).map(Number);
  expect(seqs.length).toBeGreaterThan(5);
  expect(seqs).toEqual(seqs.map((_, index) => index + 1));
});
