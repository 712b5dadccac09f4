import { useEffect, useRef } from "react";
import {
  fetchManyPorts,
  indexCatalog,
  type OperatorPorts,
  type PortsQuestion,
  useOperators,
} from "../api/operators";
import { useCanvasStore } from "../canvas/canvas-store";
import type { NodePorts } from "../canvas/canvas-types";

/**
 * Operators whose ports depend on their params (a template's variables, a join's input count) get
 * their concrete ports from `POST /api/operators/ports` whenever those params change.
 *
 * One request per round asks for every distinct (operator, version, params), however many nodes
 * share them, and its answers land in the store in a single update: opening a flow with hundreds of
 * such nodes costs one request and re-renders the canvas once, not once per node. A request still in flight is never
 * cancelled by another edit (only by leaving the editor); an answer for params that have changed
 * since is dropped, the newer request's answer wins.
 */
export function useDynamicPorts(): void {
  const { data: catalog } = useOperators();
  const nodes = useCanvasStore((state) => state.nodes);
  /** Per node id: the key whose ports were asked for (answered or in flight). */
  const fetched = useRef(new Map<string, string>());
  const controller = useRef<AbortController | null>(null);
  useEffect(() => {
    const current = new AbortController();
    controller.current = current;
    return () => current.abort();
  }, []);
  useEffect(() => {
    const byId = indexCatalog(catalog);
    const timer = setTimeout(
      () => {
        const signal = controller.current?.signal;
        const questions = new Map<string, PortsQuestion>();
        const wanted: { readonly id: string; readonly key: string }[] = [];
        for (const node of nodes) {
          if (node.type !== "operator") continue;
          const operator = byId.get(node.data.operator);
          if (!operator || !(operator.dynamic_inputs || operator.dynamic_outputs)) continue;
          const { operator: operatorId, operatorVersion, params } = node.data;
          const key = JSON.stringify([operatorId, operatorVersion, params]);
          if (fetched.current.get(node.id) === key) continue;
          fetched.current.set(node.id, key);
          wanted.push({ id: node.id, key });
          if (!questions.has(key)) {
            questions.set(key, { operator: operatorId, version: operatorVersion, params });
          }
        }
        if (!wanted.length) return;
        const keys = [...questions.keys()];
        const answers = new Map<string, OperatorPorts | null>();
        void fetchManyPorts([...questions.values()], signal)
          .then(
            (ports) => {
              for (const [index, key] of keys.entries()) answers.set(key, ports[index] ?? null);
            },
            () => undefined, // nothing answered: every node is asked again next round
          )
          .then(() => {
            if (signal?.aborted) return;
            const updates = new Map<string, NodePorts>();
            for (const { id, key } of wanted) {
              if (fetched.current.get(id) !== key) continue;
              const ports = answers.get(key);
              if (ports) updates.set(id, ports);
              else fetched.current.delete(id);
            }
            if (updates.size) useCanvasStore.getState().setPorts(updates);
          });
      },
      // The flow just loaded asks at once (its edges into dynamic ports wait for the answers);
      // edits are debounced.
      fetched.current.size ? 250 : 0,
    );
    return () => clearTimeout(timer);
  }, [catalog, nodes]);
}
