import "@testing-library/jest-dom/vitest";
import { cleanup } from "@testing-library/react";
import { afterEach } from "vitest";

/**
 * jsdom has no `fetch`, so tests run on Node's, whose `Request` rejects relative URLs. A browser
 * resolves them against the page; do the same so the client keeps its production `baseUrl: ""`.
 */
class PageRelativeRequest extends Request {
  constructor(input: RequestInfo | URL, init?: RequestInit) {
    super(typeof input === "string" ? new URL(input, window.location.href) : input, init);
  }
}
globalThis.Request = PageRelativeRequest;

/** React Flow measures its viewport; jsdom has no layout, so give it inert observers. */
class NoopResizeObserver implements ResizeObserver {
  observe(): void {}
  unobserve(): void {}
  disconnect(): void {}
}
globalThis.ResizeObserver ??= NoopResizeObserver;

afterEach(() => {
  cleanup();
  window.history.replaceState(null, "", "/");
});
