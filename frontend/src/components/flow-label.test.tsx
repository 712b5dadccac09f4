import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { FlowLabel, sharedNames, shortId } from "./flow-label";

describe("FlowLabel", () => {
  it("finds the names several flows share, case-insensitively", () => {
    const shared = sharedNames([
      { id: "a", name: "Summariser" },
      { id: "b", name: "summariser" },
      { id: "a", name: "Summariser" },
      { id: "c", name: "Other" },
      { id: "c", name: "Other" },
      { id: "d", name: null },
    ]);
    expect([...shared]).toEqual(["summariser"]);
  });

  it("shows the name, the short id only when the name is shared, id and date on hover", () => {
    const flow = { id: "3f2a1b9c-0000", name: "Summariser", updatedAt: "2026-12-01T10:00:00Z" };
    const { rerender } = render(<FlowLabel flow={flow} shared={new Set()} />);
    const label = screen.getByTestId("flow-label");
    expect(label.textContent).toBe("Summariser");
    expect(label.title).toContain("flow 3f2a1b9c-0000");
    expect(label.title).toContain(new Date(flow.updatedAt).toLocaleString());
    rerender(<FlowLabel flow={flow} shared={new Set(["summariser"])} />);
    expect(screen.getByTestId("flow-label").textContent).toBe("Summariser · 3f2a1b");
  });

  it("names a deleted flow and shows its id", () => {
    render(<FlowLabel flow={{ id: "gone-1234", name: null }} />);
    expect(screen.getByTestId("flow-label").textContent).toBe("Deleted flow · gone12");
    expect(shortId("ab-cd-ef-gh")).toBe("abcdef");
  });
});
