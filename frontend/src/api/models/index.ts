import { queryOptions, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ApiError, api, type Schemas } from "../client";

export type ModelConfig = Schemas["ModelConfig"];
export type ModelUpdate = Schemas["ModelUpdate"];
export type ModelProbe = Schemas["ModelProbe"];
export type ModelProvider = ModelConfig["provider"];

export const modelKeys = {
  all: ["models"] as const,
  list: () => [...modelKeys.all, "list"] as const,
};

function failure(what: string, error: unknown, status: number): ApiError {
  const body = error as { detail?: unknown } | undefined;
  const detail = typeof body?.detail === "string" ? body.detail : `answered ${status}`;
  return new ApiError(`${what}: ${detail}`, status);
}

export const modelListQueryOptions = () =>
  queryOptions({
    queryKey: modelKeys.list(),
    queryFn: async ({ signal }) => {
      const { data, error, response } = await api.GET("/api/models", { signal });
      if (!data) throw failure("Listing models failed", error, response.status);
      return data.items;
    },
  });

export const useModels = () => useQuery(modelListQueryOptions());

export async function putModel(name: string, body: ModelUpdate): Promise<ModelConfig> {
  const { data, error, response } = await api.PUT("/api/models/{name}", {
    params: { path: { name } },
    body,
  });
  if (!data) throw failure(`Saving model ${name} failed`, error, response.status);
  return data;
}

export async function deleteModel(name: string): Promise<void> {
  const { error, response } = await api.DELETE("/api/models/{name}", {
    params: { path: { name } },
  });
  if (!response.ok) throw failure(`Deleting model ${name} failed`, error, response.status);
}

export async function setDefaultModel(name: string): Promise<ModelConfig> {
  const { data, error, response } = await api.POST("/api/models/{name}/default", {
    params: { path: { name } },
  });
  if (!data) throw failure(`Making ${name} the default failed`, error, response.status);
  return data;
}

export async function testModel(name: string): Promise<ModelProbe> {
  const { data, error, response } = await api.POST("/api/models/{name}/test", {
    params: { path: { name } },
  });
  if (!data) throw failure(`Testing ${name} failed`, error, response.status);
  return data;
}

/** Mutations that change the model list refresh it. */
function useListMutation<A, R>(fn: (args: A) => Promise<R>) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: fn,
    onSuccess: () => client.invalidateQueries({ queryKey: modelKeys.all }),
  });
}

export const useSaveModel = () =>
  useListMutation(({ name, body }: { name: string; body: ModelUpdate }) => putModel(name, body));
export const useDeleteModel = () => useListMutation(deleteModel);
export const useSetDefaultModel = () => useListMutation(setDefaultModel);
export const useTestModel = () => useMutation({ mutationFn: testModel });
