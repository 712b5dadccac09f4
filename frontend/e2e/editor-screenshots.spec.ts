import { docScreenshot, SCREENSHOT_TAG } from "./doc-screenshots";
import {
  createFlow,
  expect,
  node,
  RIVER_EDGES,
  riverNodes,
  selectNode,
  test,
} from "./editor-helpers";

/** The README's pictures: a real flow while it runs and after it ran (written by `make screenshots`). */
test("the editor during and after a run", { tag: SCREENSHOT_TAG }, async ({ page, request }) => {
  test.setTimeout(60_000);
  const flowId = await createFlow(request, "River facts", riverNodes(5), RIVER_EDGES);
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
