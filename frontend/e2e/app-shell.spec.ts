import { expect, test } from "@playwright/test";
import { docScreenshot, SCREENSHOT_TAG } from "./doc-screenshots";

test("the API reports a healthy database with pgvector", async ({ request }) => {
  const response = await request.get("/api/health");
  expect(response.status()).toBe(200);
  expect(await response.json()).toMatchObject({ status: "ok", database: "ok" });
});

test("app shell: brand, health pill, flows and the canvas", { tag: SCREENSHOT_TAG }, async ({
  page,
}) => {
  await page.goto("/");
  await expect(page.getByRole("link", { name: "Rivulet home" })).toContainText("Rivulet");

  const pill = page.getByRole("status", { name: /Backend status/ });
  await expect(pill).toHaveAttribute("data-state", "ok");
  await expect(pill).toContainText(/Database ok · pgvector \d+\.\d+/);

  const nav = page.getByRole("navigation", { name: "Main" });
  await nav.getByRole("link", { name: "Flows" }).click();
  await expect(page).toHaveURL(/\/flows$/);
  await expect(nav.getByRole("link", { name: "Flows" })).toHaveAttribute("aria-current", "page");
  await expect(page.getByRole("heading", { name: "No flows yet" })).toBeVisible();
  await expect(page.getByRole("link", { name: "New flow" })).toBeVisible();

  await docScreenshot(page, "app-shell.png");

  await page.getByRole("link", { name: "New flow" }).click();
  await expect(page).toHaveURL(/\/flows\/new$/);
  await expect(page.locator(".react-flow")).toBeVisible();
  await expect(page.locator(".react-flow__minimap")).toBeVisible();
  await expect(page.locator(".react-flow__controls")).toBeVisible();
});

test("the top bar fits: every main link, whole, and the user menu stay on screen at 1280 px", async ({
  page,
}) => {
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto("/flows");
  const logout = page.getByRole("button", { name: "Log out" });
  await expect(logout).toBeVisible();
  const box = await logout.boundingBox();
  expect(box).not.toBeNull();
  expect((box?.x ?? 0) + (box?.width ?? 0)).toBeLessThanOrEqual(1280);
  const nav = page.getByRole("navigation", { name: "Main" });
  // every link shows without scrolling the nav: none is cut off
  expect(await nav.evaluate((el) => el.scrollWidth <= el.clientWidth)).toBe(true);
  for (const name of ["Flows", "Data", "Reports", "Evaluations", "Publishing", "Settings"]) {
    await expect(nav.getByRole("link", { name })).toBeInViewport({ ratio: 1 });
  }
  // the health pill shrinks to its dot but still says what it means
  await expect(page.getByRole("status", { name: /Backend status/ })).toContainText("Database ok");
});

test("deep links load from the server and unknown pages say so", async ({ page }) => {
  await page.goto("/flows/new");
  await expect(page.locator(".react-flow")).toBeVisible();

  await page.goto("/no/such/page");
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
});
