import { expect, request as playwrightRequest, test } from "@playwright/test";

const GREET_FLOW = {
  schema: "rivulet.flow/v1",
  name: "greeter",
  nodes: [
    {
      id: "http",
      operator: "trigger.http",
      params: { slug: "e2e-greet", fields: [{ name: "name", type: "Text" }] },
    },
    { id: "tpl", operator: "core.template", params: { template: "Hello, {{ name }}!" } },
    { id: "out", operator: "core.output", params: { name: "greeting" } },
  ],
  edges: [
    { id: "e1", source: "http", source_port: "name", target: "tpl", target_port: "name" },
    { id: "e2", source: "tpl", source_port: "text", target: "out", target_port: "value" },
  ],
};

test("publish a flow, create an API key, call the endpoint, see its stats", async ({
  page,
  request,
  baseURL,
}) => {
  const created = await request.post("/api/flows", { data: { document: GREET_FLOW } });
  expect(created.status()).toBe(201);

  await page.goto("/publishing");
  await expect(page.getByRole("heading", { level: 1, name: "Publishing" })).toBeVisible();
  await page
    .getByRole("combobox", { name: "Flow", exact: true })
    .selectOption({ label: "greeter (v1)" });
  await page.getByRole("button", { name: "Publish", exact: true }).click();
  const result = page.locator(".publish-result");
  await expect(result).toContainText("Published version 1 at POST /f/e2e-greet");
  await expect(result.locator(".snippets__code")).toContainText("curl -X POST");
  await result.getByRole("tab", { name: "Python" }).click();
  await expect(result.locator(".snippets__code")).toContainText("httpx.request");

  await page.getByLabel("Key name").fill("e2e key");
  await page.getByLabel(/Endpoints \(slugs/).fill("e2e-greet");
  await page.getByRole("button", { name: "Create key" }).click();
  const secret = (await page.locator(".secret__value").textContent()) ?? "";
  expect(secret).toMatch(/^rvk_/);

  const anonymous = await playwrightRequest.newContext({
    baseURL,
    storageState: { cookies: [], origins: [] },
  });
  expect((await anonymous.post("/f/e2e-greet", { data: { name: "Ada" } })).status()).toBe(401);
  const called = await anonymous.post("/f/e2e-greet", {
    data: { name: "Ada" },
    headers: { Authorization: `Bearer ${secret}` },
  });
  expect(await called.json()).toBe("Hello, Ada!");
  const bad = await anonymous.post("/f/e2e-greet", {
    data: {},
    headers: { Authorization: `Bearer ${secret}` },
  });
  expect(bad.status()).toBe(422);
  await anonymous.dispose();

  await page.reload();
  // other specs of the same run publish endpoints too: find this one's row by its path
  const row = page
    .getByRole("table", { name: "Published endpoints" })
    .getByRole("row")
    .filter({ hasText: "/f/e2e-greet" });
  await expect(row).toContainText("POST /f/e2e-greet");
  await expect(row.getByRole("cell").nth(3)).toHaveText("2");
  await expect(row.getByRole("cell").nth(4)).toHaveText("1");
  await row.getByRole("button", { name: "Call it" }).click();
  const audit = page.getByRole("table", { name: "Recent calls of e2e-greet" });
  await expect(audit).toContainText("key:e2e key");
  await expect(audit).toContainText("422");
  const keys = page.getByRole("table", { name: "API keys" });
  await expect(keys).toContainText("e2e key");
  await keys.getByRole("button", { name: "Revoke e2e key" }).click();
  await expect(keys).toContainText("revoked");
});
