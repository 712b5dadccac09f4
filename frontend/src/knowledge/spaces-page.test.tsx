import { fireEvent, screen, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { spaceFixture, stubApi } from "../test/knowledge-fixture";
import { renderWithClient } from "../test/render-with-client";
import { KnowledgePage } from "./spaces-page";

const embedding = { name: "default-embedding", kind: "embedding" };
const bge = { name: "bge-small", kind: "embedding" };
const chat = { name: "default", kind: "chat" };

describe("KnowledgePage", () => {
  it("lists spaces with their embedding model, documents and chunks", async () => {
    stubApi({ "GET /api/knowledge/spaces": () => ({ items: [spaceFixture] }) });
    renderWithClient(<KnowledgePage />);
    const table = await screen.findByRole("table", { name: "Knowledge spaces" });
    const row = within(table).getByText("handbook").closest("tr") as HTMLElement;
    expect(
      within(row)
        .getAllByRole("cell")
        .map((cell) => cell.textContent),
    ).toEqual(["handbook", "default-embedding", "2", "7", "Company handbook"]);
    expect(within(row).getByRole("link", { name: "handbook" })).toHaveAttribute(
      "href",
      "/knowledge/handbook",
    );
  });

  it("says so when there is no space", async () => {
    stubApi({ "GET /api/knowledge/spaces": () => ({ items: [] }) });
    renderWithClient(<KnowledgePage />);
    expect(await screen.findByRole("heading", { name: "No knowledge spaces yet" })).toBeVisible();
  });

  it("creates a space with its chunking and opens it", async () => {
    const calls = stubApi({
      "GET /api/knowledge/spaces": () => ({ items: [] }),
      "GET /api/models": () => ({ items: [chat, embedding, bge] }),
      "POST /api/knowledge/spaces": ({ body }) => ({ ...spaceFixture, ...(body as object) }),
    });
    renderWithClient(<KnowledgePage />);
    fireEvent.click(screen.getByRole("button", { name: "New space" }));
    const dialog = screen.getByRole("dialog", { name: "New knowledge space" });
    fireEvent.change(within(dialog).getByLabelText("Name"), { target: { value: "docs" } });
    fireEvent.change(within(dialog).getByLabelText("Description"), { target: { value: "Ours" } });
    const model = within(dialog).getByLabelText(/Embedding model/);
    await vi.waitFor(() => expect(within(model).getAllByRole("option")).toHaveLength(2));
    fireEvent.change(model, { target: { value: "bge-small" } });
    fireEvent.change(within(dialog).getByLabelText("Chunking strategy"), {
      target: { value: "markdown" },
    });
    fireEvent.change(within(dialog).getByLabelText("Chunk size (tokens)"), {
      target: { value: "300" },
    });
    fireEvent.change(within(dialog).getByLabelText("Overlap (tokens)"), {
      target: { value: "400" },
    });
    expect(within(dialog).getByRole("alert")).toHaveTextContent("overlap must be smaller");
    expect(within(dialog).getByRole("button", { name: "Create space" })).toBeDisabled();
    fireEvent.change(within(dialog).getByLabelText("Overlap (tokens)"), {
      target: { value: "50" },
    });
    fireEvent.change(within(dialog).getByLabelText(/Keyword search language/), {
      target: { value: "simple" },
    });
    fireEvent.click(within(dialog).getByRole("button", { name: "Create space" }));

    await vi.waitFor(() => expect(window.location.pathname).toBe("/knowledge/docs"));
    expect(calls.find((call) => call.method === "POST")?.body).toEqual({
      name: "docs",
      description: "Ours",
      embedding_model: "bge-small",
      chunking: { strategy: "markdown", chunk_size: 300, chunk_overlap: 50 },
      language: "simple",
    });
  });

  it("shows why a space could not be created", async () => {
    stubApi({
      "GET /api/knowledge/spaces": () => ({ items: [] }),
      "GET /api/models": () => ({ items: [embedding] }),
      "POST /api/knowledge/spaces": () =>
        new Response(JSON.stringify({ detail: "space 'docs' exists" }), { status: 409 }),
    });
    renderWithClient(<KnowledgePage />);
    fireEvent.click(screen.getByRole("button", { name: "New space" }));
    fireEvent.change(screen.getByLabelText("Name"), { target: { value: "docs" } });
    fireEvent.click(screen.getByRole("button", { name: "Create space" }));
    expect(await screen.findByRole("alert")).toHaveTextContent(
      "Creating the space failed: space 'docs' exists",
    );
  });
});
