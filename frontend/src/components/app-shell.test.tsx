import { fireEvent, screen, within } from "@testing-library/react";
import { beforeEach, describe, expect, it } from "vitest";
import { renderWithClient, stubFetchJson } from "../test/render-with-client";
import { AppShell } from "./app-shell";

function renderAt(path: string) {
  window.history.replaceState(null, "", path);
  return renderWithClient(<AppShell />);
}

describe("AppShell", () => {
  beforeEach(() => {
    stubFetchJson({ status: "ok", database: "ok", pgvector: "0.8.0", version: "0.1.0" });
  });

  it("shows the brand, the main nav and the flows empty state at /", async () => {
    renderAt("/");
    expect(screen.getByRole("link", { name: "Rivulet home" })).toHaveTextContent("Rivulet");
    const nav = screen.getByRole("navigation", { name: "Main" });
    const names = within(nav)
      .getAllByRole("link")
      .map((link) => link.textContent);
    expect(names).toEqual(["Flows", "Templates", "Runs", "Settings"]);
    expect(within(nav).getByRole("link", { name: "Flows" })).toHaveAttribute(
      "aria-current",
      "page",
    );
    expect(screen.getByRole("heading", { name: "No flows yet" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "New flow" })).toBeDisabled();
    expect(await screen.findByText("Database ok · pgvector 0.8.0")).toBeInTheDocument();
  });

  it("switches pages from the nav", () => {
    renderAt("/");
    fireEvent.click(screen.getByRole("link", { name: "Runs" }));
    expect(screen.getByRole("heading", { name: "No runs yet" })).toBeInTheDocument();
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

  it("renders the React Flow canvas at /flows/new", async () => {
    const { container } = renderAt("/flows/new");
    expect(await screen.findByTestId("flow-canvas")).toBeInTheDocument();
    expect(container.querySelector(".react-flow")).not.toBeNull();
    expect(screen.getByText("This canvas is empty")).toBeInTheDocument();
  });

  it("renders a not-found page for unknown paths", () => {
    renderAt("/does/not/exist");
    expect(screen.getByRole("heading", { name: "Page not found" })).toBeInTheDocument();
  });
});
