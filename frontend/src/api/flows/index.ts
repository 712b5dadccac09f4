import { queryOptions, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ApiError, api, type Schemas } from "../client";

export type FlowRead = Schemas["FlowRead"];
export type FlowSummary = Schemas["FlowSummary"];
export type FlowDocumentBody = Schemas["FlowDocument"];
export type FlowVersionInfo = Schemas["FlowVersionInfo"];
export type ValidationReport = Schemas["ValidationReport"];

export const flowKeys = {
  all: ["flows"] as const,
  list: (search: string) => [...flowKeys.all, "list", search] as const,
  detail: (flowId: string) => [...flowKeys.all, "detail", flowId] as const,
  versions: (flowId: string) => [...flowKeys.all, "versions", flowId] as const,
};

/** The problem document's `detail` (or the status) as an error a page can show. */
export function apiFailure(what: string, error: unknown, status: number): ApiError {
  const body = error as { detail?: unknown; title?: unknown } | undefined;
  const detail = typeof body?.detail === "string" ? body.detail : `answered ${status}`;
  return new ApiError(`${what}: ${detail}`, status);
}

export const flowListQueryOptions = (search: string) =>
  queryOptions({
    queryKey: flowKeys.list(search),
    queryFn: async ({ signal }) => {
      const query = search ? { search, limit: 200 } : { limit: 200 };
      const { data, error, response } = await api.GET("/api/flows", { params: { query }, signal });
      if (!data) throw apiFailure("Listing flows failed", error, response.status);
      return data.items;
    },
  });

export const useFlowList = (search: string) => useQuery(flowListQueryOptions(search));

export const flowQueryOptions = (flowId: string) =>
  queryOptions({
    queryKey: flowKeys.detail(flowId),
    queryFn: async ({ signal }) => {
      const { data, error, response } = await api.GET("/api/flows/{flow_id}", {
        params: { path: { flow_id: flowId } },
        signal,
      });
      if (!data) throw apiFailure("Loading the flow failed", error, response.status);
      return data;
    },
    staleTime: Number.POSITIVE_INFINITY,
    refetchOnWindowFocus: false,
  });

export const useFlow = (flowId: string) => useQuery(flowQueryOptions(flowId));

export async function createFlow(document: FlowDocumentBody, message = ""): Promise<FlowRead> {
  const { data, error, response } = await api.POST("/api/flows", { body: { document, message } });
  if (!data) throw apiFailure("Creating the flow failed", error, response.status);
  return data;
}

export async function saveFlow(
  flowId: string,
  document: FlowDocumentBody,
  baseVersion: number | null,
  message = "",
): Promise<FlowRead> {
  const { data, error, response } = await api.PUT("/api/flows/{flow_id}", {
    params: { path: { flow_id: flowId } },
    body: { document, base_version: baseVersion, message },
  });
  if (!data) throw apiFailure("Saving failed", error, response.status);
  return data;
}

export async function validateFlow(
  document: FlowDocumentBody,
  signal?: AbortSignal,
): Promise<ValidationReport> {
  const { data, error, response } = await api.POST("/api/flows/validate", {
    body: document,
    signal,
  });
  if (!data) throw apiFailure("Validation failed", error, response.status);
  return data;
}

export function useCreateFlow() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (document: FlowDocumentBody) => createFlow(document),
    onSuccess: (flow) => {
      client.setQueryData(flowKeys.detail(flow.summary.id), flow);
      return client.invalidateQueries({ queryKey: [...flowKeys.all, "list"] });
    },
  });
}

export function useDuplicateFlow() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (flowId: string) => {
      const { data, error, response } = await api.POST("/api/flows/{flow_id}/duplicate", {
        params: { path: { flow_id: flowId } },
      });
      if (!data) throw apiFailure("Duplicating failed", error, response.status);
      return data;
    },
    onSuccess: () => client.invalidateQueries({ queryKey: [...flowKeys.all, "list"] }),
  });
}

export function useDeleteFlow() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (flowId: string) => {
      const { error, response } = await api.DELETE("/api/flows/{flow_id}", {
        params: { path: { flow_id: flowId } },
      });
      if (!response.ok) throw apiFailure("Deleting failed", error, response.status);
    },
    onSuccess: () => client.invalidateQueries({ queryKey: [...flowKeys.all, "list"] }),
  });
}

export const flowVersionsQueryOptions = (flowId: string) =>
  queryOptions({
    queryKey: flowKeys.versions(flowId),
    queryFn: async ({ signal }) => {
      const { data, error, response } = await api.GET("/api/flows/{flow_id}/versions", {
        params: { path: { flow_id: flowId } },
        signal,
      });
      if (!data) throw apiFailure("Listing versions failed", error, response.status);
      return data.items;
    },
  });

export const useFlowVersions = (flowId: string, enabled: boolean) =>
  useQuery({ ...flowVersionsQueryOptions(flowId), enabled });

export async function restoreFlowVersion(flowId: string, version: number): Promise<FlowRead> {
  const { data, error, response } = await api.POST(
    "/api/flows/{flow_id}/versions/{version}/restore",
    { params: { path: { flow_id: flowId, version } } },
  );
  if (!data) throw apiFailure("Restoring failed", error, response.status);
  return data;
}
