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

test.describe("a user changes their password", () => {
  test.use({ storageState: { cookies: [], origins: [] } });

  test("with the dialog in the top bar, then signs in with the new one", async ({
    page,
    playwright,
    baseURL,
  }) => {
    const admin = await playwright.request.newContext({ baseURL });
    const login = await admin.post("/api/auth/login", {
      data: { username: "admin", password: E2E_ADMIN_PASSWORD, mode: "token" },
    });
    const { token } = (await login.json()) as { token: string };
    const username = `dana-${Date.now()}`;
    const created = await admin.post("/api/users", {
      data: { username, password: "first-password" },
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(created.status()).toBe(201);
    await admin.dispose();

    await page.goto("/login");
    await page.getByLabel("Username").fill(username);
    await page.getByLabel("Password").fill("first-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.locator(".user-menu")).toContainText(username);

    await page.getByRole("button", { name: "Password" }).click();
    const dialog = page.getByRole("dialog", { name: "Change password" });
    await dialog.getByLabel("Current password").fill("first-password");
    await dialog.getByLabel(/^New password/).fill("second-password");
    await dialog.getByLabel("Repeat new password").fill("second-password");
    await dialog.getByRole("button", { name: "Change password" }).click();
    await expect(dialog.getByRole("status")).toContainText("Password changed");
    await dialog.getByRole("button", { name: "Close" }).click();

    await page.getByRole("button", { name: "Log out" }).click();
    await expect(page).toHaveURL(/\/login$/);
    await page.getByLabel("Username").fill(username);
    await page.getByLabel("Password").fill("first-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("alert")).toContainText("wrong username or password");
    await page.getByLabel("Password").fill("second-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.locator(".user-menu")).toContainText(username);
  });
});

test("logged in: the top bar names the user", async ({ page }) => {
  await page.goto("/");
  await expect(page.locator(".user-menu")).toContainText("admin");
});
