import { fireEvent, screen, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { searchFixture, stubApi } from "../test/knowledge-fixture";
import { renderWithClient } from "../test/render-with-client";
import { parseFilters, SearchPlayground } from "./search-playground";

describe("SearchPlayground", () => {
  it("searches with mode, top_k, MMR and filters, and shows each hit's provenance", async () => {
    const calls = stubApi({ "POST /api/knowledge/spaces/sp1/search": () => searchFixture });
    renderWithClient(<SearchPlayground space="sp1" />);
    fireEvent.change(screen.getByLabelText("Query"), { target: { value: "reset password" } });
    fireEvent.change(screen.getByLabelText("Mode"), { target: { value: "keyword" } });
    fireEvent.change(screen.getByLabelText("Top k"), { target: { value: "3" } });
    fireEvent.click(screen.getByLabelText("MMR (diversify)"));
    fireEvent.change(screen.getByLabelText(/MMR λ/), { target: { value: "0.7" } });
    fireEvent.change(screen.getByLabelText(/Filters \(JSON\)/), {
      target: { value: '{"source": "passwords.md"}' },
    });
    fireEvent.click(screen.getByRole("button", { name: "Search" }));

    const results = await screen.findByRole("list", { name: "Search results" });
    expect(calls[0]?.body).toEqual({
      query: "reset password",
      mode: "keyword",
      top_k: 3,
      filters: { source: "passwords.md" },
      mmr: true,
      mmr_lambda: 0.7,
      rrf_k: 60,
    });
    expect(screen.getByRole("status")).toHaveTextContent("2 hits (hybrid) in 12 ms");
    const first = within(results).getByRole("listitem", { name: "Hit 1" });
    expect(first).toHaveTextContent("passwords.md");
    expect(first).toHaveTextContent("p. 3 · Accounts › Passwords");
    expect(first).toHaveTextContent("0.033");
    expect(first).toHaveTextContent("To reset your password, open Settings and choose Reset.");
    const badges = within(first).getByRole("list", { name: "Found by" });
    expect(
      within(badges)
        .getAllByRole("listitem")
        .map((badge) => badge.textContent),
    ).toEqual(["vector#10.820", "keyword#20.310"]);
    const second = within(results).getByRole("listitem", { name: "Hit 2" });
    expect(within(second).getAllByRole("listitem")).toHaveLength(1);
  });

  it("refuses filters that are not a JSON object, before asking the server", () => {
    const calls = stubApi({});
    renderWithClient(<SearchPlayground space="sp1" />);
    fireEvent.change(screen.getByLabelText("Query"), { target: { value: "q" } });
    fireEvent.change(screen.getByLabelText(/Filters \(JSON\)/), { target: { value: "[1]" } });
    fireEvent.click(screen.getByRole("button", { name: "Search" }));
    expect(screen.getByRole("alert")).toHaveTextContent("Filters must be a JSON object");
    expect(calls).toHaveLength(0);
  });

  it("shows the server's refusal", async () => {
    stubApi({
      "POST /api/knowledge/spaces/sp1/search": () =>
        new Response(JSON.stringify({ detail: "space 'sp1' has no documents" }), { status: 404 }),
    });
    renderWithClient(<SearchPlayground space="sp1" />);
    fireEvent.change(screen.getByLabelText("Query"), { target: { value: "q" } });
    fireEvent.click(screen.getByRole("button", { name: "Search" }));
    await vi.waitFor(() =>
      expect(screen.getByRole("alert")).toHaveTextContent("Searching failed: space 'sp1' has no"),
    );
  });
});

describe("parseFilters", () => {
  it("reads an empty box as no filter and names a JSON error", () => {
    expect(parseFilters("  ")).toEqual({});
    expect(parseFilters('{"page": 2}')).toEqual({ page: 2 });
    expect(() => parseFilters("{oops")).toThrow(/Filters are not JSON/);
  });
});
