import { describe, expect, it } from "vitest";
import { readSse, SseParser } from "./sse";

function bodyOf(pieces: readonly (string | Uint8Array)[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const piece of pieces) {
        controller.enqueue(typeof piece === "string" ? encoder.encode(piece) : piece);
      }
      controller.close();
    },
  });
}

async function collect(body: ReadableStream<Uint8Array>) {
  const events = [];
  for await (const event of readSse(body)) events.push(event);
  return events;
}

describe("SseParser", () => {
  it("dispatches on a blank line and names events", () => {
    const parser = new SseParser();
    expect(parser.push('event: token\ndata: {"data":"Hel"}\n')).toEqual([]);
    expect(parser.push("\n")).toEqual([{ event: "token", data: '{"data":"Hel"}' }]);
  });

  it("joins data lines, drops one leading space, ignores comments and unknown fields", () => {
    const parser = new SseParser();
    const events = parser.push(": keep-alive\ndata:a\ndata:  b\nretry: 10\nfoo: bar\n\n");
    expect(events).toEqual([{ event: "message", data: "a\n b" }]);
  });

  it("accepts \\r\\n and \\r line ends, even split between pieces", () => {
    const parser = new SseParser();
    expect(parser.push("event: done\r")).toEqual([]);
    expect(parser.push("\ndata: 1\r\n\r")).toEqual([{ event: "done", data: "1" }]);
    expect(parser.push("\ndata: 2\r\r")).toEqual([{ event: "message", data: "2" }]);
  });

  it("does not dispatch an event without data, and remembers the last id", () => {
    const parser = new SseParser();
    expect(parser.push("event: start\n\nid: 7\ndata: x\n\n")).toEqual([
      { event: "message", data: "x", id: "7" },
    ]);
  });
});

describe("readSse", () => {
  it("reads events cut anywhere, including inside a multi-byte character", async () => {
    const bytes = new TextEncoder().encode('event: token\ndata: {"data":"é✓"}\n\n');
    const cut = bytes.indexOf(0xa9); // the second byte of "é"
    const events = await collect(
      bodyOf([
        bytes.slice(0, 5),
        bytes.slice(5, cut),
        bytes.slice(cut),
        "event: done\ndata: {}\n\n",
      ]),
    );
    expect(events).toEqual([
      { event: "token", data: '{"data":"é✓"}' },
      { event: "done", data: "{}" },
    ]);
  });

  it("drops an event the stream cut off before its blank line", async () => {
    const events = await collect(bodyOf(["data: whole\n\n", "data: cut"]));
    expect(events).toEqual([{ event: "message", data: "whole" }]);
  });
});
