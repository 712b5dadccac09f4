import { writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { expect, test } from "@playwright/test";
import { docScreenshot, SCREENSHOT_TAG } from "./doc-screenshots";

/** A report as `chart.report` saves one: a line chart, a bar chart with its table and SQL, a narrative. */
const REPORT = {
  title: "Shop sales, first half of 2026",
  summary: [
    "# Findings",
    "Revenue grew every month, from **12,400** in January to **19,850** in June (+60%).",
    "",
    "- **Lyon** is the largest city with 31% of the revenue.",
    "- Refunds stayed under 2% of orders.",
  ].join("\n"),
  datasource: "shop",
  charts: [
    {
      title: "Revenue by month",
      chart: {
        title: "Revenue by month",
        kind: "line",
        option: {
          title: { text: "Revenue by month", left: "center" },
          tooltip: { trigger: "axis" },
          grid: { left: 16, right: 32, top: 72, bottom: 36, containLabel: true },
          xAxis: {
            type: "category",
            name: "month",
            nameLocation: "middle",
            nameGap: 28,
            boundaryGap: false,
            data: ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"],
          },
          yAxis: { type: "value", name: "revenue" },
          series: [
            {
              name: "revenue",
              type: "line",
              showSymbol: true,
              data: [12400, 13100, 15020, 16400, 18100, 19850],
            },
          ],
        },
      },
      table: {
        columns: ["month", "revenue"],
        rows: [
          ["2026-01", 12400],
          ["2026-02", 13100],
          ["2026-03", 15020],
          ["2026-04", 16400],
          ["2026-05", 18100],
          ["2026-06", 19850],
        ],
        types: ["text", "number"],
      },
      sql: "SELECT strftime('%Y-%m', ordered_at) AS month, SUM(total) AS revenue\nFROM orders GROUP BY month ORDER BY month",
    },
    {
      title: "Revenue by city",
      chart: {
        title: "Revenue by city",
        kind: "bar",
        option: {
          title: { text: "Revenue by city", left: "center" },
          tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
          grid: { left: 16, right: 32, top: 72, bottom: 36, containLabel: true },
          xAxis: {
            type: "category",
            name: "city",
            nameLocation: "middle",
            nameGap: 28,
            data: ["Lyon", "Paris", "Nice", "Lille"],
            axisLabel: { interval: 0, rotate: 0 },
          },
          yAxis: { type: "value", name: "revenue" },
          series: [{ name: "revenue", type: "bar", data: [29400, 25100, 20800, 19670] }],
        },
      },
      table: {
        columns: ["city", "revenue"],
        rows: [
          ["Lyon", 29400],
          ["Paris", 25100],
          ["Nice", 20800],
          ["Lille", 19670],
        ],
        types: ["text", "number"],
      },
      sql: "SELECT c.city, SUM(o.total) AS revenue FROM orders o JOIN customers c ON c.id = o.customer_id GROUP BY c.city",
    },
  ],
};

test("reports: a report made through the API opens with its charts and a share link works without login", {
  tag: SCREENSHOT_TAG,
}, async ({ page, browser, baseURL }) => {
  const created = await page.request.post("/api/reports", { data: REPORT });
  expect(created.status()).toBe(201);
  const report = (await created.json()) as { id: string };

  await page.goto("/");
  await page
    .getByRole("navigation", { name: "Main" })
    .getByRole("link", { name: "Reports" })
    .click();
  await expect(page).toHaveURL(/\/reports$/);
  const list = page.getByRole("table", { name: "Reports" });
  await list.getByRole("link", { name: REPORT.title }).click();
  await expect(page).toHaveURL(new RegExp(`/reports/${report.id}$`));

  await expect(page.getByRole("heading", { level: 1, name: REPORT.title })).toBeVisible();
  await expect(
    page.getByTestId("narrative").getByRole("heading", { name: "Findings" }),
  ).toBeVisible();
  const figures = page.locator("figure.report-figure");
  await expect(figures).toHaveCount(2);
  // echarts draws each chart as an svg (the svg renderer), with the axis labels as text
  await expect(figures.nth(0).locator(".chart-view svg")).toBeVisible();
  await expect(figures.nth(1).locator(".chart-view svg")).toContainText("Lyon");
  await expect(page.getByRole("link", { name: "Export HTML" })).toHaveAttribute(
    "href",
    `/api/reports/${report.id}/export.html`,
  );
  await page.waitForTimeout(1500); // the charts' entry animation
  await docScreenshot(page, "report.png");

  // the exported file is standalone: the charts' options and ECharts itself are in it
  const exported = await page.request.get(`/api/reports/${report.id}/export.html`);
  expect(exported.status()).toBe(200);
  expect(exported.headers()["content-disposition"]).toContain("attachment");
  const html = await exported.text();
  expect(html).toContain("Revenue by city");
  expect(html).toContain("echarts");

  // ... and draws its charts offline: opened from disk with every network request refused
  const offline = await browser.newContext({ storageState: { cookies: [], origins: [] } });
  try {
    await offline.route("**/*", (route) =>
      route.request().url().startsWith("file:") ? route.continue() : route.abort(),
    );
    const file = test.info().outputPath("report.html");
    writeFileSync(file, html);
    const standalone = await offline.newPage();
    const errors: string[] = [];
    standalone.on("pageerror", (error) => errors.push(error.message));
    await standalone.goto(pathToFileURL(file).href);
    await expect(standalone.getByRole("heading", { level: 1, name: REPORT.title })).toBeVisible();
    await expect(standalone.locator("#chart-1 svg")).toBeVisible();
    await expect(standalone.locator("#chart-2 svg")).toContainText("Lyon");
    expect(errors).toEqual([]);
  } finally {
    await offline.close();
  }

  // share: the link opens in a fresh browser context without any login
  await page.getByRole("button", { name: "Share" }).click();
  const dialog = page.getByRole("dialog", { name: "Share report" });
  await dialog.getByRole("button", { name: "Create link" }).click();
  const link = await dialog.getByRole("textbox", { name: "Share link" }).inputValue();
  expect(link).toMatch(/\/r\/rvr_[\w-]+$/);

  const anonymous = await browser.newContext({
    baseURL,
    storageState: { cookies: [], origins: [] },
  });
  try {
    const shared = await anonymous.newPage();
    await shared.goto(link);
    await expect(shared.getByRole("heading", { level: 1, name: REPORT.title })).toBeVisible();
    await expect(shared.locator("figure.report-figure .chart-view svg").first()).toBeVisible();
    await expect(shared.getByRole("navigation", { name: "Main" })).toHaveCount(0);
    expect((await shared.request.get("/api/reports")).status()).toBe(401);

    // revoked: the same link says the report is not available
    await dialog.getByRole("button", { name: "Revoke link" }).click();
    await expect(dialog.getByTestId("share-none")).toBeVisible();
    await shared.reload();
    await expect(shared.getByRole("alert")).toContainText("does not exist or was revoked");
  } finally {
    await anonymous.close();
  }
});
