import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { isChartSpec, isTable, OutputView, safeOption } from "./output-view";

describe("OutputView", () => {
  it("renders a Table output as a table", () => {
    render(
      <OutputView
        value={{
          columns: ["city", "people"],
          rows: [
            ["Lyon", 522_000],
            ["Nice", null],
          ],
        }}
        type="Table"
      />,
    );
    const table = screen.getByTestId("table-view");
    expect(table.querySelectorAll("th")).toHaveLength(2);
    expect(table.querySelectorAll("tbody tr")).toHaveLength(2);
    expect(table).toHaveTextContent("Lyon522000Nice");
  });

  it("recognises ChartSpec values and renders them with echarts", () => {
    const chart = { title: "t", option: { series: [{ type: "bar", data: [1, 2] }] } };
    expect(isChartSpec(chart, "ChartSpec")).toBe(true);
    expect(isChartSpec({ option: {} }, "Json")).toBe(false);
    expect(isTable(chart)).toBe(false);
    render(<OutputView value={chart} type="ChartSpec" />);
    expect(screen.getByTestId("chart-view")).toBeInTheDocument();
  });

  it("draws charts without their script sinks (HTML tooltips, javascript: title links, data views)", () => {
    const hostile = {
      title: { text: "t", link: "javascript:alert(1)", sublink: "javascript:alert(2)" },
      tooltip: {
        formatter: '<img src=x onerror="alert(3)">{b}: {c}',
        extraCssText: "background:url(x)",
      },
      toolbox: { feature: { dataView: {} } },
      series: [
        {
          type: "bar",
          data: [1],
          label: { formatter: "{c}" },
          tooltip: { formatter: "<b>{c}</b>" },
        },
      ],
    };
    expect(safeOption(hostile)).toEqual({
      title: { text: "t" },
      tooltip: { formatter: 'img src=x onerror="alert(3)"{b}: {c}' },
      series: [
        { type: "bar", data: [1], label: { formatter: "{c}" }, tooltip: { formatter: "b{c}/b" } },
      ],
    });
    expect(JSON.stringify(safeOption(hostile))).not.toMatch(/javascript:|<|extraCssText|toolbox/);
  });

  it("shows text as is and anything else as JSON", () => {
    const { rerender } = render(<OutputView value="hello" type="Text" />);
    expect(screen.getByTestId("output-json")).toHaveTextContent(/^hello$/);
    rerender(<OutputView value={{ a: 1 }} type="Json" />);
    expect(screen.getByTestId("output-json").textContent).toBe('{\n  "a": 1\n}');
  });

  it("renders a Message as a role badge over its markdown content, never as raw JSON", () => {
    render(
      <OutputView
        value={{ role: "assistant", content: "Hi **there**", name: null, tool_call_id: null }}
        type="Message"
      />,
    );
    const message = screen.getByTestId("message-view");
    expect(message).toHaveTextContent(/^assistant/);
    expect(message.querySelector("strong")).toHaveTextContent("there");
    expect(screen.queryByTestId("output-json")).toBeNull();
    expect(message.textContent).not.toContain("tool_call_id");
  });

  it("renders List[Message] as a conversation", () => {
    render(
      <OutputView
        value={[
          { role: "system", content: "Be brief." },
          { role: "user", content: "hello" },
          { role: "assistant", content: "<b>hi</b> [x](javascript:alert(1))" },
        ]}
        type="List[Message]"
      />,
    );
    const items = screen.getAllByTestId("message-view");
    expect(items.map((item) => item.querySelector(".badge")?.textContent)).toEqual([
      "system",
      "user",
      "assistant",
    ]);
    expect(screen.getByTestId("message-list").querySelector("b")).toBeNull();
    expect(screen.getByTestId("message-list").innerHTML).not.toContain("javascript:");
  });
});
