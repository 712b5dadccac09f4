import { vi } from "vitest";

/** Answers one request of the fake server. */
export type FakeHandler = (request: Request) => Response | Promise<Response>;

export const jsonResponse = (body: unknown, status = 200) =>
  new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });

/**
 * Replaces `fetch` with a fake server: `"METHOD /path"` → handler (exact path; the query string is
 * ignored), 404 otherwise. Returns every request it received, in order.
 */
export function stubServer(routes: Readonly<Record<string, FakeHandler>>): Request[] {
  const requests: Request[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (request: Request) => {
      requests.push(request);
      const { pathname } = new URL(request.url);
      const handler = routes[`${request.method} ${pathname}`];
      return handler ? handler(request) : jsonResponse({ detail: "not found" }, 404);
    }),
  );
  return requests;
}
