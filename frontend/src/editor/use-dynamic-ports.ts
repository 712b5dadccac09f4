import { useEffect, useRef } from "react";
import { fetchOperatorPorts, indexCatalog, useOperators } from "../api/operators";
import { useCanvasStore } from "../canvas/canvas-store";

/**
 * Operators whose ports depend on their params (a template's variables, a join's input count) get
 * their concrete ports from `POST /api/operators/{id}/ports` whenever those params change.
 */
export function useDynamicPorts(): void {
  const { data: catalog } = useOperators();
  const nodes = useCanvasStore((state) => state.nodes);
  const fetched = useRef(new Map<string, string>());
  useEffect(() => {
    const byId = indexCatalog(catalog);
    const controller = new AbortController();
    const timer = setTimeout(() => {
      for (const node of nodes) {
        if (node.type !== "operator") continue;
        const operator = byId.get(node.data.operator);
        if (!operator || !(operator.dynamic_inputs || operator.dynamic_outputs)) continue;
        const key = JSON.stringify([node.data.operatorVersion, node.data.params]);
        if (fetched.current.get(node.id) === key) continue;
        fetched.current.set(node.id, key);
        fetchOperatorPorts(
          node.data.operator,
          node.data.operatorVersion,
          node.data.params,
          controller.signal,
        )
          .then((ports) => {
            if (ports) useCanvasStore.getState().setPorts(node.id, ports);
            else fetched.current.delete(node.id);
          })
          .catch(() => fetched.current.delete(node.id));
      }
    }, 250);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [catalog, nodes]);
}
