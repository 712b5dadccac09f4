import { fireEvent, screen, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { adminMe, datasourceFixture, editorMe } from "../test/data-fixture";
import { stubApi } from "../test/knowledge-fixture";
import { renderWithClient } from "../test/render-with-client";
import { DataPage } from "./data-page";

const pg = datasourceFixture({
  id: "ds2",
  name: "sales",
  kind: "postgres",
  dialect: "postgres",
  config: { host: "db.internal", port: 5432, database: "sales", user: "reader" },
  has_password: true,
  owner_id: null,
  table_count: 12,
});

describe("DataPage", () => {
  it("lists data sources with kind, dialect, tables, refresh and owner; tests one", async () => {
    const calls = stubApi({
      "GET /api/auth/me": () => adminMe,
      "GET /api/datasources": () => ({ items: [datasourceFixture(), pg] }),
      "POST /api/datasources/sales/test": () => ({
        ok: true,
        latency_ms: 3.4,
        server: "PostgreSQL 16.4",
        tables: 12,
      }),
    });
    renderWithClient(<DataPage />);
    const table = await screen.findByRole("table", { name: "Data sources" });
    const row = table.querySelector('tr[data-datasource="sales"]') as HTMLElement;
    expect(
      within(row)
        .getAllByRole("cell")
        .slice(0, 6)
        .map((cell) => cell.textContent),
    ).toEqual(["salesdb.internal:5432/sales", "postgres", "postgres", "12", "never", "admins"]);
    expect(row.textContent).not.toContain("password");
    expect(within(row).getByRole("link", { name: "sales" })).toHaveAttribute(
      "href",
      "/data/sources/sales",
    );
    fireEvent.click(within(row).getByRole("button", { name: "Test sales" }));
    expect(await within(row).findByRole("status")).toHaveTextContent(
      "ok · latency 3 ms · PostgreSQL 16.4 · 12 tables",
    );
    expect(calls.map((call) => `${call.method} ${call.path}`)).toContain(
      "POST /api/datasources/sales/test",
    );
  });

  it("shows a failed test's error", async () => {
    stubApi({
      "GET /api/auth/me": () => adminMe,
      "GET /api/datasources": () => ({ items: [pg] }),
      "POST /api/datasources/sales/test": () => ({ ok: false, error: "connection refused" }),
    });
    renderWithClient(<DataPage />);
    fireEvent.click(await screen.findByRole("button", { name: "Test sales" }));
    expect(await screen.findByRole("status")).toHaveTextContent("failed: connection refused");
  });

  it("offers adding and deleting to admins only; deletes after a confirmation", async () => {
    const calls = stubApi({
      "GET /api/auth/me": () => adminMe,
      "GET /api/datasources": () => ({ items: [pg] }),
      "DELETE /api/datasources/sales": () => undefined,
    });
    renderWithClient(<DataPage />);
    expect(await screen.findByRole("button", { name: "Add data source" })).toBeVisible();
    fireEvent.click(await screen.findByRole("button", { name: "Delete sales" }));
    fireEvent.click(screen.getByRole("button", { name: "Delete sales" }));
    await vi.waitFor(() => expect(calls.some((call) => call.method === "DELETE")).toBe(true));
  });

  it("lets an editor delete only what they own", async () => {
    stubApi({
      "GET /api/auth/me": () => editorMe,
      "GET /api/datasources": () => ({
        items: [pg, datasourceFixture({ id: "x", name: "mine", kind: "file", owner_id: "u-ed" })],
      }),
    });
    renderWithClient(<DataPage />);
    expect(await screen.findByRole("button", { name: "Delete mine" })).toBeVisible();
    expect(screen.queryByRole("button", { name: "Delete sales" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Test sales" })).toBeNull();
    expect(screen.getByRole("button", { name: "Test mine" })).toBeVisible();
    expect(screen.queryByRole("button", { name: "Add data source" })).toBeNull();
    expect(screen.getByRole("link", { name: "Chat with a spreadsheet" })).toHaveAttribute(
      "href",
      "/data/chat",
    );
  });

  it("says so when there is no data source", async () => {
    stubApi({
      "GET /api/auth/me": () => adminMe,
      "GET /api/datasources": () => ({ items: [] }),
    });
    renderWithClient(<DataPage />);
    expect(await screen.findByRole("heading", { name: "No data sources yet" })).toBeVisible();
  });
});
