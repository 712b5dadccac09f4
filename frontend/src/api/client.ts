import createClient from "openapi-fetch";
import type { components, paths } from "./generated/schema";

/** Response and request bodies, named as the backend's OpenAPI document names them. */
export type Schemas = components["schemas"];

/**
 * The typed API client. Every path, parameter and body type comes from `generated/schema.d.ts`,
 * which `npm run gen:api` writes from `schemas/openapi.json`.
 *
 * Same-origin (`baseUrl: ""`): the backend serves this app, and `vite dev` proxies `/api`.
 * `fetch` is looked up per request so tests can stub `globalThis.fetch`.
 */
export const api = createClient<paths>({
  baseUrl: "",
  fetch: (request) => globalThis.fetch(request),
});

/** Called when the API answers 401 outside the auth endpoints (the session ended); set by the app. */
let onUnauthenticated: (() => void) | undefined;

export function setUnauthenticatedHandler(handler: (() => void) | undefined): void {
  onUnauthenticated = handler;
}

api.use({
  onResponse({ request, response }) {
    if (
      response.status === 401 &&
      !new URL(request.url, "http://x").pathname.startsWith("/api/auth/")
    ) {
      onUnauthenticated?.();
    }
    return response;
  },
});

/** Thrown by query functions when the API answers with an unexpected status or cannot be reached. */
export class ApiError extends Error {
  readonly status: number | undefined;

  constructor(message: string, status?: number) {
    super(message);
    this.name = "ApiError";
    this.status = status;
  }
}
