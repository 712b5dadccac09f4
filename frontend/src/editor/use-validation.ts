import { useEffect } from "react";
import { validateFlow } from "../api/flows";
import { currentDocument, useCanvasStore } from "../canvas/canvas-store";

const DEBOUNCE_MS = 500;

/**
 * Keeps the server's diagnostics (`POST /api/flows/validate`) current: the document is checked by the
 * same compiler that runs it, shortly after every edit, and the findings land on nodes and fields.
 */
export function useLiveValidation(enabled: boolean): void {
  const nodes = useCanvasStore((state) => state.nodes);
  const edges = useCanvasStore((state) => state.edges);
  const meta = useCanvasStore((state) => state.meta);
  // Positions and selection do not change what compiles: only re-validate on a content change.
  const key = JSON.stringify(currentDocument({ meta, nodes, edges }), (name, value) =>
    name === "position" || name === "notes" ? undefined : value,
  );
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` is the trigger; the effect reads the store.
  useEffect(() => {
    if (!enabled) return;
    const controller = new AbortController();
    const timer = setTimeout(() => {
      validateFlow(currentDocument(), controller.signal)
        .then((report) => useCanvasStore.getState().setDiagnostics(report.diagnostics))
        .catch(() => undefined);
    }, DEBOUNCE_MS);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [key, enabled]);
}
