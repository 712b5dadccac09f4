import { queryOptions, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ApiError } from "../client";

/**
 * `/api/datasources`: data sources (databases and uploaded files), their schema, guarded read-only
 * queries, Text2SQL (`ask`) and ChatExcel uploads.
 */

export type DatasourceKind = "postgres" | "mysql" | "sqlite" | "duckdb" | "file";

export interface FileTable {
  readonly table?: string | null;
  readonly path: string;
  readonly format?: string | null;
  readonly sheet?: string | null;
}

/**
 * A data source as the API shows it (`DatasourceView`): never a credential. `has_password` says
 * one is stored (administrators only; `null` for others).
 */
export interface Datasource {
  readonly id: string;
  readonly name: string;
  readonly kind: DatasourceKind;
  readonly dialect: string;
  readonly description?: string;
  readonly config?: Readonly<Record<string, unknown>>;
  readonly has_password?: boolean | null;
  readonly password_secret?: string | null;
  readonly examples?: number;
  /** Who uploaded a file data source (`null`: administrators' data sources). */
  readonly owner_id?: string | null;
  /** Tables in the cached schema (`null` before the first introspection). */
  readonly table_count?: number | null;
  readonly schema_refreshed_at?: string | null;
  readonly created_at?: string;
  readonly updated_at?: string;
}

/** What the add dialog sends (`DatasourceSpec`). */
export interface DatasourceSpec {
  name: string;
  kind: DatasourceKind;
  description?: string;
  host?: string | null;
  port?: number | null;
  database?: string | null;
  user?: string | null;
  password?: string | null;
  path?: string | null;
  files?: FileTable[];
}

export interface DatasourceTest {
  readonly ok: boolean;
  readonly latency_ms?: number;
  readonly server?: string;
  readonly tables?: number;
  readonly error?: string | null;
}

export interface ColumnInfo {
  readonly name: string;
  readonly type: string;
  readonly nullable?: boolean;
  readonly primary_key?: boolean;
  readonly references?: string | null;
  readonly comment?: string;
  readonly samples?: readonly unknown[];
}

export interface TableInfo {
  readonly name: string;
  readonly kind?: "table" | "view";
  readonly comment?: string;
  readonly columns?: readonly ColumnInfo[];
  readonly row_count?: number | null;
}

export interface SchemaInfo {
  readonly datasource: string;
  readonly dialect: string;
  readonly tables: readonly TableInfo[];
  readonly refreshed_at?: string | null;
}

export interface Table {
  readonly columns: readonly string[];
  readonly rows: readonly (readonly unknown[])[];
  readonly types?: readonly string[];
  readonly truncated?: boolean;
}

export interface ChartSpec {
  readonly title?: string;
  readonly option: Readonly<Record<string, unknown>>;
  readonly kind?: string;
}

export interface QueryRequest {
  sql: string;
  params?: Record<string, unknown> | null;
  max_rows?: number;
  timeout_s?: number;
}

export interface Text2SQLAttempt {
  readonly attempt: number;
  readonly raw: string;
  readonly sql: string;
  readonly error?: string | null;
  readonly stage?: "extract" | "parse" | "guard" | "execute" | null;
  readonly duration_ms?: number;
}

/** Text2SQL's answer (`Text2SQLResult`). */
export interface Text2SQLResult {
  readonly ok: boolean;
  readonly question: string;
  readonly datasource: string;
  readonly dialect: string;
  readonly sql: string;
  readonly table?: Table | null;
  readonly linked_tables?: readonly string[];
  readonly attempts?: readonly Text2SQLAttempt[];
  readonly error?: string | null;
  readonly model?: string;
}

/** `POST /{name}/ask`: Text2SQL's answer with the chart recommended for its rows. */
export interface AskResult {
  readonly result: Text2SQLResult;
  readonly chart?: ChartSpec | null;
}

export interface AskRequest {
  question: string;
  model?: string;
  max_repairs?: number;
  max_rows?: number;
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

type Body = Record<string, unknown> | FormData | undefined;

const BASE = "/api/datasources";
const path = (name: string, rest = "") => `${BASE}/${encodeURIComponent(name)}${rest}`;

async function call<T>(
  what: string,
  method: string,
  url: string,
  body?: Body,
  signal?: AbortSignal,
): Promise<T> {
  const init: RequestInit = { method, signal, credentials: "same-origin" };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { "content-type": "application/json" };
  }
  let response: Response;
  try {
    response = await globalThis.fetch(new Request(new URL(url, window.location.href), init));
  } catch (reason) {
    throw new DataApiError(what, undefined, {
      detail: reason instanceof Error ? reason.message : String(reason),
    });
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!response.ok) {
    throw new DataApiError(what, response.status, (parsed ?? {}) as Record<string, string>);
  }
  return parsed as T;
}

export const datasourceKeys = {
  all: ["datasources"] as const,
  list: () => [...datasourceKeys.all, "list"] as const,
  detail: (name: string) => [...datasourceKeys.all, "detail", name] as const,
  schema: (name: string) => [...datasourceKeys.all, "schema", name] as const,
};

export async function listDatasources(signal?: AbortSignal): Promise<Datasource[]> {
  const data = await call<{ items: Datasource[] }>(
    "Listing data sources failed",
    "GET",
    BASE,
    undefined,
    signal,
  );
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
    queryFn: ({ signal }) =>
      call<Datasource>(`Loading data source ${name} failed`, "GET", path(name), undefined, signal),
  });

export const useDatasource = (name: string) => useQuery(datasourceQueryOptions(name));

export async function fetchSchema(
  name: string,
  options: { refresh?: boolean; signal?: AbortSignal } = {},
): Promise<SchemaInfo> {
  const query = options.refresh ? "?refresh=true" : "";
  return call<SchemaInfo>(
    `Loading the schema of ${name} failed`,
    "GET",
    path(name, `/schema${query}`),
    undefined,
    options.signal,
  );
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
    mutationFn: (spec: DatasourceSpec) =>
      call<Datasource>("Adding the data source failed", "POST", BASE, { ...spec }),
    onSuccess: invalidate,
  });
}

export function useDeleteDatasource() {
  const invalidate = useInvalidateDatasources();
  return useMutation({
    mutationFn: (name: string) =>
      call<void>(`Deleting ${name} failed`, "DELETE", path(name)).then(() => undefined),
    onSuccess: invalidate,
  });
}

export function useTestDatasource() {
  return useMutation({
    mutationFn: (name: string) =>
      call<DatasourceTest>(`Testing ${name} failed`, "POST", path(name, "/test")),
  });
}

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

/** Runs read-only SQL through the guard (the playground); refusals are `sql_refused`. */
export async function runQuery(name: string, body: QueryRequest): Promise<Table> {
  return call<Table>("The query failed", "POST", path(name, "/query"), { ...body });
}

export function useRunQuery(name: string) {
  return useMutation({ mutationFn: (body: QueryRequest) => runQuery(name, body) });
}

export async function ask(name: string, body: AskRequest): Promise<AskResult> {
  return call<AskResult>("Asking failed", "POST", path(name, "/ask"), { ...body });
}

export function useAsk(name: string) {
  return useMutation({ mutationFn: (body: AskRequest) => ask(name, body) });
}

/**
 * ChatExcel: uploads spreadsheets (xlsx, csv…) as a `file` data source owned by the caller; with
 * `name`, the files are added to that source.
 */
export async function uploadSpreadsheets(
  files: readonly File[],
  name?: string,
): Promise<Datasource> {
  const form = new FormData();
  if (name) form.append("name", name);
  for (const file of files) form.append("files", file, file.name);
  return call<Datasource>("Uploading failed", "POST", `${BASE}/uploads`, form);
}

export function useUploadSpreadsheets() {
  const invalidate = useInvalidateDatasources();
  return useMutation({
    mutationFn: ({ files, name }: { files: readonly File[]; name?: string }) =>
      uploadSpreadsheets(files, name),
    onSuccess: invalidate,
  });
}
