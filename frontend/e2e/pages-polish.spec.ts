import {
  type APIRequestContext,
  expect,
  request as playwrightRequest,
  test,
} from "@playwright/test";
import { docScreenshot, SCREENSHOT_TAG } from "./doc-screenshots";
import { createFlow, node } from "./editor-helpers";

/**
 * The page polish of issue 20 against the real server: the Secrets page, run inputs remembered per
 * flow, flow names (same-named flows told apart) on the Runs and Publishing pages, endpoint
 * latency per outcome, and a 422 that lists every body error.
 */

const SECRET_VALUE = "e2e-top-secret-value-9f1c";

test(`an administrator manages secrets from Settings; values never show ${SCREENSHOT_TAG}`, async ({
  page,
}) => {
  await page.goto("/settings");
  await page.getByTestId("settings-link-secrets").click();
  await expect(page).toHaveURL(/\/secrets$/);
  await expect(page.getByRole("heading", { level: 1, name: "Secrets" })).toBeVisible();

  const secrets: [string, string][] = [
    ["E2E_SERVICE_TOKEN", SECRET_VALUE],
    ["E2E_DB_PASSWORD", "another-hidden-value"],
  ];
  for (const [name, value] of secrets) {
    await page.getByTestId("secret-name").fill(name);
    await page.getByTestId("secret-value").fill(value);
    await page.getByRole("button", { name: "Save secret" }).click();
    await expect(page.getByTestId("secret-saved")).toContainText(`Saved ${name}`);
    await expect(page.locator(`[data-secret="${name}"]`)).toBeVisible();
  }
  await expect(page.getByTestId("secret-value")).toHaveValue("");
  await expect(page.getByTestId("secret-value")).toHaveAttribute("type", "password");
  await expect(page.locator("body")).not.toContainText(SECRET_VALUE);
  const listed = await page.request.get("/api/secrets");
  expect(await listed.text()).not.toContain(SECRET_VALUE);
  await docScreenshot(page, "secrets-page.png");

  // replace a value, then delete a secret after confirming
  await page.getByRole("button", { name: "Replace E2E_SERVICE_TOKEN" }).click();
  await expect(page.getByTestId("secret-name")).toHaveValue("E2E_SERVICE_TOKEN");
  await page.getByTestId("secret-value").fill("a-newer-value");
  await page.getByRole("button", { name: "Replace", exact: true }).click();
  await expect(page.getByTestId("secret-saved")).toContainText("Saved E2E_SERVICE_TOKEN");
  await page.getByRole("button", { name: "Delete E2E_DB_PASSWORD" }).click();
  await page.getByTestId("secret-confirm").getByRole("button", { name: "Delete" }).click();
  await expect(page.locator('[data-secret="E2E_DB_PASSWORD"]')).toHaveCount(0);
  await expect(page.locator('[data-secret="E2E_SERVICE_TOKEN"]')).toBeVisible();
  const names = (
    (await (await page.request.get("/api/secrets")).json()) as {
      items: { name: string }[];
    }
  ).items.map((s) => s.name);
  expect(names).toContain("E2E_SERVICE_TOKEN");
  expect(names).not.toContain("E2E_DB_PASSWORD");
});

test("an editor sees no Secrets link and the page refuses them", async ({ browser, request }) => {
  const created = await request.post("/api/users", {
    data: { username: "e2e-secrets-editor", password: "editor-password-1", role: "editor" },
  });
  expect([201, 409]).toContain(created.status());
  const context = await browser.newContext({ storageState: { cookies: [], origins: [] } });
  const login = await context.request.post("/api/auth/login", {
    data: { username: "e2e-secrets-editor", password: "editor-password-1", mode: "cookie" },
  });
  expect(login.status()).toBe(200);
  const page = await context.newPage();
  await page.goto("/settings");
  await expect(page.getByTestId("settings-link-models")).toBeVisible();
  await expect(page.getByTestId("settings-link-secrets")).toHaveCount(0);
  await page.goto("/secrets");
  await expect(page.getByTestId("secrets-forbidden")).toBeVisible();
  await expect(page.getByTestId("secret-value")).toHaveCount(0);
  expect((await context.request.put("/api/secrets/NOPE", { data: { value: "x" } })).status()).toBe(
    403,
  );
  await context.close();
});

test("run inputs are remembered per flow across a reload, secret ones are not", async ({
  page,
}) => {
  const flowId = await createFlow(
    page.request,
    "E2E remembered inputs",
    [
      { id: "question", operator: "core.input", params: { name: "question" }, x: 0, y: 0 },
      { id: "key", operator: "core.input", params: { name: "api_key" }, x: 0, y: 200 },
      { id: "answer", operator: "core.output", params: { name: "answer" }, x: 400, y: 0 },
    ],
    [["question", "value", "answer", "value"]],
  );
  await page.goto(`/flows/${flowId}`);
  await expect(node(page, "answer")).toBeVisible();
  await page.getByTestId("run-tab-inputs").click();
  await page.getByTestId("run-input-question").fill("What is a rivulet?");
  await expect(page.getByTestId("run-input-api_key")).toHaveAttribute("type", "password");
  await page.getByTestId("run-input-api_key").fill("sk-e2e-never-stored");

  await page.reload();
  await expect(node(page, "answer")).toBeVisible();
  await page.getByTestId("run-tab-inputs").click();
  await expect(page.getByTestId("run-input-question")).toHaveValue("What is a rivulet?");
  await expect(page.getByTestId("run-input-api_key")).toHaveValue("");
  const stored = await page.evaluate(() => JSON.stringify(window.localStorage));
  expect(stored).toContain("What is a rivulet?");
  expect(stored).not.toContain("sk-e2e-never-stored");
  await page.getByTestId("run-input-api_key").fill("sk-again");
  await page.getByTestId("run").click();
  await expect(page.getByTestId("run-status")).toHaveText("succeeded");
  await expect(node(page, "answer").getByTestId("node-output")).toHaveText("What is a rivulet?");
});

function httpFlow(name: string, slug: string, stream = false) {
  const fields = [
    { name: "name", type: "Text" },
    { name: "times", type: "Int", required: false, default: 1 },
  ];
  const middle = stream
    ? { id: "mid", operator: "core.stream_text", params: { delay_s: 0.3 } }
    : { id: "mid", operator: "core.template", params: { template: "Hello, {{ name }}!" } };
  return {
    schema: "rivulet.flow/v1",
    name,
    nodes: [
      {
        id: "http",
        operator: "trigger.http",
        params: { slug, fields, response: stream ? "sse" : "json" },
      },
      middle,
      { id: "out", operator: "core.output", params: { name: "text" } },
    ],
    edges: [
      {
        id: "e1",
        source: "http",
        source_port: "name",
        target: "mid",
        target_port: stream ? "text" : "name",
      },
      {
        id: "e2",
        source: "mid",
        source_port: stream ? "tokens" : "text",
        target: "out",
        target_port: "value",
      },
    ],
  };
}

async function publish(request: APIRequestContext, document: object): Promise<string> {
  const created = await request.post("/api/flows", { data: { document } });
  expect(created.status(), await created.text()).toBe(201);
  const id = ((await created.json()) as { summary: { id: string } }).summary.id;
  const published = await request.post(`/api/flows/${id}/publish`, { data: {} });
  expect(published.status(), await published.text()).toBe(200);
  return id;
}

test(`flow names tell same-named flows apart; endpoint latency per outcome; every 422 error ${SCREENSHOT_TAG}`, async ({
  page,
  request,
  baseURL,
}) => {
  const first = await publish(request, httpFlow("Summariser", "e2e-sum-a"));
  const second = await publish(request, httpFlow("Summariser", "e2e-sum-b"));
  await publish(request, httpFlow("Streamer", "e2e-stream", true));

  const keyed = await request.post("/api/api-keys", { data: { name: "e2e outcomes" } });
  const secret = ((await keyed.json()) as { secret: string }).secret;
  const caller = await playwrightRequest.newContext({
    baseURL,
    storageState: { cookies: [], origins: [] },
    extraHTTPHeaders: { Authorization: `Bearer ${secret}` },
  });
  for (const name of ["Ada", "Bob"]) {
    expect((await caller.post("/f/e2e-sum-a", { data: { name } })).status()).toBe(200);
  }
  expect((await caller.post("/f/e2e-sum-b", { data: { name: "Cy" } })).status()).toBe(200);
  const invalid = await caller.post("/f/e2e-sum-a", { data: { times: "many", colour: "red" } });
  expect(invalid.status()).toBe(422);
  const problem = (await invalid.json()) as { detail: string; errors: { field: string }[] };
  expect(problem.errors.map((e) => e.field)).toEqual(["name", "times", "colour"]);
  expect(problem.detail).toContain("3 errors");
  expect((await caller.post("/f/e2e-sum-a?wait=false", { data: { name: "Di" } })).status()).toBe(
    202,
  );
  const streamed = await caller.post("/f/e2e-stream", { data: { name: "one two three four" } });
  expect(streamed.status()).toBe(200);
  expect(await streamed.text()).toContain("event: result");
  await caller.dispose();

  await page.goto("/publishing");
  const endpoints = page.getByRole("table", { name: "Published endpoints" });
  const rowOf = (slug: string) => endpoints.getByRole("row").filter({ hasText: `/f/${slug}` });
  await expect(rowOf("e2e-sum-a").getByTestId("flow-label")).toHaveText(
    `Summariser · ${first.replace(/-/g, "").slice(0, 6)}`,
  );
  await expect(rowOf("e2e-sum-b").getByTestId("flow-label")).toHaveText(
    `Summariser · ${second.replace(/-/g, "").slice(0, 6)}`,
  );
  await expect(rowOf("e2e-stream").getByTestId("flow-label")).toHaveText("Streamer");
  const outcomes = rowOf("e2e-sum-a").getByTestId("endpoint-outcome");
  await expect(outcomes).toHaveCount(3);
  await expect(outcomes.nth(0)).toContainText("200 JSON 2 · p50");
  await expect(outcomes.nth(1)).toContainText("errors 1 · p50");
  await expect(outcomes.nth(2)).toContainText("202 accepted 1 · p50");
  const stream = rowOf("e2e-stream").getByTestId("endpoint-outcome");
  await expect(stream).toHaveCount(1);
  // four words, 0.3 s before each: the stream's duration is its whole length, not its first byte
  await expect(stream).toContainText(/SSE stream 1 · p50 \d+(\.\d)? s/);
  await endpoints.locator("thead").scrollIntoViewIfNeeded();
  await docScreenshot(page, "publishing-endpoint-outcomes.png");
  await rowOf("e2e-sum-a").getByRole("button", { name: "Call it" }).click();
  const audit = page.getByRole("table", { name: "Recent calls of e2e-sum-a" });
  await expect(audit).toContainText("202 accepted");
  await expect(audit).toContainText("errors");

  await page.goto("/runs");
  const runs = page.getByTestId("runs-list");
  await expect(runs.getByTestId("flow-label").filter({ hasText: "Summariser ·" })).not.toHaveCount(
    0,
  );
  await expect(runs.locator(`[data-flow-id="${second}"]`).first()).toHaveText(
    `Summariser · ${second.replace(/-/g, "").slice(0, 6)}`,
  );
  await expect(runs).not.toContainText(first);
  await docScreenshot(page, "runs-flow-names.png");
});
