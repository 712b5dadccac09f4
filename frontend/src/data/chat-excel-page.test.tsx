import { fireEvent, screen, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { adminMe, askFixture, datasourceFixture } from "../test/data-fixture";
import { stubApi } from "../test/knowledge-fixture";
import { renderWithClient } from "../test/render-with-client";
import { ChatExcelPage } from "./chat-excel-page";

const uploaded = datasourceFixture({
  id: "ds9",
  name: "sales-xlsx",
  kind: "file",
  dialect: "duckdb",
  owner_id: "u-admin",
});

describe("ChatExcelPage", () => {
  it("uploads a spreadsheet, then answers questions with SQL, rows and a chart", async () => {
    const append = vi.spyOn(FormData.prototype, "append");
    const calls = stubApi({
      "GET /api/auth/me": () => adminMe,
      "GET /api/models": () => ({
        items: [
          { name: "default", kind: "chat" },
          { name: "scripted", kind: "chat" },
          { name: "default-embedding", kind: "embedding" },
        ],
      }),
      "POST /api/datasources/uploads": () => uploaded,
      "GET /api/datasources/sales-xlsx/schema": () => ({
        datasource: "sales-xlsx",
        dialect: "duckdb",
        tables: [{ name: "orders", row_count: 4, columns: [] }],
      }),
      "POST /api/datasources/sales-xlsx/ask": ({ body }) =>
        askFixture({ question: (body as { question: string }).question, attempts: [] }),
    });
    renderWithClient(<ChatExcelPage />);
    const file = new File(["x"], "sales.xlsx");
    fireEvent.change(screen.getByLabelText("Choose a spreadsheet"), { target: { files: [file] } });
    const tables = await screen.findByRole("status", { name: "Uploaded tables" });
    await vi.waitFor(() => expect(tables).toHaveTextContent("sales-xlsx: orders (4 rows)"));
    const form = screen.getByRole("form", { name: "Ask the spreadsheet" });
    const model = within(form).getByLabelText("Model");
    await vi.waitFor(() => expect(within(model).getAllByRole("option")).toHaveLength(2));
    fireEvent.change(model, { target: { value: "scripted" } });
    fireEvent.change(within(form).getByLabelText("Question"), {
      target: { value: "Total per region?" },
    });
    fireEvent.click(within(form).getByRole("button", { name: "Ask" }));
    const turn = await screen.findByRole("listitem", { name: "Total per region?" });
    const answer = await within(turn).findByRole("region", {
      name: "Answer to Total per region?",
    });
    expect(within(answer).getByTestId("table-view")).toHaveTextContent("north");
    expect(within(answer).getByTestId("chart-view")).toBeInTheDocument();
    expect(within(turn).getByLabelText("Generated SQL")).toHaveTextContent("SELECT region");
    expect(calls.find((call) => call.path.endsWith("/ask"))?.body).toEqual({
      question: "Total per region?",
      model: "scripted",
      max_repairs: 2,
      max_rows: 1000,
      history: [],
    });
    // a follow-up carries the earlier turn: its question and the SQL that answered it
    fireEvent.change(within(form).getByLabelText("Question"), {
      target: { value: "Only the north?" },
    });
    fireEvent.click(within(form).getByRole("button", { name: "Ask" }));
    await screen.findByRole("region", { name: "Answer to Only the north?" });
    const asks = calls.filter((call) => call.path.endsWith("/ask"));
    expect(asks).toHaveLength(2);
    expect(asks[1]?.body).toMatchObject({
      question: "Only the north?",
      history: [
        {
          question: "Total per region?",
          sql: "SELECT region, SUM(total) AS total FROM orders GROUP BY region LIMIT 1001",
        },
      ],
    });
    const form2 = calls.find((call) => call.path.endsWith("/uploads"))?.body as FormData;
    expect(form2.has("files")).toBe(true);
    expect(append.mock.calls.find((call) => call[0] === "files")?.[2]).toBe("sales.xlsx");
    expect(form2.get("name")).toBeNull();
  });

  it("takes a dropped file and adds the next one to the same data source", async () => {
    const calls = stubApi({
      "GET /api/auth/me": () => adminMe,
      "GET /api/models": () => ({ items: [] }),
      "POST /api/datasources/uploads": () => uploaded,
      "GET /api/datasources/sales-xlsx/schema": () => ({
        datasource: "sales-xlsx",
        dialect: "duckdb",
        tables: [],
      }),
    });
    renderWithClient(<ChatExcelPage />);
    const zone = screen.getByRole("region", { name: "Drop a spreadsheet" });
    fireEvent.dragOver(zone, { dataTransfer: { files: [], dropEffect: "none" } });
    expect(zone).toHaveClass("upload-zone--over");
    fireEvent.drop(zone, { dataTransfer: { files: [new File(["a,b\n1,2\n"], "sales.csv")] } });
    expect(await screen.findByText("Drop another file to add it")).toBeVisible();
    fireEvent.drop(zone, { dataTransfer: { files: [new File(["c\n3\n"], "more.csv")] } });
    await vi.waitFor(() =>
      expect(calls.filter((call) => call.path === "/api/datasources/uploads")).toHaveLength(2),
    );
    const second = calls.filter((call) => call.path === "/api/datasources/uploads")[1];
    expect((second?.body as FormData | undefined)?.get("name")).toBe("sales-xlsx");
  });

  it("shows an upload's refusal", async () => {
    stubApi({
      "GET /api/auth/me": () => adminMe,
      "POST /api/datasources/uploads": () =>
        new Response(JSON.stringify({ detail: "sales.exe: not a spreadsheet" }), {
          status: 422,
        }),
    });
    renderWithClient(<ChatExcelPage />);
    fireEvent.change(screen.getByLabelText("Choose a spreadsheet"), {
      target: { files: [new File(["x"], "sales.exe")] },
    });
    expect(await screen.findByRole("alert")).toHaveTextContent(
      "Uploading failed: sales.exe: not a spreadsheet",
    );
    expect(screen.queryByRole("form", { name: "Ask the spreadsheet" })).toBeNull();
  });
});
