import { queryOptions, useQuery } from "@tanstack/react-query";
import { api, type Schemas } from "../client";
import { apiFailure } from "../flows";

export type TemplateListing = Schemas["TemplateListing"];
export type TemplateRead = Schemas["TemplateRead"];
export type ImportReport = Schemas["ImportReport"];

export const templateKeys = {
  all: ["templates"] as const,
  list: (q: string, tag: string) => [...templateKeys.all, "list", q, tag] as const,
  detail: (name: string) => [...templateKeys.all, "detail", name] as const,
};

export const templateListQueryOptions = (q: string, tag: string) =>
  queryOptions({
    queryKey: templateKeys.list(q, tag),
    queryFn: async ({ signal }) => {
      const query = { ...(q ? { q } : {}), ...(tag ? { tag } : {}) };
      const { data, error, response } = await api.GET("/api/templates", {
        params: { query },
        signal,
      });
      if (!data) throw apiFailure("Listing templates failed", error, response.status);
      return data;
    },
  });

export const useTemplateList = (q: string, tag: string) =>
  useQuery(templateListQueryOptions(q, tag));

export const templateQueryOptions = (name: string) =>
  queryOptions({
    queryKey: templateKeys.detail(name),
    queryFn: async ({ signal }) => {
      const { data, error, response } = await api.GET("/api/templates/{name}", {
        params: { path: { name } },
        signal,
      });
      if (!data) throw apiFailure("Loading the template failed", error, response.status);
      return data;
    },
  });

export const useTemplate = (name: string) =>
  useQuery({ ...templateQueryOptions(name), enabled: name !== "" });

export async function importTemplate(
  name: string,
  variables: Record<string, unknown>,
  onConflict: "ask" | "new" | "upgrade" | "skip",
): Promise<ImportReport> {
  const { data, error, response } = await api.POST("/api/templates/import", {
    body: { name, variables, on_conflict: onConflict },
  });
  if (!data) throw apiFailure("Import failed", error, response.status);
  return data;
}

export type TemplateSource = Schemas["TemplateSource"];

export const templateSourcesQueryOptions = () =>
  queryOptions({
    queryKey: [...templateKeys.all, "sources"] as const,
    queryFn: async ({ signal }) => {
      const { data, error, response } = await api.GET("/api/templates/sources", { signal });
      if (!data) throw apiFailure("Listing template sources failed", error, response.status);
      return data.items;
    },
  });

export const useTemplateSources = () => useQuery(templateSourcesQueryOptions());

export async function addTemplateSource(location: string): Promise<TemplateSource[]> {
  const { data, error, response } = await api.POST("/api/templates/sources", {
    body: { location },
  });
  if (!data) throw apiFailure("Adding the source failed", error, response.status);
  return data.items;
}

export async function removeTemplateSource(location: string): Promise<TemplateSource[]> {
  const { data, error, response } = await api.DELETE("/api/templates/sources", {
    params: { query: { location } },
  });
  if (!data) throw apiFailure("Removing the source failed", error, response.status);
  return data.items;
}
