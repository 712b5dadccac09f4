import { mkdirSync } from "node:fs";
import path from "node:path";
import { expect, test as setup } from "@playwright/test";
import { E2E_ADMIN_PASSWORD, E2E_ADMIN_USER, STORAGE_STATE } from "../playwright.config";

/** Log in through the login page once; every chromium test reuses the saved session cookie. */
setup("log in as the administrator", async ({ page }) => {
  await page.goto("/");
  await expect(page).toHaveURL(/\/login\?next=%2F$/);
  await page.getByLabel("Username").fill(E2E_ADMIN_USER);
  await page.getByLabel("Password").fill(E2E_ADMIN_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("link", { name: "Rivulet home" })).toBeVisible();
  mkdirSync(path.dirname(STORAGE_STATE), { recursive: true });
  await page.context().storageState({ path: STORAGE_STATE });
});
