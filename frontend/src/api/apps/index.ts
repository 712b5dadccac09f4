import { queryOptions, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, type Schemas } from "../client";
import { apiFailure } from "../flows";

/** Chat apps as the Publishing page manages them (`/api/apps`). */
export type AppRead = Schemas["AppRead"];
export type AppCreate = Schemas["AppCreate"];
export type AppUpdate = Schemas["AppUpdate"];
export type AppInput = Schemas["AppInput"];
export type AppTokenRead = Schemas["AppTokenRead"];
export type AppTokenCreate = Schemas["AppTokenCreate"];
export type AppTokenCreated = Schemas["AppTokenCreated"];
export type FeedbackItem = Schemas["FeedbackItem"];

export const appKeys = {
  all: ["apps"] as const,
  list: (flowId?: string) => [...appKeys.all, "list", flowId ?? ""] as const,
  tokens: (appId: string) => [...appKeys.all, "tokens", appId] as const,
  feedback: (appId: string) => [...appKeys.all, "feedback", appId] as const,
};

/** The app page of `slug`, absolute (what a share link or the widget points at). */
export const appPageUrl = (slug: string, origin = window.location.origin) =>
  new URL(`/apps/${encodeURIComponent(slug)}`, origin).toString();

export const appsQueryOptions = (flowId?: string) =>
  queryOptions({
    queryKey: appKeys.list(flowId),
    queryFn: async ({ signal }) => {
      const query = flowId ? { flow_id: flowId } : {};
      const { data, error, response } = await api.GET("/api/apps", {
        params: { query },
        signal,
      });
      if (!data) throw apiFailure("Listing chat apps failed", error, response.status);
      return data;
    },
  });

export const useApps = (flowId?: string) => useQuery(appsQueryOptions(flowId));

export const useAppTokens = (appId: string) =>
  useQuery({
    queryKey: appKeys.tokens(appId),
    queryFn: async ({ signal }) => {
      const { data, error, response } = await api.GET("/api/apps/{app_id}/tokens", {
        params: { path: { app_id: appId } },
        signal,
      });
      if (!data) throw apiFailure("Listing share links failed", error, response.status);
      return data;
    },
  });

export const useAppFeedback = (appId: string) =>
  useQuery({
    queryKey: appKeys.feedback(appId),
    queryFn: async ({ signal }) => {
      const { data, error, response } = await api.GET("/api/apps/{app_id}/feedback", {
        params: { path: { app_id: appId }, query: { limit: 100 } },
        signal,
      });
      if (!data) throw apiFailure("Loading the feedback failed", error, response.status);
      return data;
    },
  });

function useInvalidateApps() {
  const client = useQueryClient();
  return () => client.invalidateQueries({ queryKey: appKeys.all });
}

export function useCreateApp() {
  const invalidate = useInvalidateApps();
  return useMutation({
    mutationFn: async (body: AppCreate) => {
      const { data, error, response } = await api.POST("/api/apps", { body });
      if (!data) throw apiFailure("Creating the chat app failed", error, response.status);
      return data;
    },
    onSuccess: invalidate,
  });
}

export function useUpdateApp() {
  const invalidate = useInvalidateApps();
  return useMutation({
    mutationFn: async ({ appId, body }: { appId: string; body: AppUpdate }) => {
      const { data, error, response } = await api.PATCH("/api/apps/{app_id}", {
        params: { path: { app_id: appId } },
        body,
      });
      if (!data) throw apiFailure("Saving the chat app failed", error, response.status);
      return data;
    },
    onSuccess: invalidate,
  });
}

export function useDeleteApp() {
  const invalidate = useInvalidateApps();
  return useMutation({
    mutationFn: async (appId: string) => {
      const { error, response } = await api.DELETE("/api/apps/{app_id}", {
        params: { path: { app_id: appId } },
      });
      if (!response.ok) throw apiFailure("Deleting the chat app failed", error, response.status);
    },
    onSuccess: invalidate,
  });
}

export function useCreateAppToken(appId: string) {
  const invalidate = useInvalidateApps();
  return useMutation({
    mutationFn: async (body: AppTokenCreate) => {
      const { data, error, response } = await api.POST("/api/apps/{app_id}/tokens", {
        params: { path: { app_id: appId } },
        body,
      });
      if (!data) throw apiFailure("Creating the share link failed", error, response.status);
      return data;
    },
    onSuccess: invalidate,
  });
}

export function useRevokeAppToken(appId: string) {
  const invalidate = useInvalidateApps();
  return useMutation({
    mutationFn: async (tokenId: string) => {
      const { data, error, response } = await api.DELETE("/api/apps/{app_id}/tokens/{token_id}", {
        params: { path: { app_id: appId, token_id: tokenId } },
      });
      if (!data) throw apiFailure("Revoking the share link failed", error, response.status);
      return data;
    },
    onSuccess: invalidate,
  });
}
