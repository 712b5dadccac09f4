import { type APIRequestContext, expect, type Page, test } from "@playwright/test";
import { docScreenshot, SCREENSHOT_TAG } from "./doc-screenshots";
import { createFlow, node, selectNode } from "./editor-helpers";

/** Two small handbooks written by the test; the question is answered by one passage of the first. */
const FILES = [
  {
    name: "baking-handbook.md",
    text: [
      "# Baking handbook",
      "## Sourdough",
      "Feed the sourdough starter twice a day with equal weights of flour and water.",
      "Let the shaped sourdough proof overnight in the fridge, for twelve to fourteen hours, before baking.",
      "## Oven",
      "Preheat the oven with the cast iron pot inside for forty five minutes at 250 degrees.",
    ].join("\n\n"),
  },
  {
    name: "garden-notes.txt",
    text: [
      "Tomatoes want full sun and deep watering twice a week.",
      "Prune the apple trees in late winter, before the buds open.",
      "Compost turns into soil faster when it is turned every two weeks and kept moist.",
    ].join("\n\n"),
  },
];

/** Drops files on `selector` the way a browser does: a `drop` event carrying a DataTransfer. */
async function dropFiles(page: Page, selector: string, files: typeof FILES): Promise<void> {
  const dataTransfer = await page.evaluateHandle((items) => {
    const transfer = new DataTransfer();
    for (const item of items) {
      transfer.items.add(new File([item.text], item.name, { type: "text/plain" }));
    }
    return transfer;
  }, files);
  await page.dispatchEvent(selector, "dragenter", { dataTransfer });
  await page.dispatchEvent(selector, "drop", { dataTransfer });
}

test("knowledge: create a space, drop two files, watch them ingest, search with retriever badges", {
  tag: SCREENSHOT_TAG,
}, async ({ page }) => {
  test.setTimeout(180_000);
  await page.goto("/");
  await page
    .getByRole("navigation", { name: "Main" })
    .getByRole("link", { name: "Knowledge" })
    .click();
  await expect(page).toHaveURL(/\/knowledge$/);
  await expect(page.getByRole("heading", { level: 1, name: "Knowledge" })).toBeVisible();

  await page.getByRole("button", { name: "New space" }).click();
  const dialog = page.getByRole("dialog", { name: "New knowledge space" });
  await dialog.getByLabel("Name").fill("handbooks");
  await dialog.getByLabel("Description").fill("Baking and garden notes");
  await dialog.getByLabel("Chunking strategy").selectOption("markdown");
  await dialog.getByLabel("Chunk size (tokens)").fill("48");
  await dialog.getByLabel("Overlap (tokens)").fill("8");
  await dialog.getByRole("button", { name: "Create space" }).click();
  await expect(page).toHaveURL(/\/knowledge\/handbooks$/);
  await expect(page.getByText("markdown, 48 tokens, overlap 8")).toBeVisible();

  await dropFiles(page, '[data-testid="upload-zone"]', FILES);
  const ingestion = page.getByRole("region", { name: "Ingestion" });
  await expect(ingestion.getByRole("status")).toContainText(
    /Ingestion done: 2 documents, \d+ chunks added/,
    { timeout: 120_000 },
  );
  await expect(ingestion.getByRole("progressbar", { name: "Documents" })).toHaveAttribute(
    "aria-valuetext",
    "2 of 2",
  );
  const report = ingestion.getByRole("table", { name: "Ingestion report" });
  await expect(report.getByRole("row")).toHaveCount(3);
  await expect(report.locator('tr[data-item="baking-handbook.md"]')).toContainText("added");

  const documents = page.getByRole("table", { name: "Documents" });
  for (const file of FILES) {
    const row = documents.locator(`tr[data-document="${file.name}"]`);
    await expect(row.locator(".status-badge")).toHaveText("ready");
    await expect(row.getByRole("cell").nth(2)).toHaveText(/^[1-9]\d*$/);
  }

  await page.getByLabel("Query").fill("How long should the sourdough proof before baking?");
  await page.getByRole("button", { name: "Search" }).click();
  const first = page.getByRole("list", { name: "Search results" }).getByRole("listitem", {
    name: "Hit 1",
  });
  await expect(first).toContainText("proof overnight in the fridge, for twelve to fourteen hours");
  await expect(first).toContainText("baking-handbook.md");
  await expect(first).toContainText("Baking handbook › Sourdough");
  const badges = first.getByRole("list", { name: "Found by" });
  await expect(badges.locator('[data-retriever="vector"]')).toContainText(/^vector#\d/);
  await expect(badges.locator('[data-retriever="keyword"]')).toContainText(/^keyword#\d/);

  await docScreenshot(page, "knowledge-space.png");

  await page
    .getByRole("navigation", { name: "Main" })
    .getByRole("link", { name: "Knowledge" })
    .click();
  const space = page.locator('tr[data-space="handbooks"]');
  await expect(space.getByRole("cell").nth(2)).toHaveText("2");
  await expect(space.getByRole("cell").nth(3)).toHaveText(/^[1-9]\d*$/);
});

test("knowledge: a file that cannot be read fails alone, with its error", async ({ page }) => {
  test.setTimeout(120_000);
  const created = await page.request.post("/api/knowledge/spaces", {
    data: { name: "mixed" },
  });
  expect(created.status()).toBe(201);
  await page.goto("/knowledge/mixed");
  await page.getByLabel("Choose files").setInputFiles([
    { name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("Plain notes about kites.") },
    { name: "broken.pdf", mimeType: "application/pdf", buffer: Buffer.from("not a pdf at all") },
  ]);
  const ingestion = page.getByRole("region", { name: "Ingestion" });
  await expect(ingestion.getByRole("status")).toContainText("1 failed", { timeout: 90_000 });
  await expect(ingestion.locator('tr[data-item="broken.pdf"]')).toContainText("failed");
  await expect(ingestion.locator('tr[data-item="notes.txt"]')).toContainText("added");
  const documents = page.getByRole("table", { name: "Documents" });
  await expect(documents.locator('tr[data-document="notes.txt"] .status-badge')).toHaveText(
    "ready",
  );
  const broken = documents.locator('tr[data-document="broken.pdf"]');
  await expect(broken.locator(".status-badge")).toHaveText("failed");
  await expect(broken.getByRole("note")).toContainText("broken.pdf");
});

/** Ingests `text` as one document through the API and waits for the job to finish. */
async function ingestText(request: APIRequestContext, space: string, name: string, text: string) {
  const started = await request.post(`/api/knowledge/spaces/${space}/documents/text`, {
    data: { name, text },
  });
  expect(started.status(), await started.text()).toBe(202);
  const { id } = (await started.json()) as { id: string };
  await expect
    .poll(async () => (await (await request.get(`/api/knowledge/jobs/${id}`)).json()).status, {
      timeout: 60_000,
    })
    .toBe("done");
}

test("a RAG flow's citations show in the run panel and the inspector with their passages", async ({
  page,
  request,
}) => {
  test.setTimeout(180_000);
  expect((await request.post("/api/knowledge/spaces", { data: { name: "kites" } })).status()).toBe(
    201,
  );
  await ingestText(
    request,
    "kites",
    "kites.md",
    "# Kites\n\nKites fly best in a steady wind of ten to twenty kilometres an hour.\n\n" +
      "# Sails\n\nSew the sail from ripstop nylon and brace it with bamboo spars.",
  );
  const flowId = await createFlow(
    request,
    "E2E cited answer",
    [
      {
        id: "q",
        operator: "core.template",
        params: { template: "What wind do kites need?" },
        x: 0,
        y: 0,
      },
      {
        id: "retrieve",
        operator: "rag.retrieve",
        params: { space: "kites", top_k: 2 },
        x: 260,
        y: 0,
      },
      {
        id: "answer",
        operator: "rag.answer",
        params: { model: "default", max_tokens: 24, stream: false },
        x: 520,
        y: 0,
      },
      { id: "answer_out", operator: "core.output", params: { name: "answer" }, x: 780, y: -80 },
      {
        id: "citations_out",
        operator: "core.output",
        params: { name: "citations" },
        x: 780,
        y: 80,
      },
    ],
    [
      ["q", "text", "retrieve", "query"],
      ["q", "text", "answer", "question"],
      ["retrieve", "chunks", "answer", "chunks"],
      ["answer", "answer", "answer_out", "value"],
      ["answer", "citations", "citations_out", "value"],
    ],
  );
  await page.goto(`/flows/${flowId}`);
  await page.getByTestId("run").click();
  await expect(page.getByTestId("run-status")).toHaveText("succeeded", { timeout: 150_000 });

  await page.getByTestId("run-tab-output").click();
  const outputs = page.getByTestId("run-outputs");
  const cited = outputs.getByTestId("citation");
  await expect(cited).not.toHaveCount(0);
  const wind = cited.filter({ hasText: "kites.md" }).filter({ hasText: "Kites" }).first();
  await wind.locator("summary").click();
  await expect(wind).toContainText("steady wind of ten to twenty kilometres an hour");
  await expect(wind.getByRole("list", { name: "Found by" })).toContainText("vector");

  await selectNode(page, "answer");
  await page.getByTestId("inspector-tab-run").click();
  await expect(page.getByTestId("inspector-status")).toHaveText(/succeeded/);
  await expect(page.getByTestId("outputs-citations").getByTestId("citation")).not.toHaveCount(0);
  await expect(node(page, "answer")).toHaveAttribute("data-status", "succeeded");
});
