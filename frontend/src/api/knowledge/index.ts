import { queryOptions, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, type Schemas } from "../client";
import { apiFailure } from "../flows";

export type Space = Schemas["SpaceRecord"];
export type SpaceCreate = Schemas["SpaceCreate"];
export type KnowledgeDocument = Schemas["DocumentRecord"];
export type IngestJob = Schemas["IngestJobRead"];
export type IngestProgress = Schemas["IngestProgress"];
export type IngestReport = Schemas["IngestReport"];
export type SearchRequest = Schemas["SearchRequest"];
export type SearchResult = Schemas["SearchResult"];
export type SearchHit = Schemas["SearchHit"];
export type ChunkingConfig = Schemas["ChunkingConfig"];

export const knowledgeKeys = {
  all: ["knowledge"] as const,
  spaces: () => [...knowledgeKeys.all, "spaces"] as const,
  space: (space: string) => [...knowledgeKeys.all, "space", space] as const,
  documents: (space: string) => [...knowledgeKeys.all, "documents", space] as const,
  job: (jobId: string) => [...knowledgeKeys.all, "job", jobId] as const,
};

export const spacesQueryOptions = () =>
  queryOptions({
    queryKey: knowledgeKeys.spaces(),
    queryFn: async ({ signal }) => {
      const { data, error, response } = await api.GET("/api/knowledge/spaces", { signal });
      if (!data) throw apiFailure("Listing knowledge spaces failed", error, response.status);
      return data.items;
    },
  });

export const useSpaces = () => useQuery(spacesQueryOptions());

export const spaceQueryOptions = (space: string) =>
  queryOptions({
    queryKey: knowledgeKeys.space(space),
    queryFn: async ({ signal }) => {
      const { data, error, response } = await api.GET("/api/knowledge/spaces/{space}", {
        params: { path: { space } },
        signal,
      });
      if (!data) throw apiFailure(`Loading space ${space} failed`, error, response.status);
      return data;
    },
  });

export const useSpace = (space: string) => useQuery(spaceQueryOptions(space));

export const documentsQueryOptions = (space: string) =>
  queryOptions({
    queryKey: knowledgeKeys.documents(space),
    queryFn: async ({ signal }) => {
      const { data, error, response } = await api.GET("/api/knowledge/spaces/{space}/documents", {
        params: { path: { space } },
        signal,
      });
      if (!data) throw apiFailure("Listing documents failed", error, response.status);
      return data.items;
    },
  });

export const useDocuments = (space: string) => useQuery(documentsQueryOptions(space));

export async function fetchJob(jobId: string, signal?: AbortSignal): Promise<IngestJob> {
  const { data, error, response } = await api.GET("/api/knowledge/jobs/{job_id}", {
    params: { path: { job_id: jobId } },
    signal,
  });
  if (!data) throw apiFailure("Loading the ingestion job failed", error, response.status);
  return data;
}

/** The newest ingestion job of a space that is still running on this server, if any. */
export async function fetchRunningJob(
  space: string,
  signal?: AbortSignal,
): Promise<IngestJob | null> {
  const { data, error, response } = await api.GET("/api/knowledge/jobs", {
    params: { query: { space } },
    signal,
  });
  if (!data) throw apiFailure("Listing ingestion jobs failed", error, response.status);
  return data.items.find((job) => job.status === "running") ?? null;
}

/** The URL of a job's progress stream (server-sent events). */
export const jobEventsUrl = (jobId: string) =>
  `/api/knowledge/jobs/${encodeURIComponent(jobId)}/events`;

/** Invalidates everything under `knowledge` (spaces' counts change with their documents). */
function useInvalidateKnowledge() {
  const client = useQueryClient();
  return () => client.invalidateQueries({ queryKey: knowledgeKeys.all });
}

export function useCreateSpace() {
  const invalidate = useInvalidateKnowledge();
  return useMutation({
    mutationFn: async (body: SpaceCreate) => {
      const { data, error, response } = await api.POST("/api/knowledge/spaces", { body });
      if (!data) throw apiFailure("Creating the space failed", error, response.status);
      return data;
    },
    onSuccess: invalidate,
  });
}

export function useDeleteSpace() {
  const invalidate = useInvalidateKnowledge();
  return useMutation({
    mutationFn: async (space: string) => {
      const { error, response } = await api.DELETE("/api/knowledge/spaces/{space}", {
        params: { path: { space } },
      });
      if (!response.ok) throw apiFailure("Deleting the space failed", error, response.status);
    },
    onSuccess: invalidate,
  });
}

export function useDeleteDocument(space: string) {
  const invalidate = useInvalidateKnowledge();
  return useMutation({
    mutationFn: async (documentId: string) => {
      const { error, response } = await api.DELETE(
        "/api/knowledge/spaces/{space}/documents/{document_id}",
        { params: { path: { space, document_id: documentId } } },
      );
      if (!response.ok) throw apiFailure("Deleting the document failed", error, response.status);
    },
    onSuccess: invalidate,
  });
}

/** Starts an ingestion of uploaded files (multipart, streamed to disk by the server). */
export async function uploadFiles(space: string, files: readonly File[]): Promise<IngestJob> {
  const { data, error, response } = await api.POST("/api/knowledge/spaces/{space}/documents", {
    params: { path: { space } },
    // The generated body type names the multipart fields; the browser writes the boundary.
    body: { files: files as unknown as string[] },
    bodySerializer: () => {
      const form = new FormData();
      for (const file of files) form.append("files", file, file.name);
      return form;
    },
  });
  if (!data) throw apiFailure("Uploading failed", error, response.status);
  return data;
}

/** Starts an ingestion of web pages (fetched by the server through its network guard). */
export async function addUrls(space: string, urls: readonly string[]): Promise<IngestJob> {
  const { data, error, response } = await api.POST("/api/knowledge/spaces/{space}/documents/urls", {
    params: { path: { space } },
    body: { urls: [...urls] },
  });
  if (!data) throw apiFailure("Adding the URL failed", error, response.status);
  return data;
}

export function useSearch(space: string) {
  return useMutation({
    mutationFn: async (body: SearchRequest) => {
      const { data, error, response } = await api.POST("/api/knowledge/spaces/{space}/search", {
        params: { path: { space } },
        body,
      });
      if (!data) throw apiFailure("Searching failed", error, response.status);
      return data;
    },
  });
}
