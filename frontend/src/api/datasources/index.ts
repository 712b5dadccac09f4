import { queryOptions, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ApiError, api, type Schemas } from "../client";

/**
 * `/api/datasources`: data sources (databases and uploaded files), their schema, guarded read-only
 * queries, Text2SQL (`ask`) and ChatExcel uploads. Every path and body type comes from the
 * generated OpenAPI client.
 */

/** A data source as the API shows it (`DatasourceView`): never a credential. */
export type Datasource = Schemas["DatasourceView"];
export type DatasourceKind = Datasource["kind"];
export type DatasourceSpec = Schemas["DatasourceSpec"];
/** `PATCH /{name}`: changes (an absent field keeps its value; `password` is write-only). */
export type DatasourceUpdate = Schemas["DatasourceUpdate"];
export type Text2SQLExample = Schemas["Text2SQLExample"];
export type DatasourceTest = Schemas["DatasourceTest"];
export type SchemaInfo = Schemas["SchemaInfo"];
export type TableInfo = Schemas["TableInfo"];
export type ColumnInfo = Schemas["ColumnInfo"];
export type Table = Schemas["Table"];
export type ChartSpec = Schemas["ChartSpec"];
export type QueryRequest = Schemas["QueryRequest"];
/** `POST /{name}/query`: the rows with the chart the server recommends for them (`null`: none fits). */
export type QueryResult = Schemas["QueryResult"];
export type AskRequest = Schemas["AskRequest"];
/** An earlier turn of a conversation sent with a follow-up question: its question and SQL. */
export type AskTurn = Schemas["AskTurn"];
/** `POST /{name}/ask`: Text2SQL's answer (`result`) with the chart recommended for its rows. */
export type AskResult = Schemas["AskResult"];
export type Text2SQLResult = Schemas["Text2SQLResult"];
export type Text2SQLAttempt = Schemas["Text2SQLAttempt"];

/** Defaults of the playground and Ask (the server's own). */
export const QUERY_DEFAULTS = { max_rows: 1000, timeout_s: 30 } as const;
export const ASK_DEFAULTS = { model: "default", max_repairs: 2, max_rows: 1000 } as const;
/** Earlier turns sent with a question (the server keeps no more than these in the prompt). */
export const ASK_HISTORY_TURNS = 10;

/**
 * The `history` of a follow-up question: the last answered turns, oldest first, each with the SQL
 * that answered it (empty when the model wrote none that ran).
 */
export function askHistory(
  turns: readonly { readonly question: string; readonly answer?: AskResult | undefined }[],
): AskTurn[] {
  return turns
    .filter((turn) => turn.answer !== undefined)
    .slice(-ASK_HISTORY_TURNS)
    .map((turn) => ({
      question: turn.question,
      sql: turn.answer?.result.ok ? (turn.answer.result.sql ?? "") : "",
    }));
}

/**
 * An error answer of the API. A guard refusal (`sql_refused`) carries the `rule` it broke and the
 * `reason`; a database failure (`datasource_error`) its `reason` (connect, timeout, query…).
 */
export class DataApiError extends ApiError {
  readonly code: string | undefined;
  readonly rule: string | undefined;
  readonly reason: string | undefined;
  readonly detail: string;

  constructor(
    what: string,
    status: number | undefined,
    body: { code?: string; rule?: string; reason?: string; detail?: string } = {},
  ) {
    const detail = body.detail ?? (status ? `answered ${status}` : "no answer");
    super(`${what}: ${detail}`, status);
    this.name = "DataApiError";
    this.code = body.code;
    this.rule = body.rule;
    this.reason = body.reason;
    this.detail = detail;
  }

  /** The guard refused the SQL (not the database). */
  get refused(): boolean {
    return this.code === "sql_refused";
  }
}

/** The problem document of an error answer as a `DataApiError` (code, rule, reason kept). */
function failure(what: string, error: unknown, status: number): DataApiError {
  const body = (typeof error === "object" && error !== null ? error : {}) as Record<
    string,
    unknown
  >;
  const text = (key: string) => (typeof body[key] === "string" ? (body[key] as string) : undefined);
  return new DataApiError(what, status, {
    code: text("code"),
    rule: text("rule"),
    reason: text("reason"),
    detail: text("detail"),
  });
}

export const datasourceKeys = {
  all: ["datasources"] as const,
  list: () => [...datasourceKeys.all, "list"] as const,
  detail: (name: string) => [...datasourceKeys.all, "detail", name] as const,
  schema: (name: string) => [...datasourceKeys.all, "schema", name] as const,
};

export async function listDatasources(signal?: AbortSignal): Promise<Datasource[]> {
  const { data, error, response } = await api.GET("/api/datasources", { signal });
  if (!data) throw failure("Listing data sources failed", error, response.status);
  return data.items;
}

export const datasourcesQueryOptions = () =>
  queryOptions({
    queryKey: datasourceKeys.list(),
    queryFn: ({ signal }) => listDatasources(signal),
  });

export const useDatasources = () => useQuery(datasourcesQueryOptions());

export const datasourceQueryOptions = (name: string) =>
  queryOptions({
    queryKey: datasourceKeys.detail(name),
    queryFn: async ({ signal }) => {
      const { data, error, response } = await api.GET("/api/datasources/{name}", {
        params: { path: { name } },
        signal,
      });
      if (!data) throw failure(`Loading data source ${name} failed`, error, response.status);
      return data;
    },
  });

export const useDatasource = (name: string) => useQuery(datasourceQueryOptions(name));

export async function fetchSchema(
  name: string,
  options: { refresh?: boolean; signal?: AbortSignal } = {},
): Promise<SchemaInfo> {
  const { data, error, response } = await api.GET("/api/datasources/{name}/schema", {
    params: { path: { name }, query: options.refresh ? { refresh: true } : {} },
    signal: options.signal,
  });
  if (!data) throw failure(`Loading the schema of ${name} failed`, error, response.status);
  return data;
}

export const schemaQueryOptions = (name: string) =>
  queryOptions({
    queryKey: datasourceKeys.schema(name),
    queryFn: ({ signal }) => fetchSchema(name, { signal }),
  });

export const useSchema = (name: string) => useQuery(schemaQueryOptions(name));

function useInvalidateDatasources() {
  const client = useQueryClient();
  return () => client.invalidateQueries({ queryKey: datasourceKeys.all });
}

export function useCreateDatasource() {
  const invalidate = useInvalidateDatasources();
  return useMutation({
    mutationFn: async (body: DatasourceSpec) => {
      const { data, error, response } = await api.POST("/api/datasources", { body });
      if (!data) throw failure("Adding the data source failed", error, response.status);
      return data;
    },
    onSuccess: invalidate,
  });
}

/** Changes a data source (administrators); a new connection drops its cached schema. */
export function useUpdateDatasource(name: string) {
  const invalidate = useInvalidateDatasources();
  return useMutation({
    mutationFn: async (body: DatasourceUpdate) => {
      const { data, error, response } = await api.PATCH("/api/datasources/{name}", {
        params: { path: { name } },
        body,
      });
      if (!data) throw failure(`Saving ${name} failed`, error, response.status);
      return data;
    },
    onSuccess: invalidate,
  });
}

export function useDeleteDatasource() {
  const invalidate = useInvalidateDatasources();
  return useMutation({
    mutationFn: async (name: string) => {
      const { error, response } = await api.DELETE("/api/datasources/{name}", {
        params: { path: { name } },
      });
      if (!response.ok) throw failure(`Deleting ${name} failed`, error, response.status);
    },
    onSuccess: invalidate,
  });
}

export async function testDatasource(name: string): Promise<DatasourceTest> {
  const { data, error, response } = await api.POST("/api/datasources/{name}/test", {
    params: { path: { name } },
  });
  if (!data) throw failure(`Testing ${name} failed`, error, response.status);
  return data;
}

export const useTestDatasource = () => useMutation({ mutationFn: testDatasource });

export function useRefreshSchema(name: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => fetchSchema(name, { refresh: true }),
    onSuccess: (schema) => {
      client.setQueryData(datasourceKeys.schema(name), schema);
      void client.invalidateQueries({ queryKey: datasourceKeys.list() });
      void client.invalidateQueries({ queryKey: datasourceKeys.detail(name) });
    },
  });
}

/**
 * Runs read-only SQL through the guard (the playground): its rows and the server's chart for them;
 * refusals are `sql_refused`.
 */
export async function runQuery(
  name: string,
  query: Pick<QueryRequest, "sql"> & Partial<QueryRequest>,
): Promise<QueryResult> {
  const { data, error, response } = await api.POST("/api/datasources/{name}/query", {
    params: { path: { name } },
    body: { ...QUERY_DEFAULTS, ...query },
  });
  if (!data) throw failure("The query failed", error, response.status);
  return data;
}

export function useRunQuery(name: string) {
  return useMutation({
    mutationFn: (query: Pick<QueryRequest, "sql"> & Partial<QueryRequest>) => runQuery(name, query),
  });
}

export async function ask(
  name: string,
  question: Pick<AskRequest, "question"> & Partial<AskRequest>,
): Promise<AskResult> {
  const { data, error, response } = await api.POST("/api/datasources/{name}/ask", {
    params: { path: { name } },
    body: { ...ASK_DEFAULTS, ...question },
  });
  if (!data) throw failure("Asking failed", error, response.status);
  return data;
}

export function useAsk(name: string) {
  return useMutation({
    mutationFn: (question: Pick<AskRequest, "question"> & Partial<AskRequest>) =>
      ask(name, question),
  });
}

/**
 * ChatExcel: uploads spreadsheets (xlsx, csv…) as a `file` data source owned by the caller; with
 * `name`, the files are added to that source (multipart, streamed to disk by the server).
 */
export async function uploadSpreadsheets(
  files: readonly File[],
  name?: string,
): Promise<Datasource> {
  const { data, error, response } = await api.POST("/api/datasources/uploads", {
    // The generated body type names the multipart fields; the browser writes the boundary.
    body: { files: files as unknown as string[], ...(name ? { name } : {}) },
    bodySerializer: () => {
      const form = new FormData();
      if (name) form.append("name", name);
      for (const file of files) form.append("files", file, file.name);
      return form;
    },
  });
  if (!data) throw failure("Uploading failed", error, response.status);
  return data;
}

export function useUploadSpreadsheets() {
  const invalidate = useInvalidateDatasources();
  return useMutation({
    mutationFn: ({ files, name }: { files: readonly File[]; name?: string }) =>
      uploadSpreadsheets(files, name),
    onSuccess: invalidate,
  });
}
