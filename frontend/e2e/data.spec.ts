import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Locator, Page } from "@playwright/test";
import { docScreenshot, SCREENSHOT_TAG } from "./doc-screenshots";
import { expect, selectNode, test } from "./editor-helpers";
import { registerScriptedModel, type ScriptedModel, startScriptedModel } from "./scripted-model";

/**
 * Data: data sources (the sample `shop` the server registers, and a SQLite file this test writes),
 * the schema browser, the SQL playground and its guard, ChatExcel with a scripted model, and the
 * "ask your database" template run in the editor.
 */

const PYTHON = path.resolve(import.meta.dirname, "../../.venv/bin/python");
const WORK = path.join(process.env.RIVULET_E2E_HOME ?? tmpdir(), "e2e-data");

/**
 * A docs picture of the page from its top (the top bar, the breadcrumbs and the heading) down to
 * `last` (the result): the viewport grows to fit it for the picture, then is put back. Only under
 * `make screenshots`: other runs keep the test's own viewport.
 */
async function pageScreenshot(page: Page, name: string, last: Locator): Promise<void> {
  if (process.env.RIVULET_SCREENSHOTS !== "1") return;
  const viewport = page.viewportSize() ?? { width: 1280, height: 800 };
  await page.evaluate(() => window.scrollTo(0, 0));
  const box = await last.boundingBox();
  const bottom = Math.ceil((box?.y ?? 0) + (box?.height ?? 0) + 24);
  await page.setViewportSize({
    width: viewport.width,
    height: Math.min(2400, Math.max(viewport.height, bottom)),
  });
  await page.evaluate(() => window.scrollTo(0, 0));
  await expect(page.getByRole("button", { name: "Log out" })).toBeInViewport();
  await page.waitForTimeout(800); // the chart redraws for the new size
  await docScreenshot(page, name);
  await page.setViewportSize(viewport);
}

/** Runs a short Python script of the project's venv (sqlite3 and openpyxl write the test files). */
function python(script: string, ...args: string[]): void {
  execFileSync(PYTHON, ["-c", script, ...args], { stdio: "pipe" });
}

function writeGardenDb(file: string): void {
  python(
    `
import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
con.executescript("""
DROP TABLE IF EXISTS plants; DROP TABLE IF EXISTS beds;
CREATE TABLE beds (bed_id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE plants (
  plant_id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  bed_id INTEGER REFERENCES beds (bed_id),
  height_cm REAL
);
INSERT INTO beds VALUES (1, 'sunny'), (2, 'shade');
INSERT INTO plants VALUES (1, 'tomato', 1, 120.0), (2, 'fern', 2, 40.5), (3, 'basil', 1, 30.0);
""")
con.commit()
`,
    file,
  );
}

/** An .xlsx with a sheet `orders` (region, product, amount) and a sheet `notes`. */
function writeWorkbook(file: string): void {
  python(
    `
import sys
from openpyxl import Workbook
book = Workbook()
sheet = book.active
sheet.title = "orders"
sheet.append(["region", "product", "amount"])
for row in [("north", "kite", 120.0), ("south", "kite", 80.0), ("north", "reel", 35.5),
            ("east", "string", 12.0), ("south", "reel", 41.0), ("east", "kite", 99.0)]:
    sheet.append(list(row))
notes = book.create_sheet("notes")
notes.append(["note"])
notes.append(["prices in EUR"])
book.save(sys.argv[1])
`,
    file,
  );
}

const SHEET_QUESTION = "What is the total amount per region?";
const SHEET_SQL = "SELECT region, SUM(amount) AS total FROM orders GROUP BY region ORDER BY region";
/** A follow-up: answered only when the prompt also holds the earlier question (the history). */
const FOLLOW_QUESTION = "And only the north?";
const FOLLOW_SQL = "SELECT SUM(amount) AS total FROM orders WHERE region = 'north'";
const SHOP_QUESTION = "What is the revenue per region?";
const SHOP_SQL = [
  "SELECT r.name AS region, ROUND(SUM(p.amount), 2) AS revenue",
  "FROM payments p",
  "JOIN orders o ON o.order_id = p.order_id",
  "JOIN customers c ON c.customer_id = o.customer_id",
  "JOIN regions r ON r.region_id = c.region_id",
  "GROUP BY r.name ORDER BY revenue DESC",
].join("\n");

/** Answered wrong first (a column that does not exist), then right when the error comes back. */
const REPAIR_QUESTION = "How many customers does each segment have?";
const REPAIR_BAD_SQL =
  "SELECT customer_segment, COUNT(*) AS customers FROM customers GROUP BY customer_segment";
const REPAIR_SQL =
  "SELECT segment, COUNT(*) AS customers FROM customers GROUP BY segment ORDER BY segment";

let model: ScriptedModel;

test.beforeAll(async () => {
  mkdirSync(WORK, { recursive: true });
  // The Text2SQL prompt says "read-only SELECT query"; the rule needs the question too.
  model = await startScriptedModel([
    {
      when: ["read-only SELECT query", FOLLOW_QUESTION, SHEET_QUESTION],
      answer: `\`\`\`sql\n${FOLLOW_SQL}\n\`\`\``,
    },
    { when: ["read-only SELECT query", SHEET_QUESTION], answer: `\`\`\`sql\n${SHEET_SQL}\n\`\`\`` },
    { when: ["read-only SELECT query", SHOP_QUESTION], answer: `\`\`\`sql\n${SHOP_SQL}\n\`\`\`` },
    { when: ["Fix the query", REPAIR_QUESTION], answer: `\`\`\`sql\n${REPAIR_SQL}\n\`\`\`` },
    { when: ["read-only SELECT query", REPAIR_QUESTION], answer: REPAIR_BAD_SQL },
  ]);
});

test.afterAll(async ({ request }) => {
  // The scripted model goes with its server (later tests list the models).
  await request.delete("/api/models/scripted");
  await model?.close();
});

test("data sources: the sample shop and a SQLite file added in the dialog, their schemas, a connection test", async ({
  page,
}) => {
  test.setTimeout(120_000);
  const garden = path.join(WORK, "garden.sqlite");
  writeGardenDb(garden);

  await page.goto("/");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Data" }).click();
  await expect(page).toHaveURL(/\/data$/);
  await expect(page.getByRole("heading", { level: 1, name: "Data" })).toBeVisible();
  const sources = page.getByRole("table", { name: "Data sources" });
  const shop = sources.locator('tr[data-datasource="shop"]');
  await expect(shop.getByRole("cell").nth(1)).toHaveText("sqlite");

  await page.getByRole("button", { name: "Add data source" }).click();
  const dialog = page.getByRole("dialog", { name: "New data source" });
  await expect(dialog.getByLabel(/^Password/)).toHaveAttribute("type", "password");
  await dialog.getByLabel("Kind").selectOption("sqlite");
  await expect(dialog.getByLabel(/^Password/)).toHaveCount(0);
  await dialog.getByLabel(/^Name/).fill("garden");
  await dialog.getByLabel(/^Path/).fill(garden);
  await dialog.getByRole("button", { name: "Add data source" }).click();
  await expect(page).toHaveURL(/\/data\/sources\/garden$/);

  const tables = page.getByRole("list", { name: "Tables" });
  const plants = tables.getByRole("button", { name: /^plants/ });
  // The first introspection also indexes the tables for schema linking (the embedding model loads).
  await expect(plants).toContainText("3 rows", { timeout: 60_000 });
  await expect(tables.getByRole("button", { name: /^beds/ })).toContainText("2 rows");
  await plants.click();
  const columns = page.getByRole("table", { name: "Columns of plants" });
  await expect(columns.locator('tr[data-column="plant_id"]')).toContainText("PK");
  await expect(columns.locator('tr[data-column="bed_id"]')).toContainText(/FK → beds/);
  await expect(columns.locator('tr[data-column="name"]')).toContainText("tomato");

  await page.getByRole("button", { name: "Test connection" }).click();
  await expect(page.getByRole("status").filter({ hasText: "latency" })).toContainText(
    /ok · latency \d+ ms/,
  );

  // An administrator edits it: a description and a few-shot example (question and SQL).
  const example = {
    question: "Which plants grow in the sunny bed?",
    sql: "SELECT p.name FROM plants p JOIN beds b ON b.bed_id = p.bed_id WHERE b.name = 'sunny'",
  };
  await page.getByRole("button", { name: "Edit" }).click();
  const edit = page.getByRole("dialog", { name: "Edit garden" });
  await edit.getByLabel(/^Description/).fill("Beds and what grows in them");
  await edit.getByRole("button", { name: "Add example" }).click();
  await edit.getByLabel(/^Question 1/).fill(example.question);
  await edit.getByLabel(/^SQL 1/).fill(example.sql);
  await edit.getByRole("button", { name: "Save" }).click();
  await expect(edit).toHaveCount(0);
  await expect(page.getByText("Beds and what grows in them")).toBeVisible();
  const saved = await (await page.request.get("/api/datasources/garden")).json();
  expect(saved.example_pairs).toEqual([example]);

  await page
    .getByRole("navigation", { name: "Breadcrumbs" })
    .getByRole("link", { name: "Data" })
    .click();
  await sources.locator('tr[data-datasource="shop"]').getByRole("link", { name: "shop" }).click();
  const shopTables = page.getByRole("list", { name: "Tables" });
  await expect(shopTables.getByRole("button", { name: /^order_items/ })).toBeVisible({
    timeout: 60_000,
  });
  await shopTables.getByRole("button", { name: /^customers/ }).click();
  const customers = page.getByRole("table", { name: "Columns of customers" });
  await expect(customers.locator('tr[data-column="region_id"]')).toContainText(/FK → regions/);
  await page.getByRole("button", { name: "Refresh schema" }).click();
  await expect(page.getByText(/8 tables · refreshed just now/)).toBeVisible();
});

test("SQL playground: rows and a chart; a write is refused by the guard with its rule", {
  tag: SCREENSHOT_TAG,
}, async ({ page }) => {
  test.setTimeout(60_000);
  await page.goto("/data/sources/shop");
  await expect(
    page.getByRole("list", { name: "Tables" }).getByRole("button", { name: /^orders/ }),
  ).toBeVisible({ timeout: 60_000 });
  const playground = page.getByRole("form", { name: "Run SQL" });
  await playground
    .getByLabel(/^SQL/)
    .fill(
      "SELECT r.name AS region, COUNT(*) AS customers FROM customers c " +
        "JOIN regions r ON r.region_id = c.region_id GROUP BY r.name ORDER BY r.name",
    );
  await playground.getByRole("button", { name: "Run" }).click();
  const result = page.getByRole("region", { name: "Query result" });
  await expect(result.getByTestId("table-view")).toContainText("Europe");
  await expect(result.getByRole("status")).toHaveText("5 rows");
  await expect(result.getByTestId("chart-view").locator("svg")).toBeVisible();
  await pageScreenshot(page, "data-sources.png", result);

  await playground.getByLabel(/^SQL/).fill("DELETE FROM customers");
  await playground.getByRole("button", { name: "Run" }).click();
  const refusal = page.getByRole("alert").filter({ hasText: "Refused by the SQL guard" });
  await expect(refusal).toBeVisible();
  await expect(refusal).toHaveAttribute("data-rule", /.+/);
  await expect(result).toHaveCount(0);

  await playground.getByLabel(/^SQL/).fill("SELECT name FROM regions; DROP TABLE regions");
  await playground.getByRole("button", { name: "Run" }).click();
  await expect(
    page.getByRole("alert").filter({ hasText: "Refused by the SQL guard" }),
  ).toBeVisible();
  await playground.getByLabel(/^SQL/).fill("SELECT COUNT(*) AS n FROM regions");
  await playground.getByRole("button", { name: "Run" }).click();
  await expect(result.getByTestId("table-view")).toContainText("5");
});

test("Ask: the model's wrong SQL is repaired with the error; the attempts, the rows and the chart show", async ({
  page,
}) => {
  test.setTimeout(90_000);
  await registerScriptedModel(page.request, "scripted", model.url);
  await page.goto("/data/sources/shop");
  const form = page.getByRole("form", { name: "Ask the data source" });
  await form.getByLabel("Model").selectOption("scripted");
  await form.getByLabel("Question").fill(REPAIR_QUESTION);
  await form.getByRole("button", { name: "Ask" }).click();
  const answer = page.getByRole("region", { name: "Answer" });
  await expect(answer.getByTestId("table-view")).toContainText("enterprise", { timeout: 60_000 });
  await expect(answer.getByRole("status")).toHaveText("3 rows");
  await expect(answer.getByTestId("chart-view").locator("svg")).toBeVisible();
  await page.getByText("SQL (1 repaired)").click();
  const attempts = page.getByRole("list", { name: "Attempts" });
  await expect(attempts.getByRole("listitem")).toHaveCount(2);
  await expect(attempts.getByRole("listitem").first()).toContainText(/first answer · failed at/);
  await expect(attempts.getByRole("listitem").first()).toContainText("customer_segment");
  await expect(attempts.getByRole("listitem").nth(1)).toContainText("repair 1 · ok");
});

test("ChatExcel: upload a workbook, ask with a scripted model, see the SQL, the rows and a chart", {
  tag: SCREENSHOT_TAG,
}, async ({ page }) => {
  test.setTimeout(120_000);
  await registerScriptedModel(page.request, "scripted", model.url);
  const workbook = path.join(WORK, "kite-sales.xlsx");
  writeWorkbook(workbook);

  await page.goto("/data");
  await page.getByRole("link", { name: "Chat with a spreadsheet" }).click();
  await expect(page).toHaveURL(/\/data\/chat$/);
  await page.getByLabel("Choose a spreadsheet").setInputFiles(workbook);
  const tables = page.getByRole("status", { name: "Uploaded tables" });
  await expect(tables).toContainText("kite-sales", { timeout: 60_000 });
  await expect(tables).toContainText("orders (6 rows)");
  await expect(tables).toContainText("notes (1 rows)");

  const form = page.getByRole("form", { name: "Ask the spreadsheet" });
  await form.getByLabel("Model").selectOption("scripted");
  await form.getByLabel("Question").fill(SHEET_QUESTION);
  await form.getByRole("button", { name: "Ask" }).click();
  const turn = page.getByRole("listitem", { name: SHEET_QUESTION });
  const answer = turn.getByRole("region", { name: `Answer to ${SHEET_QUESTION}` });
  await expect(answer.getByTestId("table-view")).toContainText("north", { timeout: 90_000 });
  await expect(answer.getByTestId("table-view")).toContainText("155.5");
  await expect(answer.getByRole("status")).toHaveText("3 rows");
  await expect(answer.getByTestId("chart-view").locator("svg")).toBeVisible();
  await turn.getByText(/^SQL/).click();
  await expect(turn.getByRole("region", { name: "Generated SQL" })).toContainText(
    /GROUP BY\s+(orders\.)?region/i,
  );
  expect(model.prompts.some((prompt) => prompt.includes(SHEET_QUESTION))).toBe(true);
  await pageScreenshot(page, "chat-excel.png", answer);

  // A follow-up is sent with the earlier question and its SQL (the model answers it only then).
  await form.getByLabel("Question").fill(FOLLOW_QUESTION);
  await form.getByRole("button", { name: "Ask" }).click();
  const follow = page
    .getByRole("listitem", { name: FOLLOW_QUESTION })
    .getByRole("region", { name: `Answer to ${FOLLOW_QUESTION}` });
  await expect(follow.getByTestId("table-view")).toContainText("155.5", { timeout: 60_000 });
  const last = model.prompts.at(-1) ?? "";
  expect(last).toContain(FOLLOW_QUESTION);
  expect(last).toContain(SHEET_QUESTION);

  // The upload is the caller's data source: listed, and theirs to delete.
  await page.goto("/data");
  await expect(
    page.getByRole("table", { name: "Data sources" }).locator('tr[data-datasource="kite-sales"]'),
  ).toContainText("file");
});

test("the 'Ask your database' template, pointed at the scripted model, runs in the editor and draws its chart", async ({
  page,
}) => {
  test.setTimeout(180_000);
  await registerScriptedModel(page.request, "scripted", model.url);

  await page.goto("/templates");
  await page.getByRole("searchbox", { name: "Search templates" }).fill("ask your database");
  const list = page.getByRole("list", { name: "Templates" });
  await list.getByRole("button", { name: /Ask your database/ }).click();
  await expect(page.getByRole("img", { name: "Preview of Ask your database" })).toBeVisible();
  await page.getByRole("textbox", { name: /^model/ }).fill("scripted");
  await page.getByRole("button", { name: "Import" }).click();
  await expect(page).toHaveURL(/\/flows\/[0-9a-f-]{36}$/);

  // The data source param is picked from /api/datasources.
  await selectNode(page, "generate");
  const datasource = page.getByTestId("param-datasource");
  await expect(datasource).toHaveValue("shop");
  const listId = (await datasource.getAttribute("list")) ?? "";
  await expect(page.locator(`[id="${listId}"] option[value="shop"]`)).toHaveCount(1);
  await expect(page.getByTestId("param-model")).toHaveValue("scripted");

  await page.getByTestId("run-tab-inputs").click();
  await page.getByTestId("run-input-question").fill(SHOP_QUESTION);
  await page.getByTestId("run").click();
  await expect(page.getByTestId("run-status")).toHaveText("succeeded", { timeout: 150_000 });

  await page.getByTestId("run-tab-output").click();
  const outputs = page.getByTestId("run-outputs");
  await expect(outputs.getByTestId("table-view")).toContainText("Europe");
  await expect(outputs.getByTestId("chart-view").locator("svg")).toBeVisible();
  await expect(outputs.getByTestId("chart-view").locator("svg path").first()).toBeAttached();
  await expect(outputs).toContainText("The table shows the totals.");
  expect(model.prompts.some((prompt) => prompt.includes(SHOP_QUESTION))).toBe(true);
});
