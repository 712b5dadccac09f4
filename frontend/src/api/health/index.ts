import { queryOptions, useQuery } from "@tanstack/react-query";
import { ApiError, api, type Schemas } from "../client";

/** `GET /api/health`: database reachability and the installed pgvector version. */
export type Health = Schemas["Health"];

/** How often the top bar re-checks the backend. */
export const HEALTH_REFETCH_MS = 30_000;

export const healthKeys = {
  all: ["health"] as const,
  status: () => [...healthKeys.all, "status"] as const,
};

/** A degraded backend answers 503 with a `Health` body: that is a report, not a transport failure. */
function isHealth(value: unknown): value is Health {
  if (typeof value !== "object" || value === null) return false;
  const body = value as Record<string, unknown>;
  return (body.status === "ok" || body.status === "degraded") && typeof body.database === "string";
}

export async function fetchHealth(signal?: AbortSignal): Promise<Health> {
  const { data, error, response } = await api.GET("/api/health", { signal });
  if (data !== undefined) return data;
  if (isHealth(error)) return error;
  throw new ApiError(
    `GET /api/health answered ${response.status} ${response.statusText}`.trim(),
    response.status,
  );
}

export const healthQueryOptions = () =>
  queryOptions({
    queryKey: healthKeys.status(),
    queryFn: ({ signal }) => fetchHealth(signal),
    refetchInterval: HEALTH_REFETCH_MS,
    retry: false,
  });

export function useHealth() {
  return useQuery(healthQueryOptions());
}
