import { queryOptions, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, type Schemas } from "../client";
import { apiFailure } from "../flows";

export type Evaluation = Schemas["EvaluationRecord"];
export type EvaluationItem = Schemas["EvaluationItem"];
export type Comparison = Schemas["Comparison"];
export type ComparisonRow = Schemas["ComparisonRow"];
export type EvaluationStart = Schemas["EvaluationStart"];

export const evaluationKeys = {
  all: ["evaluations"] as const,
  list: (flowId: string | null) => [...evaluationKeys.all, "list", flowId ?? ""] as const,
  detail: (id: string) => [...evaluationKeys.all, "detail", id] as const,
  compare: (a: string, b: string) => [...evaluationKeys.all, "compare", a, b] as const,
};

/** Where the editor compares two evaluations (`a`: the earlier one). */
export const comparePath = (a: string, b: string) =>
  `/evaluations/compare/${encodeURIComponent(a)}/${encodeURIComponent(b)}`;

export const evaluationsQueryOptions = (flowId: string | null) =>
  queryOptions({
    queryKey: evaluationKeys.list(flowId),
    queryFn: async ({ signal }) => {
      const { data, error, response } = await api.GET("/api/evaluations", {
        params: { query: flowId ? { flow_id: flowId } : {} },
        signal,
      });
      if (!data) throw apiFailure("Listing evaluations failed", error, response.status);
      return data.items;
    },
  });

/** Evaluations, newest first; refreshed every few seconds while one is still running. */
export const useEvaluations = (flowId: string | null) =>
  useQuery({
    ...evaluationsQueryOptions(flowId),
    refetchInterval: (query) =>
      query.state.data?.some((evaluation) => evaluation.status === "running") ? 3000 : false,
  });

export const useComparison = (a: string, b: string) =>
  useQuery({
    queryKey: evaluationKeys.compare(a, b),
    queryFn: async ({ signal }) => {
      const { data, error, response } = await api.GET("/api/evaluations/compare", {
        params: { query: { a, b } },
        signal,
      });
      if (!data) throw apiFailure("Comparing the evaluations failed", error, response.status);
      return data;
    },
  });

export function useStartEvaluation() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (body: EvaluationStart) => {
      const { data, error, response } = await api.POST("/api/evaluations", { body });
      if (!data) throw apiFailure("Starting the evaluation failed", error, response.status);
      return data;
    },
    onSuccess: () => client.invalidateQueries({ queryKey: evaluationKeys.all }),
  });
}

export function useDeleteEvaluation() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (id: string) => {
      const { error, response } = await api.DELETE("/api/evaluations/{evaluation_id}", {
        params: { path: { evaluation_id: id } },
      });
      if (!response.ok) throw apiFailure("Deleting the evaluation failed", error, response.status);
    },
    onSuccess: () => client.invalidateQueries({ queryKey: evaluationKeys.all }),
  });
}
