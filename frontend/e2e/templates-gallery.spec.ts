import { expect, test } from "@playwright/test";
import { docScreenshot, SCREENSHOT_TAG } from "./doc-screenshots";

test("gallery: search, tags, preview, import with a variable, open the imported flow", {
  tag: SCREENSHOT_TAG,
}, async ({ page }) => {
  await page.goto("/templates");
  const list = page.getByRole("list", { name: "Templates" });
  await expect(list.getByRole("listitem")).not.toHaveCount(0);
  expect(await list.getByRole("listitem").count()).toBeGreaterThanOrEqual(6);

  await page.getByRole("group", { name: "Tags" }).getByRole("button", { name: "router" }).click();
  await expect(list.getByRole("listitem")).toHaveCount(1);
  await expect(list).toContainText("Route support tickets");
  await page.getByRole("group", { name: "Tags" }).getByRole("button", { name: "router" }).click();

  await page.getByRole("searchbox", { name: "Search templates" }).fill("reshape json");
  await expect(list.getByRole("listitem")).toHaveCount(1);
  await list.getByRole("button", { name: /Reshape JSON records/ }).click();

  const preview = page.getByRole("img", { name: "Preview of Reshape JSON records" });
  await expect(preview).toBeVisible();
  await expect(preview.locator("[data-node-id]")).toHaveCount(4);
  await expect(preview).toContainText("Pick orders");

  await page.getByRole("textbox", { name: /vat_factor/ }).fill("3");
  await docScreenshot(page, "templates-gallery.png");
  await page.getByRole("button", { name: "Import" }).click();
  await expect(page).toHaveURL(/\/flows\/[0-9a-f-]{36}$/);

  const flowId = new URL(page.url()).pathname.split("/").pop() ?? "";
  const response = await page.request.get(`/api/flows/${flowId}`);
  expect(response.status()).toBe(200);
  const flow = await response.json();
  expect(flow.document.metadata.template).toBe("json-reshape@1.0.0");
  expect(flow.document.nodes[2].params.expression).toContain("* 3");
  expect(flow.validation.ok).toBe(true);
});

test("gallery: a refused import shows the precise problem", async ({ page }) => {
  await page.goto("/templates");
  await page.getByRole("searchbox", { name: "Search templates" }).fill("fetch an api");
  await page.getByRole("list", { name: "Templates" }).getByRole("button").first().click();
  await page.getByRole("button", { name: "Import" }).click();
  await expect(page.getByRole("alert")).toContainText("variable 'api_url' is required");
});
