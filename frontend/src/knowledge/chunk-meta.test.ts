import { describe, expect, it } from "vitest";
import { formatScore, headingPathOf, locationOf, pageOf, retrieversOf } from "./chunk-meta";
import { formatBytes, percent } from "./format";

const chunk = (metadata: Record<string, unknown>) => ({ id: "c", text: "t", metadata });

describe("chunk metadata", () => {
  it("orders retrievers vector, keyword, graph, then others, tolerating odd values", () => {
    const hits = retrieversOf(
      chunk({ retrievers: { zeta: {}, graph: { rank: 1 }, keyword: { rank: 2, score: 0.5 } } }),
    );
    expect(hits).toEqual([
      { name: "keyword", rank: 2, score: 0.5 },
      { name: "graph", rank: 1, score: null },
      { name: "zeta", rank: null, score: null },
    ]);
    expect(retrieversOf(chunk({ retrievers: "vector" }))).toEqual([]);
  });

  it("reads page or sheet and the heading path, as a list or a string", () => {
    expect(pageOf(chunk({ page: 4 }))).toBe("4");
    expect(pageOf(chunk({ sheet: "Q3" }))).toBe("Q3");
    expect(headingPathOf(chunk({ heading_path: "Intro > Setup" }))).toEqual(["Intro", "Setup"]);
    expect(locationOf(chunk({ page: 2, heading_path: ["A", "B"] }))).toBe("p. 2 · A › B");
    expect(locationOf(chunk({}))).toBe("");
  });

  it("formats scores, sizes and percentages", () => {
    expect(formatScore(0.81234)).toBe("0.812");
    expect(formatScore(0.000123456)).toBe("0.000123");
    expect(formatScore(null)).toBe("—");
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(5 * 1024 * 1024)).toBe("5.0 MB");
    expect(formatBytes(200 * 1024)).toBe("200 KB");
    expect(percent(1, 3)).toBe(33);
    expect(percent(5, 0)).toBe(0);
  });
});
