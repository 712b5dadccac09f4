import { fireEvent, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { renderWithClient } from "../test/render-with-client";
import { TemplateSources } from "./template-sources";

const items = [
  { location: "/srv/rivulet/templates", origin: "builtin" },
  { location: "/data/market", origin: "user" },
];

afterEach(() => vi.unstubAllGlobals());

describe("TemplateSources", () => {
  it("lists sources, adds one and removes a user source", async () => {
    const fetchMock = vi.fn(
      async (_request: Request) =>
        new Response(JSON.stringify({ items }), {
          status: 200,
          headers: { "content-type": "application/json" },
        }),
    );
    vi.stubGlobal("fetch", fetchMock);
    renderWithClient(<TemplateSources />);
    expect(await screen.findByText("/data/market")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Remove /srv/rivulet/templates" })).toBeNull();

    fireEvent.change(screen.getByRole("textbox", { name: "Source location" }), {
      target: { value: "https://example.com/index.json" },
    });
    fireEvent.click(screen.getByRole("button", { name: "Add source" }));
    await waitFor(() => expect(fetchMock.mock.calls.some(([r]) => r.method === "POST")).toBe(true));
    const post = fetchMock.mock.calls.find(([r]) => r.method === "POST")?.[0];
    expect(await post?.json()).toEqual({ location: "https://example.com/index.json" });

    fireEvent.click(screen.getByRole("button", { name: "Remove /data/market" }));
    await waitFor(() =>
      expect(fetchMock.mock.calls.some(([r]) => r.method === "DELETE")).toBe(true),
    );
    const del = fetchMock.mock.calls.find(([r]) => r.method === "DELETE")?.[0];
    expect(new URL(del?.url ?? "").searchParams.get("location")).toBe("/data/market");
  });
});
