import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import type { ReactElement } from "react";
import { vi } from "vitest";

/** Renders `ui` under a fresh query client that never retries or refetches on its own. */
export function renderWithClient(ui: ReactElement) {
  const client = new QueryClient({
    defaultOptions: {
      queries: { retry: false, refetchInterval: false, gcTime: Number.POSITIVE_INFINITY },
    },
  });
  return render(<QueryClientProvider client={client}>{ui}</QueryClientProvider>);
}

/** Replaces `fetch` with one that answers every request with `body` as JSON. */
export function stubFetchJson(body: unknown, status = 200) {
  const fetchMock = vi.fn(
    async (_request: Request) =>
      new Response(JSON.stringify(body), {
        status,
        headers: { "content-type": "application/json" },
      }),
  );
  vi.stubGlobal("fetch", fetchMock);
  return fetchMock;
}

/** Replaces `fetch` with one that fails like a dropped connection. */
export function stubFetchFailure(message = "Failed to fetch") {
  const fetchMock = vi.fn(async (_request: Request): Promise<Response> => {
    throw new TypeError(message);
  });
  vi.stubGlobal("fetch", fetchMock);
  return fetchMock;
}

/** Replaces `fetch` with one answering by path: the longest matching prefix in `routes`, else 404. */
export function stubFetchRoutes(routes: Readonly<Record<string, unknown>>) {
  const prefixes = Object.keys(routes).sort((a, b) => b.length - a.length);
  const fetchMock = vi.fn(async (request: Request | string) => {
    const url = new URL(typeof request === "string" ? request : request.url, window.location.href);
    const prefix = prefixes.find((candidate) => url.pathname.startsWith(candidate));
    return prefix === undefined
      ? new Response(JSON.stringify({ detail: "not found" }), { status: 404 })
      : new Response(JSON.stringify(routes[prefix]), {
          status: 200,
          headers: { "content-type": "application/json" },
        });
  });
  vi.stubGlobal("fetch", fetchMock);
  return fetchMock;
}
