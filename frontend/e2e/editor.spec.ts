import {
  connect,
  createFlow,
  dropOperator,
  expect,
  handle,
  node,
  selectNode,
  test,
} from "./editor-helpers";

test.describe.configure({ timeout: 60_000 });

test("build a flow from the palette, save it, run it and see every node succeed", async ({
  page,
}) => {
  await page.goto("/flows/new");
  await expect(page.getByTestId("palette-item-core.template")).toBeVisible();

  await dropOperator(page, "core.template", 220, 160);
  await dropOperator(page, "core.output", 620, 200);
  await expect(node(page, "template_1")).toBeVisible();
  await expect(node(page, "output_1")).toBeVisible();

  // Set a param in the generated form (the prompt widget of core.template).
  await selectNode(page, "template_1");
  await page.getByTestId("param-template").fill("Hello from Rivulet");

  await connect(
    page,
    handle(page, "template_1", "output", "text"),
    handle(page, "output_1", "input", "value"),
  );
  await expect(page.locator(".react-flow__edge")).toHaveCount(1);

  await page.getByTestId("flow-name").fill("E2E greeting");
  await page.getByTestId("save").click();
  await expect(page).toHaveURL(/\/flows\/[^/]+$/);
  await expect(page.getByTestId("flow-version")).toHaveText("v1");
  await expect(page.getByTestId("dirty-badge")).toHaveCount(0);

  await page.getByTestId("run").click();
  await expect(page.getByTestId("run-status")).toHaveText("succeeded");
  await expect(node(page, "template_1")).toHaveAttribute("data-status", "succeeded");
  await expect(node(page, "output_1")).toHaveAttribute("data-status", "succeeded");
  await expect(node(page, "output_1").getByTestId("node-output")).toHaveText("Hello from Rivulet");
  await expect(page).toHaveURL(/\?run=/);

  // The inspector shows the node's inputs and outputs of the run.
  await selectNode(page, "output_1");
  await page.getByTestId("inspector-tab-run").click();
  await expect(page.getByTestId("inspector-status")).toHaveText(/succeeded/);
  await expect(page.getByTestId("outputs-value")).toContainText("Hello from Rivulet");

  // Run again: nothing changed, so the cacheable template is served from the cache.
  await page.getByTestId("run").click();
  await expect(page.getByTestId("run-status")).toHaveText("succeeded");
  await expect(node(page, "template_1")).toHaveAttribute("data-status", "cached");

  // Both runs are in the history.
  await page.getByTestId("run-tab-history").click();
  await expect(page.getByTestId("run-history").getByRole("button")).toHaveCount(2);

  // The runs page lists them too; opening one replays it in the editor.
  const flowPath = new URL(page.url()).pathname;
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Runs" }).click();
  await page.getByTestId("runs-list").locator(`a[href^="${flowPath}?run="]`).first().click();
  await expect(page).toHaveURL(/\/flows\/[^/]+\?run=/);
  await expect(page.getByTestId("run-status")).toHaveText("succeeded");
  await expect(node(page, "output_1").getByTestId("node-output")).toHaveText("Hello from Rivulet");
});

test("an incompatible connection is refused with the reason; undo and redo", async ({ page }) => {
  await page.goto("/flows/new");
  await dropOperator(page, "core.convert", 200, 160);
  await dropOperator(page, "core.map", 600, 160);
  await expect(node(page, "map_1")).toBeVisible();

  await connect(
    page,
    handle(page, "convert_1", "output", "value"),
    handle(page, "map_1", "input", "items"),
    async () => {
      await expect(page.getByTestId("connection-refusal")).toContainText(
        "convert_1.value gives Text but map_1.items expects List[Any]",
      );
    },
  );
  await expect(page.getByTestId("connection-refused")).toContainText("expects List[Any]");
  await expect(page.locator(".react-flow__edge")).toHaveCount(0);

  // Undo removes the second node, redo brings it back (keyboard shortcuts on the canvas).
  await page.locator(".react-flow__pane").click({ position: { x: 40, y: 40 } });
  await page.keyboard.press("Control+z");
  await expect(node(page, "map_1")).toHaveCount(0);
  await expect(node(page, "convert_1")).toBeVisible();
  await page.keyboard.press("Control+Shift+z");
  await expect(node(page, "map_1")).toBeVisible();
  await page.getByTestId("undo").click();
  await page.getByTestId("undo").click();
  await expect(page.locator(".react-flow__node")).toHaveCount(0);
  await page.getByTestId("redo").click();
  await expect(node(page, "convert_1")).toBeVisible();
});

const slowFlow = (seconds: number, value: string) =>
  [
    [
      {
        id: "start",
        operator: "core.constant",
        params: { value, type: "Text" },
        x: 0,
        y: 0,
      },
      { id: "wait", operator: "core.delay", params: { seconds }, x: 320, y: 0 },
      { id: "result", operator: "core.output", params: { name: "result" }, x: 640, y: 0 },
    ],
    [
      ["start", "value", "wait", "value"],
      ["wait", "value", "result", "value"],
    ],
  ] as const;

test("cancel a long run", async ({ page, request }) => {
  const [nodes, edges] = slowFlow(60, "tick");
  const flowId = await createFlow(request, "E2E slow flow", nodes, edges);
  await page.goto(`/flows/${flowId}`);
  await expect(node(page, "wait")).toBeVisible();

  await page.getByTestId("run").click();
  await expect(node(page, "wait")).toHaveAttribute("data-status", "running");
  await expect(node(page, "start")).toHaveAttribute("data-status", "succeeded");
  await page.getByTestId("cancel-run").click();
  await expect(page.getByTestId("run-status")).toHaveText("cancelled");
  await expect(node(page, "wait")).toHaveAttribute("data-status", "cancelled");
  await expect(node(page, "result")).not.toHaveAttribute("data-status", "succeeded");
});

test("reloading mid-run restores the run and follows it to the end", async ({ page, request }) => {
  const [nodes, edges] = slowFlow(4, "tock");
  const flowId = await createFlow(request, "E2E reload flow", nodes, edges);
  await page.goto(`/flows/${flowId}`);
  await page.getByTestId("run").click();
  await expect(node(page, "wait")).toHaveAttribute("data-status", "running");
  await expect(page).toHaveURL(/\?run=/);
  const runUrl = page.url();

  await page.reload();
  expect(page.url()).toBe(runUrl);
  // Replayed from the stored events: the first node already succeeded...
  await expect(node(page, "start")).toHaveAttribute("data-status", "succeeded");
  // ...and the live part follows: the run finishes with the output.
  await expect(page.getByTestId("run-status")).toHaveText("succeeded", { timeout: 20_000 });
  await expect(node(page, "result")).toHaveAttribute("data-status", "succeeded");
  await expect(node(page, "result").getByTestId("node-output")).toHaveText("tock");
});
