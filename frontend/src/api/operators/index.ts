import { queryOptions, useQuery } from "@tanstack/react-query";
import { ApiError, api, type Schemas } from "../client";

export type OperatorCatalog = Schemas["OperatorCatalog"];
export type OperatorRead = Schemas["OperatorRead"];
export type PortRead = Schemas["PortRead"];
export type CategoryRead = Schemas["CategoryRead"];
export type OperatorPorts = Schemas["OperatorPorts"];

export const operatorKeys = {
  all: ["operators"] as const,
  catalog: () => [...operatorKeys.all, "catalog"] as const,
  ports: (operatorId: string, version: number, params: unknown) =>
    [...operatorKeys.all, "ports", operatorId, version, params] as const,
};

/** `GET /api/operators`: every operator with params schema, ports and the type rules. */
export const operatorsQueryOptions = () =>
  queryOptions({
    queryKey: operatorKeys.catalog(),
    queryFn: async ({ signal }) => {
      const result = await api.GET("/api/operators", { signal });
      if (!result.data) {
        throw new ApiError(`GET /api/operators answered ${result.response.status}`);
      }
      return result.data;
    },
    staleTime: 5 * 60_000,
  });

export const useOperators = () => useQuery(operatorsQueryOptions());

const indexes = new WeakMap<OperatorCatalog, ReadonlyMap<string, OperatorRead>>();
const EMPTY: ReadonlyMap<string, OperatorRead> = new Map();

/**
 * The latest version of each operator, by id (older versions only matter to saved flows). Built once
 * per catalog: every node of the canvas looks its operator up on each render.
 */
export function indexCatalog(
  catalog: OperatorCatalog | undefined,
): ReadonlyMap<string, OperatorRead> {
  if (!catalog) return EMPTY;
  const known = indexes.get(catalog);
  if (known) return known;
  const byId = new Map<string, OperatorRead>();
  for (const operator of catalog.operators) {
    const current = byId.get(operator.id);
    if (!current || operator.latest) byId.set(operator.id, operator);
  }
  indexes.set(catalog, byId);
  return byId;
}

/** One node of a `fetchManyPorts` round. */
export interface PortsQuestion {
  readonly operator: string;
  readonly version: number;
  readonly params: Record<string, unknown>;
}

/**
 * `POST /api/operators/ports`: the ports of many nodes in one request, in order (`null` for a node the
 * server could not answer: unknown operator, invalid params). A refused request answers `null` for all.
 */
export async function fetchManyPorts(
  questions: readonly PortsQuestion[],
  signal?: AbortSignal,
): Promise<(OperatorPorts | null)[]> {
  const { data } = await api.POST("/api/operators/ports", {
    body: {
      nodes: questions.map((q) => ({ operator: q.operator, version: q.version, params: q.params })),
    },
    signal,
  });
  return questions.map((_, index) => data?.[index]?.ports ?? null);
}
