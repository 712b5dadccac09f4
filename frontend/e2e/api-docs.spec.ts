import { expect, test } from "@playwright/test";

/**
 * /api/docs works offline: Swagger UI's scripts, styles and icon come from this server
 * (/api/docs/assets), so the page renders with every request to another host blocked.
 */
test("the API docs render with the network outside this server blocked", async ({
  page,
  baseURL,
}) => {
  const origin = new URL(baseURL ?? "http://127.0.0.1").origin;
  const blocked: string[] = [];
  await page.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith("data:") || url.startsWith("blob:") || new URL(url).origin === origin) {
      return route.continue();
    }
    blocked.push(url);
    return route.abort("internetdisconnected");
  });
  const failed: string[] = [];
  page.on("requestfailed", (request) => failed.push(request.url()));

  await page.goto("/api/docs");
  await expect(page.locator(".swagger-ui .info .title")).toContainText("Rivulet API");
  await expect(page.locator(".opblock-tag-section").first()).toBeVisible();
  await expect(page.getByText("/api/health").first()).toBeVisible();
  expect(blocked).toEqual([]);
  expect(failed).toEqual([]);
});
