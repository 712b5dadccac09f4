import { createContext, useContext } from "react";
import type { ResolvedPorts } from "./connection-rules";

/**
 * Concrete port types of every node, generics inferred from the connections (as the compiler does),
 * computed once per graph change by the canvas and read by the nodes for their handle labels.
 */
export const ResolvedTypesContext = createContext<ReadonlyMap<string, ResolvedPorts>>(new Map());

export function useResolvedPorts(nodeId: string): ResolvedPorts | undefined {
  return useContext(ResolvedTypesContext).get(nodeId);
}
