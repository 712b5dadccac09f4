import { queryOptions, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ApiError, api, type Schemas } from "../client";

/** The caller (`GET /api/auth/me`). */
export type Me = Schemas["Me"];

export const authKeys = {
  all: ["auth"] as const,
  me: () => [...authKeys.all, "me"] as const,
};

/** `null` when not logged in (401), the caller otherwise. */
export async function fetchMe(signal?: AbortSignal): Promise<Me | null> {
  const { data, response } = await api.GET("/api/auth/me", { signal });
  if (data) return data;
  if (response.status === 401) return null;
  throw new ApiError(`GET /api/auth/me answered ${response.status}`, response.status);
}

export const meQueryOptions = () =>
  queryOptions({ queryKey: authKeys.me(), queryFn: ({ signal }) => fetchMe(signal), retry: false });

export const useMe = () => useQuery(meQueryOptions());

/** The problem document's `detail` as is (the auth forms show it to the user), or the status. */
function refused(error: unknown, status: number): ApiError {
  return new ApiError(
    (error as { detail?: string } | undefined)?.detail ?? `answered ${status}`,
    status,
  );
}

/** Logs in with the HttpOnly session cookie (the editor never sees the secret). */
export async function login(username: string, password: string): Promise<Me> {
  const { data, error, response } = await api.POST("/api/auth/login", {
    body: { username, password, mode: "cookie" },
  });
  if (!data) throw refused(error, response.status);
  const { user } = data;
  return {
    kind: "session",
    user_id: user.id,
    username: user.username,
    is_admin: user.is_admin,
    role: user.role,
    workspaces: {},
  };
}

export function useLogin() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ username, password }: { username: string; password: string }) =>
      login(username, password),
    onSuccess: (me) => client.setQueryData(authKeys.me(), me),
  });
}

export function useLogout() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async () => {
      await api.POST("/api/auth/logout");
    },
    onSuccess: () => {
      client.clear();
      client.setQueryData(authKeys.me(), null);
    },
  });
}

/** Changes the caller's password (`POST /api/auth/password`); other sessions are revoked. */
export async function changePassword(
  currentPassword: string,
  newPassword: string,
): Promise<number> {
  const { data, error, response } = await api.POST("/api/auth/password", {
    body: { current_password: currentPassword, new_password: newPassword },
  });
  if (!data) throw refused(error, response.status);
  return data.revoked_sessions;
}

export function useChangePassword() {
  return useMutation({
    mutationFn: ({ current, next }: { current: string; next: string }) =>
      changePassword(current, next),
  });
}
