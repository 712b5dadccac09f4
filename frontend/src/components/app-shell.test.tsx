import { fireEvent, screen, within } from "@testing-library/react";
import { beforeEach, describe, expect, it } from "vitest";
import { catalogFixture } from "../test/catalog-fixture";
import { renderWithClient, stubFetchRoutes } from "../test/render-with-client";
import { AppShell } from "./app-shell";

function renderAt(path: string) {
  window.history.replaceState(null, "", path);
  return renderWithClient(<AppShell />);
}

describe("AppShell", () => {
  beforeEach(() => {
    stubFetchRoutes({
      "/api/health": { status: "ok", database: "ok", pgvector: "0.8.0", version: "0.1.0" },
      "/api/flows": { items: [], limit: 200, offset: 0 },
      "/api/flows/validate": { ok: true, diagnostics: [] },
      "/api/operators": catalogFixture,
      "/api/runs": [],
    });
  });

  it("shows the brand, the main nav and the flows empty state at /", async () => {
    renderAt("/");
    expect(screen.getByRole("link", { name: "Rivulet home" })).toHaveTextContent("Rivulet");
    const nav = screen.getByRole("navigation", { name: "Main" });
    const names = within(nav)
      .getAllByRole("link")
      .map((link) => link.textContent);
    expect(names).toEqual([
      "Flows",
      "Templates",
      "Runs",
      "Knowledge",
      "Data",
      "Reports",
      "Evaluations",
      "Models",
      "Publishing",
      "Settings",
    ]);
    expect(within(nav).getByRole("link", { name: "Flows" })).toHaveAttribute(
      "aria-current",
      "page",
    );
    expect(await screen.findByRole("heading", { name: "No flows yet" })).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "New flow" })).toHaveAttribute("href", "/flows/new");
    expect(await screen.findByText("Database ok · pgvector 0.8.0")).toBeInTheDocument();
  });

  it("switches pages from the nav", async () => {
    renderAt("/");
    fireEvent.click(screen.getByRole("link", { name: "Runs" }));
    expect(await screen.findByRole("heading", { name: "No runs yet" })).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Runs" })).toHaveAttribute("aria-current", "page");
  });

  it.each([
    ["/templates", "Templates"],
    ["/runs", "Runs"],
    ["/settings", "Settings"],
  ])("renders %s", (path, title) => {
    renderAt(path);
    expect(screen.getByRole("heading", { level: 1, name: title })).toBeInTheDocument();
  });

  it("renders the editor with its canvas and palette at /flows/new", {
    timeout: 20_000,
  }, async () => {
    const { container } = renderAt("/flows/new");
    // The editor is a lazily loaded chunk (React Flow, elkjs): give it time to load.
    expect(await screen.findByTestId("flow-canvas", {}, { timeout: 15_000 })).toBeInTheDocument();
    expect(container.querySelector(".react-flow")).not.toBeNull();
    expect(screen.getByText("This canvas is empty")).toBeInTheDocument();
    // The palette lists the catalog by category.
    expect(await screen.findByTestId("palette-item-core.delay")).toBeInTheDocument();
  });

  it("renders a not-found page for unknown paths", () => {
    renderAt("/does/not/exist");
    expect(screen.getByRole("heading", { name: "Page not found" })).toBeInTheDocument();
  });
});
