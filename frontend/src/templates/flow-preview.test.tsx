import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { FlowPreview } from "./flow-preview";

describe("FlowPreview", () => {
  it("draws one box per node at its position and one line per edge", () => {
    render(
      <FlowPreview
        document={{
          schema: "rivulet.flow/v1",
          name: "demo",
          id: "",
          description: "",
          version: 0,
          nodes: [
            {
              id: "a",
              operator: "core.input",
              operator_version: 1,
              disabled: false,
              label: "In",
              position: { x: 0, y: 0 },
            },
            {
              id: "b",
              operator: "core.output",
              operator_version: 1,
              disabled: false,
              position: { x: 300, y: 40 },
            },
          ],
          edges: [
            { id: "e1", source: "a", source_port: "value", target: "b", target_port: "value" },
          ],
        }}
      />,
    );
    const svg = screen.getByRole("img", { name: "Preview of demo" });
    expect(svg.querySelectorAll("[data-node-id]")).toHaveLength(2);
    expect(svg.querySelectorAll("line")).toHaveLength(1);
    expect(svg).toHaveTextContent("In");
    expect(svg).toHaveTextContent("core.output");
    expect(svg.querySelector("line")?.getAttribute("x2")).toBe("300");
  });
});
