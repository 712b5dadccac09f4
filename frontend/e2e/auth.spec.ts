import { expect, test } from "@playwright/test";
import { E2E_ADMIN_PASSWORD } from "../playwright.config";

test.describe("logged out", () => {
  test.use({ storageState: { cookies: [], origins: [] } });

  test("the API refuses anonymous calls and pages redirect to the login", async ({
    page,
    request,
  }) => {
    expect((await request.get("/api/flows")).status()).toBe(401);
    await page.goto("/runs");
    await expect(page).toHaveURL(/\/login\?next=%2Fruns$/);
    await page.getByLabel("Password").fill("wrong password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("alert")).toContainText("wrong username or password");
    await page.getByLabel("Password").fill(E2E_ADMIN_PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page).toHaveURL(/\/runs$/);
    await expect(page.getByRole("heading", { level: 1, name: "Runs" })).toBeVisible();

    await page.getByRole("button", { name: "Log out" }).click();
    await expect(page).toHaveURL(/\/login$/);
    await page.goto("/flows");
    await expect(page).toHaveURL(/\/login\?next=%2Fflows$/);
  });
});

test("logged in: the top bar names the user", async ({ page }) => {
  await page.goto("/");
  await expect(page.locator(".user-menu")).toContainText("admin");
});
