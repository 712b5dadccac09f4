import { fireEvent, screen, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { RouterOutlet } from "../routes/router";
import { adminMe, datasourceFixture, editorMe, schemaFixture } from "../test/data-fixture";
import { stubApi } from "../test/knowledge-fixture";
import { renderWithClient } from "../test/render-with-client";
import { updateOf, valuesOf } from "./datasource-edit-dialog";
import { DatasourcePage } from "./datasource-page";

const routes = [{ path: "/data/sources/:name", component: DatasourcePage }];
const Missing = () => <p>missing</p>;

const pg = datasourceFixture({
  name: "crm",
  kind: "postgres",
  dialect: "postgres",
  description: "CRM",
  config: { host: "db", port: 5432, database: "crm", user: "reader" },
  has_password: true,
  examples: 1,
  example_pairs: [{ question: "How many customers?", sql: "SELECT count(*) FROM customers" }],
});

function renderCrm(me: unknown = adminMe, onPatch?: (body: unknown) => unknown) {
  const calls = stubApi({
    "GET /api/auth/me": () => me,
    "GET /api/datasources/crm": () => pg,
    "GET /api/datasources/crm/schema": () => ({ ...schemaFixture, datasource: "crm" }),
    "GET /api/models": () => ({ items: [] }),
    "PATCH /api/datasources/crm": ({ body }) => (onPatch ? onPatch(body) : pg),
  });
  window.history.replaceState(null, "", "/data/sources/crm");
  renderWithClient(<RouterOutlet routes={routes} fallback={Missing} />);
  return calls;
}

describe("DatasourceEditDialog", () => {
  it("sends only what changed: description, a new password, examples as question/SQL pairs", async () => {
    const calls = renderCrm();
    fireEvent.click(await screen.findByRole("button", { name: "Edit" }));
    const dialog = screen.getByRole("dialog", { name: "Edit crm" });
    expect(within(dialog).getByLabelText(/^Host/)).toHaveValue("db");
    expect(within(dialog).getByLabelText(/^New password/)).toHaveValue("");
    expect(within(dialog).getByLabelText(/^Question 1/)).toHaveValue("How many customers?");
    const save = within(dialog).getByRole("button", { name: "Save" });
    expect(save).toBeDisabled(); // nothing changed yet

    fireEvent.change(within(dialog).getByLabelText(/^Description/), {
      target: { value: "Customers and orders" },
    });
    fireEvent.change(within(dialog).getByLabelText(/^New password/), {
      target: { value: "s3cret" },
    });
    fireEvent.click(within(dialog).getByRole("button", { name: "Add example" }));
    fireEvent.change(within(dialog).getByLabelText(/^Question 2/), {
      target: { value: " Orders per city? " },
    });
    fireEvent.change(within(dialog).getByLabelText(/^SQL 2/), {
      target: { value: "SELECT city, count(*) FROM orders GROUP BY city" },
    });
    fireEvent.click(within(dialog).getByRole("button", { name: "Add example" })); // left blank
    fireEvent.click(save);

    await vi.waitFor(() =>
      expect(screen.queryByRole("dialog", { name: "Edit crm" })).not.toBeInTheDocument(),
    );
    const patch = calls.find((call) => call.method === "PATCH");
    expect(patch?.body).toEqual({
      description: "Customers and orders",
      password: "s3cret",
      examples: [
        { question: "How many customers?", sql: "SELECT count(*) FROM customers" },
        { question: "Orders per city?", sql: "SELECT city, count(*) FROM orders GROUP BY city" },
      ],
    });
  });

  it("removes an example and keeps the password when the field stays empty", async () => {
    const calls = renderCrm();
    fireEvent.click(await screen.findByRole("button", { name: "Edit" }));
    const dialog = screen.getByRole("dialog", { name: "Edit crm" });
    fireEvent.click(within(dialog).getByRole("button", { name: "Remove example 1" }));
    fireEvent.change(within(dialog).getByLabelText(/^Port/), { target: { value: "6432" } });
    fireEvent.click(within(dialog).getByRole("button", { name: "Save" }));
    await vi.waitFor(() => expect(calls.some((call) => call.method === "PATCH")).toBe(true));
    expect(calls.find((call) => call.method === "PATCH")?.body).toEqual({
      port: 6432,
      examples: [],
    });
  });

  it("shows the server's refusal and stays open", async () => {
    renderCrm(
      adminMe,
      () => new Response(JSON.stringify({ detail: "$.host: a host is required" }), { status: 400 }),
    );
    fireEvent.click(await screen.findByRole("button", { name: "Edit" }));
    const dialog = screen.getByRole("dialog", { name: "Edit crm" });
    fireEvent.change(within(dialog).getByLabelText(/^Host/), { target: { value: "elsewhere" } });
    fireEvent.click(within(dialog).getByRole("button", { name: "Save" }));
    expect(await within(dialog).findByRole("alert")).toHaveTextContent(
      "Saving crm failed: $.host: a host is required",
    );
  });

  it("is for administrators only", async () => {
    renderCrm(editorMe);
    expect(await screen.findByRole("heading", { name: "crm" })).toBeVisible();
    expect(screen.queryByRole("button", { name: "Edit" })).toBeNull();
  });

  it("edits a file database's path and never sends connection fields it does not have", () => {
    const lite = datasourceFixture({ example_pairs: [] });
    expect(updateOf(lite, valuesOf(lite))).toEqual({});
    expect(updateOf(lite, { ...valuesOf(lite), path: "/data/other.sqlite", host: "x" })).toEqual({
      path: "/data/other.sqlite",
    });
  });
});
