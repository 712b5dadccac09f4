import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { renderWithClient } from "../test/render-with-client";
import { TemplateGallery } from "./template-gallery";

const listing = {
  items: [
    {
      name: "json-reshape",
      title: "Reshape JSON records",
      summary: "reshape",
      tags: ["etl"],
      version: "1.0.0",
      versions: ["1.0.0"],
      source: "builtin",
    },
  ],
  tags: ["etl"],
};

const detail = {
  manifest: {
    schema: "rivulet.template/v1",
    name: "json-reshape",
    version: "1.0.0",
    title: "Reshape JSON records",
    description: "d",
    variables: [{ name: "vat_factor", type: "float", description: "VAT", default: 1.2 }],
    flows: ["flows/main.json"],
  },
  flows: [
    {
      file: "flows/main.json",
      document: {
        name: "Reshape JSON records",
        nodes: [
          { id: "in", operator: "core.input", position: { x: 0, y: 0 } },
          { id: "ask", operator: "llm.chat", position: { x: 300, y: 0 } },
        ],
        edges: [
          { id: "e", source: "in", source_port: "value", target: "ask", target_port: "prompt" },
        ],
      },
    },
  ],
  data_files: [],
};

function stubApi(importBody: unknown, importStatus = 201) {
  const fetchMock = vi.fn(async (request: Request) => {
    const url = new URL(request.url);
    const body =
      url.pathname === "/api/templates"
        ? listing
        : url.pathname === "/api/templates/import"
          ? importBody
          : detail;
    const status = url.pathname === "/api/templates/import" ? importStatus : 200;
    return new Response(JSON.stringify(body), {
      status,
      headers: { "content-type": "application/json" },
    });
  });
  vi.stubGlobal("fetch", fetchMock);
  return fetchMock;
}

afterEach(() => {
  vi.unstubAllGlobals();
  window.history.replaceState(null, "", "/");
});

describe("TemplateGallery", () => {
  it("draws each card's flow, small and coloured by category", async () => {
    stubApi({});
    renderWithClient(<TemplateGallery />);
    const card = await screen.findByTestId("template-card-json-reshape");
    const thumbnail = await within(card).findByTestId("flow-thumbnail");
    expect(thumbnail).toHaveAttribute("aria-hidden", "true");
    const boxes = thumbnail.querySelectorAll("[data-node-id] rect");
    expect(boxes).toHaveLength(2);
    expect(boxes[1]?.getAttribute("fill")).not.toBe(boxes[0]?.getAttribute("fill"));
    expect(thumbnail.querySelectorAll("line")).toHaveLength(1);
    // The card keeps one accessible name: the template's, not the picture's.
    expect(screen.queryByRole("img", { name: /Preview of/ })).toBeNull();
  });

  it("sends the typed variable and opens the created flow", async () => {
    const fetchMock = stubApi({
      template: "json-reshape@1.0.0",
      flows: [
        { file: "flows/main.json", action: "created", name: "x", flow_id: "f-1", version: 1 },
      ],
    });
    renderWithClient(<TemplateGallery />);
    fireEvent.click(await screen.findByRole("button", { name: /Reshape JSON records/ }));
    fireEvent.change(await screen.findByRole("textbox", { name: /vat_factor/ }), {
      target: { value: "2.5" },
    });
    fireEvent.click(screen.getByRole("button", { name: "Import" }));
    await waitFor(() => expect(window.location.pathname).toBe("/flows/f-1"));
    const call = fetchMock.mock.calls.find(
      ([r]) => new URL(r.url).pathname === "/api/templates/import",
    );
    expect(await call?.[0].json()).toEqual({
      name: "json-reshape",
      variables: { vat_factor: 2.5 },
      on_conflict: "new",
    });
  });

  it("shows the server's problem when the import is refused", async () => {
    stubApi({ detail: "cannot import json-reshape@1.0.0: variable 'x' is required" }, 422);
    renderWithClient(<TemplateGallery />);
    fireEvent.click(await screen.findByRole("button", { name: /Reshape JSON records/ }));
    fireEvent.click(await screen.findByRole("button", { name: "Import" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("variable 'x' is required");
  });
});
