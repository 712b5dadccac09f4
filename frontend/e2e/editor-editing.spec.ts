import { readFileSync } from "node:fs";
import { createFlow, expect, node, selectNode, test } from "./editor-helpers";

test.describe.configure({ timeout: 60_000 });

test("diagnostics on node and field, copy/paste, versions, layout, notes, export/import", async ({
  page,
}, testInfo) => {
  const flowId = await createFlow(
    page.request,
    "E2E editing",
    [
      { id: "start", operator: "core.constant", params: { value: 1, type: "Int" }, x: 0, y: 0 },
      { id: "wait", operator: "core.delay", params: { seconds: 1 }, x: 300, y: 200 },
    ],
    [["start", "value", "wait", "value"]],
  );
  await page.goto(`/flows/${flowId}`);
  await expect(node(page, "wait")).toBeVisible();

  // A bad param: the server's compiler marks the node and the field.
  await selectNode(page, "wait");
  await page.getByTestId("param-seconds").fill("-5");
  await expect(node(page, "wait").getByTestId("node-diagnostics")).toContainText(
    "Expected `float` >= 0",
  );
  await expect(page.getByTestId("field-error-seconds")).toBeVisible();
  await expect(page.getByTestId("diagnostics-badge")).toHaveText("1 problem");
  await page.getByTestId("param-seconds").fill("2");
  await expect(page.getByTestId("diagnostics-badge")).toHaveCount(0);

  // Copy and paste the selected node: a new node with a fresh id and the same params.
  await selectNode(page, "wait");
  await page.keyboard.press("Control+c");
  await page.keyboard.press("Control+v");
  await expect(node(page, "wait_1")).toBeVisible();
  // The pasted node is the selection: the inspector shows it.
  await expect(page.getByTestId("inspector")).toContainText("wait_1 · core.delay");
  await expect(page.getByTestId("param-seconds")).toHaveValue("2");

  // Save a second version, then restore the first one (it becomes version 3).
  await page.getByTestId("save").click();
  await expect(page.getByTestId("flow-version")).toHaveText("v2");
  await page.getByTestId("versions").click();
  await expect(page.getByTestId("version-1")).toBeVisible();
  await page.getByTestId("restore-1").click();
  await expect(page.getByTestId("flow-version")).toHaveText("v3");
  await expect(node(page, "wait_1")).toHaveCount(0);

  // Notes and auto-layout (elk puts the constant left of the delay, on one row).
  await page.getByTestId("add-note").click();
  await expect(page.locator(".note-node")).toHaveCount(1);
  await page.getByTestId("auto-layout").click();
  await expect
    .poll(async () => {
      const a = await node(page, "start").boundingBox();
      const b = await node(page, "wait").boundingBox();
      return a && b ? a.x + a.width < b.x && Math.abs(a.y - b.y) < 40 : false;
    })
    .toBe(true);

  // Export the document, then import it back into a new flow.
  const downloadPromise = page.waitForEvent("download");
  await page.getByTestId("export").click();
  const download = await downloadPromise;
  const file = testInfo.outputPath("flow.json");
  await download.saveAs(file);
  const exported = JSON.parse(readFileSync(file, "utf8")) as { nodes: { id: string }[] };
  expect(exported.nodes.map((item) => item.id).sort()).toEqual(["start", "wait"]);

  await page.getByTestId("save").click();
  await expect(page.getByTestId("dirty-badge")).toHaveCount(0);
  await page.goto("/flows/new");
  await page.getByTestId("import-file").setInputFiles(file);
  await expect(node(page, "wait")).toBeVisible();
  await expect(page.getByTestId("dirty-badge")).toBeVisible();
});

test("run inputs: one field per Input node, sent with the run", async ({ page }) => {
  const flowId = await createFlow(
    page.request,
    "E2E inputs",
    [
      { id: "question", operator: "core.input", params: { name: "question" }, x: 0, y: 0 },
      { id: "answer", operator: "core.output", params: { name: "answer" }, x: 400, y: 0 },
    ],
    [["question", "value", "answer", "value"]],
  );
  await page.goto(`/flows/${flowId}`);
  await expect(node(page, "answer")).toBeVisible();
  await page.getByTestId("run").click();
  await expect(page.getByTestId("run-error")).toContainText("'question' is required");
  await page.getByTestId("run-tab-inputs").click();
  await page.getByTestId("run-input-question").fill("What is a rivulet?");
  await page.getByTestId("run").click();
  await expect(page.getByTestId("run-status")).toHaveText("succeeded");
  await expect(node(page, "answer").getByTestId("node-output")).toHaveText("What is a rivulet?");
  await page.getByTestId("run-tab-output").click();
  await expect(page.getByTestId("run-outputs")).toContainText("What is a rivulet?");
});
