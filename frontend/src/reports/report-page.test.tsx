import { act, fireEvent, render, screen, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import type { Report } from "../api/reports";
import { OutputView } from "../editor/output-view";
import { RouterOutlet } from "../routes/router";
import { stubApi } from "../test/knowledge-fixture";
import { renderWithClient } from "../test/render-with-client";
import { narrativeBlocks } from "./narrative";
import { ReportPage } from "./report-page";
import { ReportsPage } from "./reports-page";
import { SharedReportPage } from "./shared-report-page";

const HOSTILE = "</script><script>alert(1)</script>";

const report: Report = {
  id: "rep1",
  title: "Sales by region",
  summary: "# Findings\nNorth leads with **270.5**.\n\n- south lags\n- `east` is missing",
  charts: [
    {
      title: "Revenue by region",
      chart: {
        title: "Revenue by region",
        kind: "bar",
        option: {
          xAxis: { type: "category", data: ["north", "south"] },
          series: [{ type: "bar", data: [270.5, 80] }],
        },
      },
      table: {
        columns: ["region", "revenue"],
        rows: [
          ["north", 270.5],
          ["south", 80],
        ],
        types: [],
        truncated: false,
      },
      sql: "SELECT region, SUM(total) FROM orders GROUP BY region",
    },
    {
      title: "Customers",
      chart: {
        title: "Customers",
        kind: "table",
        option: { dataset: { dimensions: ["name"], source: [[HOSTILE]] } },
      },
    },
  ],
  datasource: "shop",
  flow_id: "f1",
  run_id: "r1",
  owner_id: "u1",
  workspace_id: null,
  shared: false,
  created_at: "2026-12-06T10:00:00Z",
  updated_at: "2026-12-06T10:00:00Z",
};

const routes = [
  { path: "/reports", component: ReportsPage },
  { path: "/reports/:reportId", component: ReportPage },
];
const Missing = () => <p>missing</p>;

function open(path: string) {
  window.history.replaceState(null, "", path);
  return renderWithClient(<RouterOutlet routes={routes} fallback={Missing} />);
}

describe("narrativeBlocks", () => {
  it("splits paragraphs, bullets and headings like the HTML export", () => {
    expect(
      narrativeBlocks(
        "# Findings\nRevenue grew\nby **12%**.\n\n- north leads\n- south\n  lags\n\n1. first\n2) second\nafter",
      ),
    ).toEqual([
      { kind: "h", text: "Findings" },
      { kind: "p", text: "Revenue grew by **12%**." },
      { kind: "ul", items: ["north leads", "south lags"] },
      { kind: "ul", items: ["first", "second after"] },
    ]);
  });
});

describe("OutputView of charts", () => {
  it("shows a table chart (nothing to plot) as its rows, and a number card as a chart", () => {
    const table = {
      title: "T",
      kind: "table",
      option: { dataset: { dimensions: ["name"], source: [["Ada"]] }, series: [] },
    };
    const { rerender } = render(<OutputView value={table} type="ChartSpec" />);
    expect(screen.getByTestId("table-view")).toHaveTextContent("nameAda");
    rerender(
      <OutputView
        value={{ title: "n", kind: "number", option: { series: [] } }}
        type="ChartSpec"
      />,
    );
    expect(screen.getByTestId("chart-view")).toBeInTheDocument();
  });
});

describe("ReportsPage", () => {
  it("lists the reports with their charts and links to each", async () => {
    stubApi({
      "GET /api/reports": () => ({
        items: [
          {
            id: "rep1",
            title: "Sales by region",
            summary: "North leads.",
            chart_count: 2,
            kinds: ["bar", "table"],
            datasource: "shop",
            flow_id: null,
            run_id: null,
            owner_id: "u1",
            shared: true,
            created_at: "2026-12-06T10:00:00Z",
            updated_at: "2026-12-06T10:00:00Z",
          },
        ],
      }),
    });
    open("/reports");
    const table = await screen.findByRole("table", { name: "Reports" });
    const link = within(table).getByRole("link", { name: "Sales by region" });
    expect(link).toHaveAttribute("href", "/reports/rep1");
    expect(within(table).getByText("(bar, table)")).toBeVisible();
    expect(within(table).getByText("link live")).toBeVisible();
  });

  it("says how reports are made when there is none", async () => {
    stubApi({ "GET /api/reports": () => ({ items: [] }) });
    open("/reports");
    expect(await screen.findByText("No reports yet")).toBeVisible();
  });
});

describe("ReportPage", () => {
  it("shows the narrative, a chart per figure, tables, SQL and the export link", async () => {
    stubApi({ "GET /api/reports/rep1": () => report });
    open("/reports/rep1");
    expect(await screen.findByRole("heading", { level: 1, name: "Sales by region" })).toBeVisible();
    const narrative = screen.getByTestId("narrative");
    expect(within(narrative).getByRole("heading", { level: 3, name: "Findings" })).toBeVisible();
    expect(within(narrative).getByText("270.5").tagName).toBe("STRONG");
    expect(within(narrative).getByText("east").tagName).toBe("CODE");
    expect(within(narrative).getAllByRole("listitem")).toHaveLength(2);

    const figures = document.querySelectorAll("figure");
    expect([...figures].map((figure) => figure.dataset.kind)).toEqual(["bar", "table"]);
    expect(within(figures[0] as HTMLElement).getByTestId("chart-view")).toBeInTheDocument();
    expect(within(figures[0] as HTMLElement).getByText("Data (2 rows)")).toBeInTheDocument();
    expect(within(figures[0] as HTMLElement).getByText(/SELECT region/)).toBeInTheDocument();
    // a table chart is a table; a hostile text stays text
    const customers = within(figures[1] as HTMLElement).getByTestId("table-view");
    expect(customers).toHaveTextContent(HOSTILE);
    expect(document.querySelectorAll("script")).toHaveLength(0);

    expect(screen.getByRole("link", { name: "Export HTML" })).toHaveAttribute(
      "href",
      "/api/reports/rep1/export.html",
    );
    expect(screen.getByRole("link", { name: "open the flow" })).toHaveAttribute(
      "href",
      "/flows/f1",
    );
  });

  it("creates a share link to copy, and revokes it", async () => {
    const calls = stubApi({
      "GET /api/reports/rep1": () => report,
      "POST /api/reports/rep1/share": () => ({
        token: "rvr_abc",
        url: "/r/rvr_abc",
        api_url: "/api/reports/shared/rvr_abc",
      }),
      "DELETE /api/reports/rep1/share": () => undefined,
    });
    const writeText = vi.fn(async () => undefined);
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    open("/reports/rep1");
    fireEvent.click(await screen.findByRole("button", { name: "Share" }));
    const dialog = screen.getByRole("dialog", { name: "Share report" });
    expect(within(dialog).getByTestId("share-none")).toBeVisible();
    fireEvent.click(within(dialog).getByRole("button", { name: "Create link" }));
    const input = await within(dialog).findByRole("textbox", { name: "Share link" });
    expect(input).toHaveValue(`${window.location.origin}/r/rvr_abc`);
    await act(async () => {
      fireEvent.click(within(dialog).getByRole("button", { name: "Copy" }));
    });
    expect(writeText).toHaveBeenCalledWith(`${window.location.origin}/r/rvr_abc`);
    expect(within(dialog).getByRole("button", { name: "Copied" })).toBeVisible();

    fireEvent.click(within(dialog).getByRole("button", { name: "Revoke link" }));
    expect(await within(dialog).findByTestId("share-none")).toBeVisible();
    expect(calls.map((call) => `${call.method} ${call.path}`)).toContain(
      "DELETE /api/reports/rep1/share",
    );
  });

  it("deletes after a confirmation and goes back to the list", async () => {
    const calls = stubApi({
      "GET /api/reports/rep1": () => report,
      "DELETE /api/reports/rep1": () => undefined,
      "GET /api/reports": () => ({ items: [] }),
    });
    open("/reports/rep1");
    fireEvent.click(await screen.findByRole("button", { name: "Delete" }));
    fireEvent.click(screen.getByRole("button", { name: "Delete this report" }));
    expect(await screen.findByText("No reports yet")).toBeVisible();
    expect(
      calls.some((call) => call.method === "DELETE" && call.path === "/api/reports/rep1"),
    ).toBe(true);
  });
});

describe("SharedReportPage", () => {
  it("shows a shared report without the app shell", async () => {
    stubApi({ "GET /api/reports/shared/rvr_abc": () => ({ ...report, charts: report.charts }) });
    window.history.replaceState(null, "", "/r/rvr_abc");
    renderWithClient(<SharedReportPage />);
    expect(await screen.findByRole("heading", { level: 1, name: "Sales by region" })).toBeVisible();
    expect(screen.getByTestId("chart-view")).toBeInTheDocument();
    expect(screen.queryByRole("navigation", { name: "Main" })).toBeNull();
  });

  it("says so when the link was revoked", async () => {
    stubApi({});
    window.history.replaceState(null, "", "/r/rvr_gone");
    renderWithClient(<SharedReportPage />);
    expect(await screen.findByRole("alert")).toHaveTextContent(
      "The link does not exist or was revoked",
    );
  });
});
