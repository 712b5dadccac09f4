import { fireEvent, screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { renderWithClient, stubFetchRoutes } from "../test/render-with-client";
import { ParamForm } from "./param-form";

const schema = {
  type: "object",
  properties: {
    seconds: { type: "number", minimum: 0, default: 1 },
    mode: { enum: ["all", "first"], default: "first" },
    value: { ui: { widget: "json" }, default: null },
    model: { ui: { widget: "model" }, type: "string" },
    api_key: { ui: { widget: "secret" }, type: "string" },
  },
  required: [],
};

function renderForm(values: Record<string, unknown>, errors: Record<string, string> = {}) {
  const onChange = vi.fn();
  renderWithClient(
    <ParamForm schema={schema} values={values} errors={errors} onChange={onChange} />,
  );
  return onChange;
}

describe("ParamForm", () => {
  it("edits numbers, selects and JSON, and refuses invalid JSON", () => {
    stubFetchRoutes({});
    const onChange = renderForm({ seconds: 1, mode: "first", value: null });
    fireEvent.change(screen.getByTestId("param-seconds"), { target: { value: "2.5" } });
    expect(onChange).toHaveBeenLastCalledWith("seconds", 2.5);
    fireEvent.change(screen.getByTestId("param-mode"), { target: { value: "all" } });
    expect(onChange).toHaveBeenLastCalledWith("mode", "all");
    fireEvent.change(screen.getByTestId("param-value"), { target: { value: '{"a": [1' } });
    expect(screen.getByText(/Invalid JSON/)).toBeInTheDocument();
    expect(onChange).toHaveBeenCalledTimes(2);
    fireEvent.change(screen.getByTestId("param-value"), { target: { value: '{"a": [1]}' } });
    expect(onChange).toHaveBeenLastCalledWith("value", { a: [1] });
  });

  it("offers names from /api/models and stays a text input where /api/secrets is missing", async () => {
    stubFetchRoutes({ "/api/models": { items: [{ name: "default" }, { name: "small" }] } });
    const onChange = renderForm({});
    const model = screen.getByTestId("param-model");
    const list = document.getElementById(model.getAttribute("list") ?? "");
    await vi.waitFor(() => expect(list?.querySelectorAll("option")).toHaveLength(2));
    const secret = screen.getByTestId("param-api_key");
    fireEvent.change(secret, { target: { value: "OPENAI_KEY" } });
    expect(onChange).toHaveBeenLastCalledWith("api_key", "OPENAI_KEY");
  });

  it("requests nothing for pickers without a list endpoint (no `/api/nones` on editor load)", async () => {
    const fetchMock = stubFetchRoutes({ "/api/models": { items: [{ name: "default" }] } });
    const pickers = {
      type: "object",
      properties: {
        type: { ui: { widget: "port_type" }, type: "string" },
        model: { ui: { widget: "model" }, type: "string" },
        note: { type: "string" },
      },
    };
    renderWithClient(<ParamForm schema={pickers} values={{}} errors={{}} onChange={vi.fn()} />);
    const model = screen.getByTestId("param-model");
    const list = document.getElementById(model.getAttribute("list") ?? "");
    await vi.waitFor(() => expect(list?.querySelectorAll("option")).toHaveLength(1));
    const paths = fetchMock.mock.calls.map(
      ([request]) =>
        new URL(typeof request === "string" ? request : request.url, window.location.href).pathname,
    );
    expect(paths).toEqual(["/api/models"]);
  });

  it("offers knowledge spaces from /api/knowledge/spaces for a knowledge_space param", async () => {
    stubFetchRoutes({
      "/api/knowledge/spaces": { items: [{ name: "handbook" }, { name: "support" }] },
    });
    const onChange = vi.fn();
    const spaces = {
      type: "object",
      properties: { space: { ui: { widget: "knowledge_space" }, type: "string", minLength: 1 } },
    };
    renderWithClient(<ParamForm schema={spaces} values={{}} errors={{}} onChange={onChange} />);
    const input = screen.getByTestId("param-space");
    expect(input).toHaveAttribute("placeholder", "knowledge space");
    const list = document.getElementById(input.getAttribute("list") ?? "");
    await vi.waitFor(() => expect(list?.querySelectorAll("option")).toHaveLength(2));
    expect([...(list?.querySelectorAll("option") ?? [])].map((o) => o.value)).toEqual([
      "handbook",
      "support",
    ]);
    fireEvent.change(input, { target: { value: "handbook" } });
    expect(onChange).toHaveBeenLastCalledWith("space", "handbook");
  });

  it("offers data sources from /api/datasources for a datasource param", async () => {
    stubFetchRoutes({
      "/api/datasources": { items: [{ name: "shop" }, { name: "sales.xlsx" }] },
    });
    const onChange = vi.fn();
    const sources = {
      type: "object",
      properties: { datasource: { ui: { widget: "datasource" }, type: "string", minLength: 1 } },
    };
    renderWithClient(<ParamForm schema={sources} values={{}} errors={{}} onChange={onChange} />);
    const input = screen.getByTestId("param-datasource");
    expect(input).toHaveAttribute("placeholder", "data source");
    const list = document.getElementById(input.getAttribute("list") ?? "");
    await vi.waitFor(() => expect(list?.querySelectorAll("option")).toHaveLength(2));
    expect([...(list?.querySelectorAll("option") ?? [])].map((o) => o.value)).toEqual([
      "shop",
      "sales.xlsx",
    ]);
    fireEvent.change(input, { target: { value: "shop" } });
    expect(onChange).toHaveBeenLastCalledWith("datasource", "shop");
  });

  it("shows a server diagnostic on its field", () => {
    stubFetchRoutes({});
    renderForm({ seconds: -1 }, { seconds: "Expected `float` >= 0" });
    expect(screen.getByTestId("field-error-seconds")).toHaveTextContent("Expected `float` >= 0");
  });
});
