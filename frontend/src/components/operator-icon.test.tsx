import { render } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { ICONS, NamedIcon, resolveIcon } from "./operator-icon";

describe("operator icons", () => {
  it("uses the operator's icon, else its category's, else a box", () => {
    expect(resolveIcon("message-circle", "llm", "sparkles")).toBe("message-circle");
    // `box` is the SDK default: the category says more.
    expect(resolveIcon("box", "sql", "database")).toBe("database");
    expect(resolveIcon("no-such-icon", "llm", null)).toBe("sparkles");
    expect(resolveIcon(null, "rag", "not-in-the-set")).toBe("library");
    expect(resolveIcon(null, "plugin_pack", null)).toBe("box");
  });

  it("has every icon the built-in operators and categories name", () => {
    // `icon="…"` in operators/src and the categories of rivulet.registry.catalog.
    const named = [
      ...["box", "sparkles", "library", "database", "bar-chart", "bot", "zap", "plug"],
      ...["message-circle", "history", "file-text", "globe", "database-zap", "braces", "timer"],
      ...["waypoints", "waves", "text-quote", "table-2", "table", "shield-check", "search"],
      ...["scissors", "repeat", "play", "pin", "network", "message-square-quote", "log-out"],
      ...["log-in", "list-tree", "list-collapse", "link", "layout-dashboard", "languages"],
      ...["hash", "git-merge", "git-branch", "combine", "clock", "arrow-down-wide-narrow"],
    ];
    expect(named.filter((name) => !(name in ICONS))).toEqual([]);
  });

  it("draws an unknown name as a box", () => {
    const { container } = render(<NamedIcon name="nope" />);
    expect(container.querySelector("svg")).toHaveAttribute("data-icon", "box");
  });
});
