import { queryOptions, useQuery } from "@tanstack/react-query";
import { api, type Schemas } from "../client";
import { apiFailure } from "../flows";

export type RunRecord = Schemas["RunRecord"];
export type RunDetail = Schemas["RunDetail"];
export type NodeRunRecord = Schemas["NodeRunRecord"];
export type ErrorInfo = Schemas["ErrorInfo"];
/** The `rivulet.events/v1` union (docs/events.md). */
export type RunEvent =
  | Schemas["RunStarted"]
  | Schemas["NodeStarted"]
  | Schemas["NodeProgress"]
  | Schemas["NodeChunk"]
  | Schemas["NodeOutput"]
  | Schemas["NodeSucceeded"]
  | Schemas["NodeFailed"]
  | Schemas["NodeSkipped"]
  | Schemas["RunFinished"]
  | Schemas["RunCancelled"];
export type RunStatus = RunRecord["status"];

export const runKeys = {
  all: ["runs"] as const,
  list: (flowId: string | null) => [...runKeys.all, "list", flowId] as const,
  detail: (runId: string, lastSeq: number) => [...runKeys.all, "detail", runId, lastSeq] as const,
  events: (runId: string) => [...runKeys.all, "events", runId] as const,
};

export const runListQueryOptions = (flowId: string | null) =>
  queryOptions({
    queryKey: runKeys.list(flowId),
    queryFn: async ({ signal }) => {
      const query = flowId ? { flow_id: flowId, limit: 50 } : { limit: 100 };
      const { data, error, response } = await api.GET("/api/runs", { params: { query }, signal });
      if (!data) throw apiFailure("Listing runs failed", error, response.status);
      return data;
    },
  });

export const useRunList = (flowId: string | null) => useQuery(runListQueryOptions(flowId));

/** `GET /api/runs/{id}`: node states with their input and output previews. */
export const useRunDetail = (runId: string | null, lastSeq: number) =>
  useQuery({
    queryKey: runKeys.detail(runId ?? "", lastSeq),
    enabled: runId !== null,
    queryFn: async ({ signal }) => {
      const { data, error, response } = await api.GET("/api/runs/{run_id}", {
        params: { path: { run_id: runId ?? "" } },
        signal,
      });
      if (!data) throw apiFailure("Loading the run failed", error, response.status);
      return data;
    },
  });

/** Every stored event of a run (for replay). */
export async function fetchRunEvents(runId: string): Promise<RunEvent[]> {
  const events: RunEvent[] = [];
  for (;;) {
    const { data, error, response } = await api.GET("/api/runs/{run_id}/events", {
      params: {
        path: { run_id: runId },
        query: { after_seq: events.at(-1)?.seq ?? 0, limit: 1000 },
      },
    });
    if (!data) throw apiFailure("Loading run events failed", error, response.status);
    events.push(...(data as RunEvent[]));
    if (data.length < 1000) return events;
  }
}

export async function cancelRun(runId: string): Promise<void> {
  const { error, response } = await api.POST("/api/runs/{run_id}/cancel", {
    params: { path: { run_id: runId } },
  });
  if (!response.ok) throw apiFailure("Cancelling failed", error, response.status);
}
