import { describe, expect, it } from "vitest";
import { chunkListOf, chunksAmong, salvageChunks, splitCitations } from "./citations";

const a = { id: "c-a", document_id: "d1", text: "Alpha passage.", source: "a.md" };
const b = { id: "c-b", document_id: "d2", text: "Beta passage.", source: "b.md" };

describe("chunkListOf", () => {
  it("recognises lists of chunks, and an empty list only on a List[Chunk] port", () => {
    expect(chunkListOf([a, b])).toEqual({ chunks: [a, b], truncated: false });
    expect(chunkListOf([])).toBeNull();
    expect(chunkListOf([], "List[Chunk]")).toEqual({ chunks: [], truncated: false });
    expect(chunkListOf([a, { id: 1 }])).toBeNull();
    expect(chunkListOf("plain text")).toBeNull();
    expect(chunkListOf({ columns: [], rows: [] })).toBeNull();
  });

  it("salvages the whole chunks of a preview cut at its byte budget", () => {
    const full = JSON.stringify([a, b, { ...a, id: "c-c" }]);
    const cut = `${full.slice(0, full.indexOf("c-c") + 10)}…`;
    expect(chunkListOf(cut)).toEqual({ chunks: [a, b], truncated: true });
    expect(salvageChunks('[{"id": "x", "te…')).toBeNull();
    expect(salvageChunks("[1, 2]")).toBeNull();
    expect(salvageChunks('[{"id": "r1", "n": 1}, {"id": "r2", "n": 2}, {"id…')).toBeNull();
  });

  it("collects the chunks among several values, first of each id", () => {
    expect(chunksAmong(["answer", [a], [b, { ...a, text: "other" }], 3])).toEqual([a, b]);
  });
});

describe("splitCitations", () => {
  it("turns [chunk-id] markers into citations and leaves other brackets as text", () => {
    expect(
      splitCitations("Reset it in Settings [c-a]. See [note] and [c-a, c-b].", [a, b]),
    ).toEqual([
      "Reset it in Settings ",
      { text: "[c-a]", ids: ["c-a"] },
      ". See [note] and ",
      { text: "[c-a, c-b]", ids: ["c-a", "c-b"] },
      ".",
    ]);
  });

  it("reads [n] as the passage rag.answer numbered n, else the n-th chunk", () => {
    const cited = [
      { ...b, metadata: { cited: true, passage: 3 } },
      { ...a, metadata: { cited: true, passage: 1 } },
    ];
    expect(splitCitations("See [3] and [1]; [2] is no passage.", cited)).toEqual([
      "See ",
      { text: "[3]", ids: ["c-b"] },
      " and ",
      { text: "[1]", ids: ["c-a"] },
      "; [2] is no passage.",
    ]);
    expect(splitCitations("Quoted [`c-b`] and [#c-a].", [a, b])).toEqual([
      "Quoted ",
      { text: "[`c-b`]", ids: ["c-b"] },
      " and ",
      { text: "[#c-a]", ids: ["c-a"] },
      ".",
    ]);
  });

  it("reads [n] as the n-th chunk and tolerates a `chunk` prefix", () => {
    expect(splitCitations("One [2], two [chunk c-a], three [9].", [a, b])).toEqual([
      "One ",
      { text: "[2]", ids: ["c-b"] },
      ", two ",
      { text: "[chunk c-a]", ids: ["c-a"] },
      ", three [9].",
    ]);
  });

  it("leaves text alone without chunks", () => {
    expect(splitCitations("Nothing [1] here", [])).toEqual(["Nothing [1] here"]);
  });
});
