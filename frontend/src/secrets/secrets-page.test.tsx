import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { adminMe, editorMe } from "../test/data-fixture";
import { renderWithClient } from "../test/render-with-client";
import { SECRET_NAME, SecretsPage, secretUsage } from "./secrets-page";

const at = "2026-12-01T10:00:00Z";

interface Call {
  readonly method: string;
  readonly path: string;
  readonly body: unknown;
}

/** A fake secrets API keeping names only, as the server does (values are taken, never returned). */
function stubSecretsApi(me: unknown, listStatus = 200) {
  const names = new Map<string, string>([["OPENAI_KEY", at]]);
  const calls: Call[] = [];
  const json = (body: unknown, status = 200) =>
    new Response(body === undefined ? null : JSON.stringify(body), {
      status,
      headers: { "content-type": "application/json" },
    });
  vi.stubGlobal(
    "fetch",
    vi.fn(async (request: Request) => {
      const path = new URL(request.url).pathname;
      const text = request.method === "GET" ? "" : await request.text();
      calls.push({ method: request.method, path, body: text ? JSON.parse(text) : undefined });
      if (path === "/api/auth/me") return json(me);
      if (path === "/api/models") {
        return json({ items: [{ name: "gpt", params: { api_key_secret: "OPENAI_KEY" } }] });
      }
      if (path === "/api/secrets" && request.method === "GET") {
        if (listStatus !== 200) return json({ detail: "forbidden" }, listStatus);
        return json({
          items: [...names].map(([name, stamp]) => ({ name, created_at: at, updated_at: stamp })),
        });
      }
      const name = decodeURIComponent(path.replace("/api/secrets/", ""));
      if (request.method === "PUT") {
        names.set(name, "2026-12-02T10:00:00Z");
        return json({ name, created_at: at, updated_at: "2026-12-02T10:00:00Z" });
      }
      if (request.method === "DELETE") {
        names.delete(name);
        return new Response(null, { status: 204 });
      }
      return json({ detail: "not stubbed" }, 404);
    }),
  );
  return calls;
}

afterEach(() => vi.unstubAllGlobals());

describe("SecretsPage", () => {
  it("lists names with their update time and never a value", async () => {
    stubSecretsApi(adminMe);
    renderWithClient(<SecretsPage />);
    const row = await screen.findByTestId("secret-row");
    expect(within(row).getByText("OPENAI_KEY")).toBeTruthy();
    expect(within(row).getByText("••••••••")).toBeTruthy();
    expect(within(row).getByText(new Date(at).toLocaleString())).toBeTruthy();
    expect(await within(row).findByText("model gpt")).toBeTruthy();
  });

  it("tells which models and data sources use a secret", () => {
    const secrets = ["K", "datasource.shop.password", "unused"].map((name) => ({
      name,
      created_at: at,
      updated_at: at,
    }));
    const models = [
      { name: "a", params: { api_key_secret: "K" } },
      { name: "b", params: { api_key_secret: "K", base_url: "K" } },
      { name: "c", params: {} },
    ] as unknown as Parameters<typeof secretUsage>[1];
    const usage = secretUsage(secrets, models);
    expect(usage.get("K")).toEqual(["model a", "model b"]);
    expect(usage.get("datasource.shop.password")).toEqual(["data source shop"]);
    expect(usage.get("unused")).toEqual([]);
  });

  it("sets a value through a write-only field and clears it once saved", async () => {
    const calls = stubSecretsApi(adminMe);
    renderWithClient(<SecretsPage />);
    await screen.findByTestId("secret-row");
    const value = screen.getByTestId("secret-value") as HTMLInputElement;
    expect(value.type).toBe("password");
    fireEvent.change(screen.getByTestId("secret-name"), { target: { value: "SLACK_TOKEN" } });
    fireEvent.change(value, { target: { value: "xoxb-very-secret" } });
    fireEvent.click(screen.getByRole("button", { name: "Save secret" }));
    expect(await screen.findByRole("status")).toHaveProperty(
      "textContent",
      "Saved SLACK_TOKEN. Its value is stored encrypted and cannot be read back.",
    );
    expect(calls).toContainEqual({
      method: "PUT",
      path: "/api/secrets/SLACK_TOKEN",
      body: { value: "xoxb-very-secret" },
    });
    expect(value.value).toBe("");
    await waitFor(() => expect(screen.getAllByTestId("secret-row")).toHaveLength(2));
    expect(document.body.textContent).not.toContain("xoxb-very-secret");
  });

  it("replaces a value: the row fills the name in and the button says Replace", async () => {
    const calls = stubSecretsApi(adminMe);
    renderWithClient(<SecretsPage />);
    fireEvent.click(await screen.findByRole("button", { name: "Replace OPENAI_KEY" }));
    expect((screen.getByTestId("secret-name") as HTMLInputElement).value).toBe("OPENAI_KEY");
    fireEvent.change(screen.getByTestId("secret-value"), { target: { value: "sk-new" } });
    fireEvent.click(screen.getByRole("button", { name: "Replace" }));
    await waitFor(() =>
      expect(calls).toContainEqual({
        method: "PUT",
        path: "/api/secrets/OPENAI_KEY",
        body: { value: "sk-new" },
      }),
    );
  });

  it("deletes only after a confirmation", async () => {
    const calls = stubSecretsApi(adminMe);
    renderWithClient(<SecretsPage />);
    fireEvent.click(await screen.findByRole("button", { name: "Delete OPENAI_KEY" }));
    const confirm = screen.getByTestId("secret-confirm");
    expect(calls.some((c) => c.method === "DELETE")).toBe(false);
    fireEvent.click(within(confirm).getByRole("button", { name: "Cancel" }));
    expect(screen.queryByTestId("secret-confirm")).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: "Delete OPENAI_KEY" }));
    fireEvent.click(
      within(screen.getByTestId("secret-confirm")).getByRole("button", { name: "Delete" }),
    );
    await waitFor(() => expect(screen.queryByTestId("secret-row")).toBeNull());
    expect(calls).toContainEqual({
      method: "DELETE",
      path: "/api/secrets/OPENAI_KEY",
      body: undefined,
    });
  });

  it("refuses non-administrators without asking for the list", async () => {
    const calls = stubSecretsApi(editorMe);
    renderWithClient(<SecretsPage />);
    expect(await screen.findByTestId("secrets-forbidden")).toBeTruthy();
    expect(screen.queryByTestId("secret-value")).toBeNull();
    expect(calls.some((c) => c.path === "/api/secrets")).toBe(false);
  });

  it("shows the refusal when the API answers 403", async () => {
    stubSecretsApi(adminMe, 403);
    renderWithClient(<SecretsPage />);
    expect(await screen.findByTestId("secrets-forbidden")).toBeTruthy();
  });

  it("checks names like the server", () => {
    expect(SECRET_NAME.test("OPENAI_API_KEY")).toBe(true);
    expect(SECRET_NAME.test("svc.db-password")).toBe(true);
    expect(SECRET_NAME.test("1abc")).toBe(false);
    expect(SECRET_NAME.test("has space")).toBe(false);
  });
});
