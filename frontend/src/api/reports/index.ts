import { queryOptions, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, type Schemas } from "../client";
import { apiFailure } from "../flows";

export type Report = Schemas["ReportRecord"];
export type ReportSummary = Schemas["ReportSummary"];
export type ReportChart = Schemas["ReportChart"];
export type ReportUpdate = Schemas["ReportUpdate"];
export type SharedReport = Schemas["SharedReport"];
export type ShareLink = Schemas["ShareLink"];

export const reportKeys = {
  all: ["reports"] as const,
  list: () => [...reportKeys.all, "list"] as const,
  detail: (reportId: string) => [...reportKeys.all, "detail", reportId] as const,
  shared: (token: string) => ["shared-report", token] as const,
};

/** Where the editor shows a report. */
export const reportPath = (reportId: string) => `/reports/${encodeURIComponent(reportId)}`;
/** The standalone HTML file of a report (a download). */
export const reportExportUrl = (reportId: string) =>
  `/api/reports/${encodeURIComponent(reportId)}/export.html`;

export const reportsQueryOptions = () =>
  queryOptions({
    queryKey: reportKeys.list(),
    queryFn: async ({ signal }) => {
      const { data, error, response } = await api.GET("/api/reports", { signal });
      if (!data) throw apiFailure("Listing reports failed", error, response.status);
      return data.items;
    },
  });

export const useReports = () => useQuery(reportsQueryOptions());

export const reportQueryOptions = (reportId: string) =>
  queryOptions({
    queryKey: reportKeys.detail(reportId),
    queryFn: async ({ signal }) => {
      const { data, error, response } = await api.GET("/api/reports/{report_id}", {
        params: { path: { report_id: reportId } },
        signal,
      });
      if (!data) throw apiFailure("Loading the report failed", error, response.status);
      return data;
    },
  });

export const useReport = (reportId: string) => useQuery(reportQueryOptions(reportId));

/** A shared report, by its link token (no login needed). */
export const useSharedReport = (token: string) =>
  useQuery({
    queryKey: reportKeys.shared(token),
    retry: false,
    queryFn: async ({ signal }) => {
      const { data, error, response } = await api.GET("/api/reports/shared/{token}", {
        params: { path: { token } },
        signal,
      });
      if (!data) throw apiFailure("Opening the shared report failed", error, response.status);
      return data;
    },
  });

function useInvalidateReports() {
  const client = useQueryClient();
  return () => client.invalidateQueries({ queryKey: reportKeys.all });
}

export function useUpdateReport(reportId: string) {
  const invalidate = useInvalidateReports();
  return useMutation({
    mutationFn: async (body: ReportUpdate) => {
      const { data, error, response } = await api.PATCH("/api/reports/{report_id}", {
        params: { path: { report_id: reportId } },
        body,
      });
      if (!data) throw apiFailure("Saving the report failed", error, response.status);
      return data;
    },
    onSuccess: invalidate,
  });
}

export function useDeleteReport() {
  const invalidate = useInvalidateReports();
  return useMutation({
    mutationFn: async (reportId: string) => {
      const { error, response } = await api.DELETE("/api/reports/{report_id}", {
        params: { path: { report_id: reportId } },
      });
      if (!response.ok) throw apiFailure("Deleting the report failed", error, response.status);
    },
    onSuccess: invalidate,
  });
}

export function useShareReport(reportId: string) {
  const invalidate = useInvalidateReports();
  return useMutation({
    mutationFn: async () => {
      const { data, error, response } = await api.POST("/api/reports/{report_id}/share", {
        params: { path: { report_id: reportId } },
      });
      if (!data) throw apiFailure("Creating the share link failed", error, response.status);
      return data;
    },
    onSuccess: invalidate,
  });
}

export function useRevokeShare(reportId: string) {
  const invalidate = useInvalidateReports();
  return useMutation({
    mutationFn: async () => {
      const { error, response } = await api.DELETE("/api/reports/{report_id}/share", {
        params: { path: { report_id: reportId } },
      });
      if (!response.ok) throw apiFailure("Revoking the share link failed", error, response.status);
    },
    onSuccess: invalidate,
  });
}
