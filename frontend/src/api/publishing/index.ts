import { queryOptions, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, type Schemas } from "../client";
import { apiFailure } from "../flows";

export type EndpointRead = Schemas["EndpointRead"];
export type ApiKeyRead = Schemas["ApiKeyRead"];
export type ApiKeyCreated = Schemas["ApiKeyCreated"];
export type ApiKeyCreate = Schemas["ApiKeyCreate"];
export type ScheduleRead = Schemas["ScheduleRead"];
export type PublishResult = Schemas["PublishResult"];
export type BodyField = Schemas["BodyField"];
export type CallRecord = Schemas["CallRecord"];
/** Calls, p50 and p95 of one outcome of an endpoint: `ok` (200 JSON), `error`, `accepted` (202), `stream` (SSE). */
export type OutcomeStats = Schemas["OutcomeStats"];

export const publishingKeys = {
  all: ["publishing"] as const,
  endpoints: () => [...publishingKeys.all, "endpoints"] as const,
  apiKeys: () => [...publishingKeys.all, "api-keys"] as const,
  schedules: () => [...publishingKeys.all, "schedules"] as const,
  calls: (slug: string) => [...publishingKeys.all, "calls", slug] as const,
};

export const callsQueryOptions = (slug: string) =>
  queryOptions({
    queryKey: publishingKeys.calls(slug),
    queryFn: async ({ signal }) => {
      const { data, error, response } = await api.GET("/api/endpoints/{slug}/calls", {
        params: { path: { slug }, query: { limit: 10 } },
        signal,
      });
      if (!data) throw apiFailure("Loading the call audit failed", error, response.status);
      return data;
    },
  });

export const useEndpointCalls = (slug: string) => useQuery(callsQueryOptions(slug));

export const endpointsQueryOptions = () =>
  queryOptions({
    queryKey: publishingKeys.endpoints(),
    queryFn: async ({ signal }) => {
      const { data, error, response } = await api.GET("/api/endpoints", { signal });
      if (!data) throw apiFailure("Listing endpoints failed", error, response.status);
      return data;
    },
  });

export const useEndpoints = () => useQuery(endpointsQueryOptions());

export const apiKeysQueryOptions = () =>
  queryOptions({
    queryKey: publishingKeys.apiKeys(),
    queryFn: async ({ signal }) => {
      const { data, error, response } = await api.GET("/api/api-keys", { signal });
      if (!data) throw apiFailure("Listing API keys failed", error, response.status);
      return data;
    },
  });

export const useApiKeys = () => useQuery(apiKeysQueryOptions());

export const schedulesQueryOptions = () =>
  queryOptions({
    queryKey: publishingKeys.schedules(),
    queryFn: async ({ signal }) => {
      const { data, error, response } = await api.GET("/api/schedules", { signal });
      if (!data) throw apiFailure("Listing schedules failed", error, response.status);
      return data;
    },
  });

export const useSchedules = () => useQuery(schedulesQueryOptions());

function useInvalidateAll() {
  const client = useQueryClient();
  return () => client.invalidateQueries({ queryKey: publishingKeys.all });
}

export function usePublish() {
  const invalidate = useInvalidateAll();
  return useMutation({
    mutationFn: async (input: { flowId: string; version?: number; concurrencyLimit?: number }) => {
      const body = {
        version: input.version ?? null,
        concurrency_limit: input.concurrencyLimit ?? null,
      };
      const { data, error, response } = await api.POST("/api/flows/{flow_id}/publish", {
        params: { path: { flow_id: input.flowId } },
        body,
      });
      if (!data) throw apiFailure("Publishing failed", error, response.status);
      return data;
    },
    onSuccess: invalidate,
  });
}

export function useUnpublish() {
  const invalidate = useInvalidateAll();
  return useMutation({
    mutationFn: async (flowId: string) => {
      const { data, error, response } = await api.DELETE("/api/flows/{flow_id}/publish", {
        params: { path: { flow_id: flowId } },
      });
      if (!data) throw apiFailure("Unpublishing failed", error, response.status);
      return data;
    },
    onSuccess: invalidate,
  });
}

export function useCreateApiKey() {
  const invalidate = useInvalidateAll();
  return useMutation({
    mutationFn: async (body: ApiKeyCreate) => {
      const { data, error, response } = await api.POST("/api/api-keys", { body });
      if (!data) throw apiFailure("Creating the API key failed", error, response.status);
      return data;
    },
    onSuccess: invalidate,
  });
}

export function useRevokeApiKey() {
  const invalidate = useInvalidateAll();
  return useMutation({
    mutationFn: async (keyId: string) => {
      const { data, error, response } = await api.DELETE("/api/api-keys/{key_id}", {
        params: { path: { key_id: keyId } },
      });
      if (!data) throw apiFailure("Revoking the API key failed", error, response.status);
      return data;
    },
    onSuccess: invalidate,
  });
}

export function useSetScheduleEnabled() {
  const invalidate = useInvalidateAll();
  return useMutation({
    mutationFn: async ({ scheduleId, enabled }: { scheduleId: string; enabled: boolean }) => {
      const { data, error, response } = await api.PATCH("/api/schedules/{schedule_id}", {
        params: { path: { schedule_id: scheduleId } },
        body: { enabled },
      });
      if (!data) throw apiFailure("Updating the schedule failed", error, response.status);
      return data;
    },
    onSuccess: invalidate,
  });
}
