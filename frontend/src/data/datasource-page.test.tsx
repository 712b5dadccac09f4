import { fireEvent, screen, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { RouterOutlet } from "../routes/router";
import {
  adminMe,
  askFixture,
  datasourceFixture,
  salesChart,
  salesTable,
  schemaFixture,
} from "../test/data-fixture";
import { stubApi } from "../test/knowledge-fixture";
import { renderWithClient } from "../test/render-with-client";
import { DatasourcePage } from "./datasource-page";

const routes = [{ path: "/data/sources/:name", component: DatasourcePage }];
const Missing = () => <p>missing</p>;

function renderSource(name = "shop") {
  window.history.replaceState(null, "", `/data/sources/${name}`);
  return renderWithClient(<RouterOutlet routes={routes} fallback={Missing} />);
}

const base = {
  "GET /api/auth/me": () => adminMe,
  "GET /api/datasources/shop": () => datasourceFixture(),
  "GET /api/datasources/shop/schema": () => schemaFixture,
  "GET /api/models": () => ({ items: [{ name: "default", kind: "chat" }] }),
};

describe("DatasourcePage", () => {
  it("browses the schema: row counts, columns with types, keys, comments and samples; refreshes", async () => {
    const calls = stubApi({ ...base });
    renderSource();
    const tables = await screen.findByRole("list", { name: "Tables" });
    const customers = within(tables).getByRole("button", { name: /customers/ });
    expect(customers).toHaveTextContent("customers40 rows · 2 columns");
    expect(within(tables).getByText("People who ordered")).toBeVisible();
    fireEvent.click(within(tables).getByRole("button", { name: /orders/ }));
    const columns = screen.getByRole("table", { name: "Columns of orders" });
    const fk = columns.querySelector('tr[data-column="customer_id"]') as HTMLElement;
    expect(fk).toHaveTextContent("FK → customers.id");
    expect(columns.querySelector('tr[data-column="id"]')).toHaveTextContent("PK");
    fireEvent.click(customers);
    const people = screen.getByRole("table", { name: "Columns of customers" });
    expect(people.querySelector('tr[data-column="name"]')).toHaveTextContent(
      "nameTEXTFull nameAdaLinus",
    );

    fireEvent.click(screen.getByRole("button", { name: "Refresh schema" }));
    await vi.waitFor(() =>
      expect(calls.some((call) => call.request.url.endsWith("/schema?refresh=true"))).toBe(true),
    );
  });

  it("never shows a password, only that one is set", async () => {
    stubApi({
      ...base,
      "GET /api/datasources/shop": () =>
        datasourceFixture({
          kind: "postgres",
          dialect: "postgres",
          config: { host: "db", port: 5432, database: "shop", user: "reader" },
          has_password: true,
        }),
    });
    renderSource();
    expect(await screen.findByText("password set")).toBeVisible();
    expect(screen.getByText("db:5432/shop")).toBeVisible();
  });

  it("runs SQL and shows the rows with the server's chart", async () => {
    const calls = stubApi({
      ...base,
      "POST /api/datasources/shop/query": () => ({ table: salesTable, chart: salesChart }),
    });
    renderSource();
    const playground = await screen.findByRole("form", { name: "Run SQL" });
    fireEvent.change(within(playground).getByLabelText(/^SQL/), {
      target: { value: "SELECT region, total FROM sales" },
    });
    fireEvent.click(within(playground).getByRole("button", { name: "Run" }));
    const result = await screen.findByRole("region", { name: "Query result" });
    expect(within(result).getByTestId("table-view")).toHaveTextContent("north120.5");
    expect(within(result).getByRole("status")).toHaveTextContent("2 rows");
    expect(within(result).getByTestId("chart-view")).toBeInTheDocument();
    expect(calls.find((call) => call.method === "POST")?.body).toEqual({
      sql: "SELECT region, total FROM sales",
      max_rows: 200,
      timeout_s: 30,
    });
  });

  it("draws no chart when the server recommends none", async () => {
    stubApi({
      ...base,
      "POST /api/datasources/shop/query": () => ({ table: salesTable, chart: null }),
    });
    renderSource();
    const playground = await screen.findByRole("form", { name: "Run SQL" });
    fireEvent.change(within(playground).getByLabelText(/^SQL/), {
      target: { value: "SELECT region, total FROM sales" },
    });
    fireEvent.click(within(playground).getByRole("button", { name: "Run" }));
    const result = await screen.findByRole("region", { name: "Query result" });
    expect(within(result).getByTestId("table-view")).toHaveTextContent("north120.5");
    expect(within(result).queryByTestId("chart-view")).toBeNull();
  });

  it("shows a guard refusal with its rule and reason", async () => {
    stubApi({
      ...base,
      "POST /api/datasources/shop/query": () =>
        new Response(
          JSON.stringify({
            code: "sql_refused",
            detail: "SQL refused (write): DROP is not a read-only statement",
            rule: "write",
            reason: "DROP is not a read-only statement",
            dialect: "sqlite",
          }),
          { status: 422 },
        ),
    });
    renderSource();
    const playground = await screen.findByRole("form", { name: "Run SQL" });
    fireEvent.change(within(playground).getByLabelText(/^SQL/), {
      target: { value: "DROP TABLE customers" },
    });
    fireEvent.click(within(playground).getByRole("button", { name: "Run" }));
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent(
      "Refused by the SQL guard (rule write): DROP is not a read-only statement",
    );
    expect(alert).toHaveAttribute("data-rule", "write");
  });

  it("shows a database failure with its detail", async () => {
    stubApi({
      ...base,
      "POST /api/datasources/shop/query": () =>
        new Response(
          JSON.stringify({
            code: "datasource_error",
            detail: "shop: the query ran past 30 s",
            reason: "timeout",
          }),
          { status: 502 },
        ),
    });
    renderSource();
    const playground = await screen.findByRole("form", { name: "Run SQL" });
    fireEvent.change(within(playground).getByLabelText(/^SQL/), {
      target: { value: "SELECT * FROM orders" },
    });
    fireEvent.click(within(playground).getByRole("button", { name: "Run" }));
    expect(await screen.findByRole("alert")).toHaveTextContent(
      "The query failed: shop: the query ran past 30 s",
    );
  });

  it("asks in words: the SQL, its repairs, the rows and the chart", async () => {
    const calls = stubApi({
      ...base,
      "POST /api/datasources/shop/ask": () => askFixture(),
    });
    renderSource();
    const form = await screen.findByRole("form", { name: "Ask the data source" });
    fireEvent.change(within(form).getByLabelText("Question"), {
      target: { value: "Total per region?" },
    });
    fireEvent.click(within(form).getByRole("button", { name: "Ask" }));
    expect(await screen.findByLabelText("Generated SQL")).toHaveTextContent("GROUP BY region");
    expect(screen.getByText(/SQL \(1 repaired\)/)).toBeInTheDocument();
    const attempts = screen.getByRole("list", { name: "Attempts" });
    expect(attempts).toHaveTextContent("first answer · failed at guard");
    expect(attempts).toHaveTextContent("no such column: regio");
    const answer = screen.getByRole("region", { name: "Answer" });
    expect(within(answer).getByTestId("table-view")).toHaveTextContent("south80");
    expect(within(answer).getByTestId("chart-view")).toBeInTheDocument();
    expect(calls.find((call) => call.path.endsWith("/ask"))?.body).toEqual({
      question: "Total per region?",
      model: "default",
      max_repairs: 2,
      max_rows: 1000,
      history: [],
    });
    // a follow-up is sent with the earlier question and its SQL, until a new conversation
    fireEvent.change(within(form).getByLabelText("Question"), {
      target: { value: "Only the north?" },
    });
    fireEvent.click(within(form).getByRole("button", { name: "Ask" }));
    await vi.waitFor(() =>
      expect(calls.filter((call) => call.path.endsWith("/ask"))).toHaveLength(2),
    );
    expect(calls.filter((call) => call.path.endsWith("/ask"))[1]?.body).toMatchObject({
      question: "Only the north?",
      history: [
        {
          question: "Total per region?",
          sql: "SELECT region, SUM(total) AS total FROM orders GROUP BY region LIMIT 1001",
        },
      ],
    });
    const context = await screen.findByRole("status", { name: "Conversation" });
    await vi.waitFor(() => expect(context).toHaveTextContent("last 2 questions"));
    fireEvent.click(within(context).getByRole("button", { name: "New conversation" }));
    expect(screen.queryByRole("status", { name: "Conversation" })).toBeNull();
    fireEvent.click(within(form).getByRole("button", { name: "Ask" }));
    await vi.waitFor(() =>
      expect(calls.filter((call) => call.path.endsWith("/ask"))).toHaveLength(3),
    );
    expect(calls.filter((call) => call.path.endsWith("/ask"))[2]?.body).toMatchObject({
      history: [],
    });
  });

  it("says why a question found no answer", async () => {
    stubApi({
      ...base,
      "POST /api/datasources/shop/ask": () =>
        askFixture({ ok: false, table: null, error: "no such table: sales" }),
    });
    renderSource();
    const form = await screen.findByRole("form", { name: "Ask the data source" });
    fireEvent.change(within(form).getByLabelText("Question"), { target: { value: "Sales?" } });
    fireEvent.click(within(form).getByRole("button", { name: "Ask" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("No answer: no such table: sales");
  });
});
