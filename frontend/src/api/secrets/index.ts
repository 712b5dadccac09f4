import { queryOptions, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, type Schemas } from "../client";
import { apiFailure } from "../flows";

/** A secret's name and timestamps: values are write-only and never come back from the API. */
export type SecretInfo = Schemas["SecretInfo"];

export const secretKeys = {
  all: ["secrets"] as const,
  list: () => [...secretKeys.all, "list"] as const,
};

export const secretsQueryOptions = () =>
  queryOptions({
    queryKey: secretKeys.list(),
    queryFn: async ({ signal }) => {
      const { data, error, response } = await api.GET("/api/secrets", { signal });
      if (!data) throw apiFailure("Listing secrets failed", error, response.status);
      return data.items;
    },
    retry: false,
  });

export const useSecrets = (enabled = true) => useQuery({ ...secretsQueryOptions(), enabled });

/** `PUT /api/secrets/{name}`: creates or replaces the value (administrators). */
export function useSetSecret() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async ({ name, value }: { name: string; value: string }) => {
      const { data, error, response } = await api.PUT("/api/secrets/{name}", {
        params: { path: { name } },
        body: { value },
      });
      if (!data) throw apiFailure(`Saving secret ${name} failed`, error, response.status);
      return data;
    },
    onSuccess: () => client.invalidateQueries({ queryKey: secretKeys.all }),
  });
}

/** `DELETE /api/secrets/{name}` (administrators). */
export function useDeleteSecret() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (name: string) => {
      const { error, response } = await api.DELETE("/api/secrets/{name}", {
        params: { path: { name } },
      });
      if (!response.ok) throw apiFailure(`Deleting secret ${name} failed`, error, response.status);
    },
    onSuccess: () => client.invalidateQueries({ queryKey: secretKeys.all }),
  });
}
