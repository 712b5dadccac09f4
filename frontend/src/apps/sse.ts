/**
 * A reader for `text/event-stream` bodies (the chat routes answer messages with one), used instead
 * of `EventSource` because the request is a POST with a body and an `Authorization` header.
 *
 * It follows the WHATWG rules the server relies on: `\n`, `\r\n` or `\r` end a line, a blank line
 * dispatches the event, `data:` lines join with `\n`, a single space after the colon is dropped,
 * `:` starts a comment, and an event without data is not dispatched.
 */
export interface SseEvent {
  readonly event: string;
  readonly data: string;
  readonly id?: string;
}

/** Cuts text into events; feed it pieces as they arrive, then `end()` for a last unterminated one. */
export class SseParser {
  private buffer = "";
  private eventName = "";
  private dataLines: string[] = [];
  private lastId: string | undefined;
  private pendingCr = false;

  /** The events completed by `chunk`. */
  push(chunk: string): SseEvent[] {
    let text = chunk;
    if (this.pendingCr && text.startsWith("\n")) text = text.slice(1);
    this.pendingCr = false;
    this.buffer += text;
    const events: SseEvent[] = [];
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer);
      if (!match) break;
      // A lone `\r` at the very end may be the first half of `\r\n`: take it as the line end.
      if (match[0] === "\r" && match.index === this.buffer.length - 1) this.pendingCr = true;
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      const event = this.line(line);
      if (event) events.push(event);
    }
    return events;
  }

  /** The stream ended: an event that no blank line closed is dropped, as browsers do. */
  end(): void {
    this.buffer = "";
    this.eventName = "";
    this.dataLines = [];
  }

  private line(line: string): SseEvent | null {
    if (line === "") return this.dispatch();
    if (line.startsWith(":")) return null;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") this.eventName = value;
    else if (field === "data") this.dataLines.push(value);
    else if (field === "id" && !value.includes("\0")) this.lastId = value;
    return null;
  }

  private dispatch(): SseEvent | null {
    const event =
      this.dataLines.length === 0
        ? null
        : {
            event: this.eventName || "message",
            data: this.dataLines.join("\n"),
            ...(this.lastId === undefined ? {} : { id: this.lastId }),
          };
    this.eventName = "";
    this.dataLines = [];
    return event;
  }
}

/** The events of a response body, in order, as they arrive; `signal` ends the reading early. */
export async function* readSse(
  body: ReadableStream<Uint8Array>,
  signal?: AbortSignal,
): AsyncGenerator<SseEvent> {
  const reader = body.getReader();
  const stop = () => void reader.cancel().catch(() => undefined);
  signal?.addEventListener("abort", stop, { once: true });
  const decoder = new TextDecoder();
  const parser = new SseParser();
  try {
    for (;;) {
      if (signal?.aborted) break;
      const { done, value } = await reader.read();
      if (done) break;
      yield* parser.push(decoder.decode(value, { stream: true }));
    }
    yield* parser.push(decoder.decode());
    parser.end();
  } finally {
    signal?.removeEventListener("abort", stop);
    // Also when the caller stops early: the connection is not needed any more.
    await reader.cancel().catch(() => undefined);
  }
}
