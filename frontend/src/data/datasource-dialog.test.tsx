import { fireEvent, screen, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { adminMe, datasourceFixture } from "../test/data-fixture";
import { stubApi } from "../test/knowledge-fixture";
import { renderWithClient } from "../test/render-with-client";
import { DataPage } from "./data-page";
import { specOf } from "./datasource-dialog";

const blank = {
  name: "s",
  description: "",
  host: "h",
  port: "",
  database: "d",
  user: "u",
  password: "",
  path: "/p.db",
};

describe("DatasourceDialog", () => {
  it("sends only the fields of the kind; the password only when typed; default ports", () => {
    expect(specOf("mysql", blank)).toEqual({
      name: "s",
      kind: "mysql",
      description: "",
      host: "h",
      port: 3306,
      database: "d",
      user: "u",
    });
    expect(specOf("postgres", { ...blank, port: "6543", password: "pw" })).toMatchObject({
      port: 6543,
      password: "pw",
    });
    expect(specOf("duckdb", blank)).toEqual({
      name: "s",
      kind: "duckdb",
      description: "",
      path: "/p.db",
    });
  });

  it("changes its fields with the kind and adds a sqlite source", async () => {
    const calls = stubApi({
      "GET /api/auth/me": () => adminMe,
      "GET /api/datasources": () => ({ items: [] }),
      "POST /api/datasources": ({ body }) => datasourceFixture(body as object),
    });
    renderWithClient(<DataPage />);
    fireEvent.click(await screen.findByRole("button", { name: "Add data source" }));
    const dialog = screen.getByRole("dialog", { name: "New data source" });
    expect(within(dialog).getByLabelText(/Password/)).toHaveAttribute("type", "password");
    expect(within(dialog).queryByLabelText(/^Path/)).toBeNull();
    fireEvent.change(within(dialog).getByLabelText("Kind"), { target: { value: "sqlite" } });
    expect(within(dialog).queryByLabelText(/Password/)).toBeNull();
    expect(within(dialog).queryByLabelText("Host")).toBeNull();
    fireEvent.change(within(dialog).getByLabelText(/^Name/), { target: { value: "shop2" } });
    fireEvent.change(within(dialog).getByLabelText(/^Path/), {
      target: { value: "/data/shop.sqlite" },
    });
    fireEvent.click(within(dialog).getByRole("button", { name: "Add data source" }));
    await vi.waitFor(() => expect(window.location.pathname).toBe("/data/sources/shop2"));
    expect(calls.find((call) => call.method === "POST")?.body).toEqual({
      name: "shop2",
      kind: "sqlite",
      description: "",
      path: "/data/shop.sqlite",
    });
  });

  it("uploads files for a file source under the name given", async () => {
    const append = vi.spyOn(FormData.prototype, "append");
    const calls = stubApi({
      "GET /api/auth/me": () => adminMe,
      "GET /api/datasources": () => ({ items: [] }),
      "POST /api/datasources/uploads": () =>
        datasourceFixture({ name: "sales", kind: "file", dialect: "duckdb" }),
    });
    renderWithClient(<DataPage />);
    fireEvent.click(await screen.findByRole("button", { name: "Add data source" }));
    const dialog = screen.getByRole("dialog", { name: "New data source" });
    fireEvent.change(within(dialog).getByLabelText("Kind"), { target: { value: "file" } });
    fireEvent.change(within(dialog).getByLabelText(/^Name/), { target: { value: "sales" } });
    const file = new File(["region,total\nnorth,1\n"], "sales.csv", { type: "text/csv" });
    fireEvent.change(within(dialog).getByLabelText(/^Files/), { target: { files: [file] } });
    fireEvent.click(within(dialog).getByRole("button", { name: "Add data source" }));
    await vi.waitFor(() => expect(window.location.pathname).toBe("/data/sources/sales"));
    const form = calls.find((call) => call.method === "POST")?.body as FormData;
    expect(form.get("name")).toBe("sales");
    expect(append.mock.calls.find((call) => call[0] === "files")?.[2]).toBe("sales.csv");
  });

  it("shows why the server refused", async () => {
    stubApi({
      "GET /api/auth/me": () => adminMe,
      "GET /api/datasources": () => ({ items: [] }),
      "POST /api/datasources": () =>
        new Response(JSON.stringify({ detail: "data source 'shop' exists" }), { status: 409 }),
    });
    renderWithClient(<DataPage />);
    fireEvent.click(await screen.findByRole("button", { name: "Add data source" }));
    const dialog = screen.getByRole("dialog", { name: "New data source" });
    fireEvent.change(within(dialog).getByLabelText(/^Name/), { target: { value: "shop" } });
    fireEvent.click(within(dialog).getByRole("button", { name: "Add data source" }));
    expect(await within(dialog).findByRole("alert")).toHaveTextContent(
      "Adding the data source failed: data source 'shop' exists",
    );
  });
});
