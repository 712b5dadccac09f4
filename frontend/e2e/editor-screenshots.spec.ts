import { docScreenshot, SCREENSHOT_TAG } from "./doc-screenshots";
import { createFlow, expect, node, selectNode, test } from "./editor-helpers";

/** The README's pictures: a real flow while it runs and after it ran (written by `make screenshots`). */
test("the editor during and after a run", { tag: SCREENSHOT_TAG }, async ({ page, request }) => {
  test.setTimeout(60_000);
  const flowId = await createFlow(
    request,
    "River facts",
    [
      {
        id: "topic",
        operator: "core.constant",
        params: { value: "rivers", type: "Text" },
        x: 0,
        y: 0,
      },
      {
        id: "facts",
        operator: "core.constant",
        params: { value: { name: "Nile", length_km: 6650 }, type: "Json" },
        x: 0,
        y: 200,
      },
      {
        id: "write",
        operator: "core.template",
        params: {
          template: "A note on {{ topic }}: the {{ facts.name }} runs {{ facts.length_km }} km.",
        },
        x: 340,
        y: 40,
      },
      { id: "pace", operator: "core.delay", params: { seconds: 5 }, x: 680, y: 0 },
      { id: "summary", operator: "core.output", params: { name: "summary" }, x: 1000, y: 0 },
      {
        id: "length",
        operator: "core.json_extract",
        params: { path: "$.length_km", type: "Int" },
        x: 340,
        y: 300,
      },
      { id: "km", operator: "core.output", params: { name: "length_km" }, x: 680, y: 300 },
    ],
    [
      ["topic", "value", "write", "topic"],
      ["facts", "value", "write", "facts"],
      ["write", "text", "pace", "value"],
      ["pace", "value", "summary", "value"],
      ["facts", "value", "length", "value"],
      ["length", "value", "km", "value"],
    ],
  );
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.goto(`/flows/${flowId}`);
  await expect(page.locator(".react-flow__edge")).toHaveCount(6);
  await page.getByTestId("run").click();
  await expect(node(page, "pace")).toHaveAttribute("data-status", "running");
  await selectNode(page, "write");
  await docScreenshot(page, "editor-running.png");

  await expect(page.getByTestId("run-status")).toHaveText("succeeded", { timeout: 20_000 });
  await expect(node(page, "summary").getByTestId("node-output")).toHaveText(
    "A note on rivers: the Nile runs 6650 km.",
  );
  await expect(node(page, "km").getByTestId("node-output")).toHaveText("6650");
  await page.getByTestId("inspector-tab-run").click();
  await expect(page.getByTestId("outputs-text")).toContainText("A note on rivers");
  await docScreenshot(page, "editor-run.png");
});
