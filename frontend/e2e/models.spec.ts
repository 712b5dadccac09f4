import { expect, test } from "@playwright/test";
import { docScreenshot, SCREENSHOT_TAG } from "./doc-screenshots";

test("models page: built-in models are listed and the local default model answers a test", {
  tag: SCREENSHOT_TAG,
}, async ({ page }) => {
  test.setTimeout(120_000);
  await page.goto("/");
  const nav = page.getByRole("navigation", { name: "Main" });
  await nav.getByRole("link", { name: "Models" }).click();
  await expect(page).toHaveURL(/\/models$/);
  await expect(page.getByRole("heading", { name: "Models" })).toBeVisible();

  const row = page.locator('tr[data-model="default"]');
  await expect(row).toContainText("local_llamacpp");
  await expect(row.locator(".badge")).toHaveText("default");
  await expect(page.locator('tr[data-model="default-embedding"]')).toContainText("embedding");

  await row.getByRole("button", { name: "Test" }).click();
  const result = page.getByRole("status").filter({ hasText: "latency" });
  await expect(result).toContainText(/ok default · latency \d+ ms · first token \d+ ms/, {
    timeout: 90_000,
  });
  await expect(result).toContainText(/\d+ prompt \+ \d+ completion tokens/);

  await docScreenshot(page, "models-page.png");
});
