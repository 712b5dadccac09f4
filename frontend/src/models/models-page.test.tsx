import { fireEvent, screen, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import type { ModelConfig, ModelProbe } from "../api/models";
import { renderWithClient } from "../test/render-with-client";
import { ModelsPage } from "./models-page";

const builtin: ModelConfig = {
  name: "default",
  kind: "chat",
  provider: "local_llamacpp",
  params: {},
  description: "SmolLM2-135M",
  concurrency: 1,
  timeout_s: 120,
  fallbacks: [],
  is_default: true,
  allow_private_network: false,
  builtin: true,
};
const remote: ModelConfig = {
  ...builtin,
  name: "gpt",
  provider: "openai_compatible",
  params: {
    base_url: "https://api.example.com/v1",
    model: "gpt-4o-mini",
    api_key_secret: "openai",
  },
  description: "",
  is_default: false,
  builtin: false,
};
const probe: ModelProbe = {
  model: "default",
  ok: true,
  answered_by: "default",
  kind: "chat",
  latency_ms: 312.4,
  ttft_ms: 41.2,
  prompt_tokens: 36,
  completion_tokens: 12,
  tokens_per_s: 88.5,
  output: "Hello there!",
};

type Handler = (request: Request, body: unknown) => unknown;

function stubApi(routes: Record<string, Handler>) {
  const calls: { method: string; path: string; body: unknown }[] = [];
  const fetchMock = vi.fn(async (request: Request) => {
    const path = new URL(request.url).pathname;
    const text = request.method === "GET" ? "" : await request.text();
    const body = text ? JSON.parse(text) : undefined;
    calls.push({ method: request.method, path, body });
    const handler = routes[`${request.method} ${path}`];
    if (!handler) return new Response(JSON.stringify({ detail: "not stubbed" }), { status: 404 });
    return new Response(JSON.stringify(handler(request, body)), {
      status: 200,
      headers: { "content-type": "application/json" },
    });
  });
  vi.stubGlobal("fetch", fetchMock);
  return calls;
}

describe("ModelsPage", () => {
  it("lists models with the default marked and tests one, showing latency and tokens", async () => {
    const calls = stubApi({
      "GET /api/models": () => ({ items: [builtin, remote] }),
      "POST /api/models/default/test": () => probe,
    });
    renderWithClient(<ModelsPage />);

    const row = (await screen.findByText("gpt")).closest("tr") as HTMLElement;
    expect(within(row).getByText("openai_compatible")).toBeInTheDocument();
    const defaultRow = screen.getByText("default", { selector: "th" }).closest("tr") as HTMLElement;
    expect(within(defaultRow).getByText("default", { selector: ".badge" })).toBeInTheDocument();
    expect(within(defaultRow).queryByText("Delete")).toBeNull();

    fireEvent.click(within(defaultRow).getByRole("button", { name: "Test" }));
    const status = await screen.findByRole("status");
    expect(status).toHaveTextContent("latency 312 ms");
    expect(status).toHaveTextContent("first token 41 ms");
    expect(status).toHaveTextContent("36 prompt + 12 completion tokens");
    expect(status).toHaveTextContent("Hello there!");
    expect(calls.some((c) => c.method === "POST" && c.path === "/api/models/default/test")).toBe(
      true,
    );
  });

  it("shows a failed test with its error", async () => {
    stubApi({
      "GET /api/models": () => ({ items: [remote] }),
      "POST /api/models/gpt/test": () => ({ ...probe, model: "gpt", ok: false, error: "HTTP 401" }),
    });
    renderWithClient(<ModelsPage />);
    fireEvent.click(await screen.findByRole("button", { name: "Test" }));
    expect(await screen.findByRole("status")).toHaveTextContent("Failed: HTTP 401");
  });

  it("adds an OpenAI-compatible model", async () => {
    const calls = stubApi({
      "GET /api/models": () => ({ items: [builtin] }),
      "PUT /api/models/my-gpt": (_r, body) => ({ ...remote, ...(body as object), name: "my-gpt" }),
    });
    renderWithClient(<ModelsPage />);
    fireEvent.click(await screen.findByRole("button", { name: "Add model" }));
    fireEvent.change(screen.getByLabelText("Name"), { target: { value: "my-gpt" } });
    fireEvent.change(screen.getByLabelText("Base URL"), {
      target: { value: "https://api.example.com/v1" },
    });
    fireEvent.change(screen.getByLabelText("Model name on the server"), {
      target: { value: "gpt-4o-mini" },
    });
    fireEvent.change(screen.getByLabelText("API key secret (name)"), {
      target: { value: "openai" },
    });
    fireEvent.change(screen.getByLabelText("Fallbacks (comma-separated)"), {
      target: { value: "default" },
    });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));

    await vi.waitFor(() => expect(calls.some((c) => c.method === "PUT")).toBe(true));
    const put = calls.find((c) => c.method === "PUT");
    expect(put?.body).toMatchObject({
      provider: "openai_compatible",
      kind: "chat",
      params: {
        base_url: "https://api.example.com/v1",
        model: "gpt-4o-mini",
        api_key_secret: "openai",
      },
      fallbacks: ["default"],
    });
  });

  it("refuses other params that are not JSON", async () => {
    stubApi({ "GET /api/models": () => ({ items: [builtin] }) });
    renderWithClient(<ModelsPage />);
    fireEvent.click(await screen.findByRole("button", { name: "Add model" }));
    fireEvent.change(screen.getByLabelText("Name"), { target: { value: "x" } });
    fireEvent.change(screen.getByLabelText("Base URL"), { target: { value: "https://a/v1" } });
    fireEvent.change(screen.getByLabelText("Model name on the server"), { target: { value: "m" } });
    fireEvent.change(screen.getByLabelText("Other params (JSON)"), { target: { value: "{oops" } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("must be a JSON object");
  });
});
