import { useQuery, useQueryClient } from "@tanstack/react-query";
import { ReactFlowProvider, useReactFlow } from "@xyflow/react";
import { lazy, Suspense, useCallback, useEffect, useMemo, useRef, useState } from "react";
import {
  createFlow,
  type FlowRead,
  flowKeys,
  flowQueryOptions,
  restoreFlowVersion,
  saveFlow,
} from "../api/flows";
import { indexCatalog, type OperatorRead, useOperators } from "../api/operators";
import { currentDocument, useCanvasStore } from "../canvas/canvas-store";
import { fitOptions } from "../canvas/canvas-view";
import { FlowCanvas } from "../canvas/flow-canvas";
import { emptyFlowDocument, type FlowDocument, parseFlowJson } from "../canvas/flow-document";
import { EditorToolbar } from "../editor/editor-toolbar";
import { Inspector } from "../editor/inspector";
import { Palette } from "../editor/palette";
import type { SavedFlow } from "../editor/playground";
import { inputValue, useRunInputSpecs } from "../editor/run-inputs";
import { RunPanel } from "../editor/run-panel";
import { useDynamicPorts } from "../editor/use-dynamic-ports";
import { useEditorShortcuts } from "../editor/use-editor-shortcuts";
import { useLiveValidation } from "../editor/use-validation";
import { VersionsPanel } from "../editor/versions-panel";
import { useRunStore } from "../runs/run-store";
import { useRunSession } from "../runs/use-run-session";
import { navigate, setNavigationGuard, useParams } from "./router";

const UNSAVED = "This flow has unsaved changes. Leave without saving?";

/** Asks before leaving the page (reload, close, in-app links) while there are unsaved changes. */
function useUnsavedGuard(): void {
  useEffect(() => {
    const onBeforeUnload = (event: BeforeUnloadEvent) => {
      if (!useCanvasStore.getState().dirty) return;
      event.preventDefault();
      event.returnValue = "";
    };
    window.addEventListener("beforeunload", onBeforeUnload);
    setNavigationGuard(() => !useCanvasStore.getState().dirty || window.confirm(UNSAVED));
    return () => {
      window.removeEventListener("beforeunload", onBeforeUnload);
      setNavigationGuard(null);
    };
  }, []);
}

function download(doc: FlowDocument): void {
  const blob = new Blob([`${JSON.stringify(doc, null, 2)}\n`], { type: "application/json" });
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = `${(doc.name || "flow").replace(/[^\w.-]+/g, "-")}.json`;
  link.click();
  URL.revokeObjectURL(url);
}

/** Loaded when first opened: the chat (markdown, charts) stays out of the editor's first load. */
const Playground = lazy(() =>
  import("../editor/playground").then((m) => ({ default: m.Playground })),
);

function EditorWorkspace({ flowId }: { readonly flowId: string | null }) {
  const client = useQueryClient();
  const { data: catalog } = useOperators();
  const lookup = useMemo(() => {
    const byId = indexCatalog(catalog);
    return (id: string) => byId.get(id);
  }, [catalog]);
  const flow = useQuery({ ...flowQueryOptions(flowId ?? ""), enabled: flowId !== null });
  const loaded = useRef<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [showVersions, setShowVersions] = useState(false);
  const [showPlayground, setShowPlayground] = useState(false);
  const [saving, setSaving] = useState(false);
  const { fitView, screenToFlowPosition } = useReactFlow();
  const session = useRunSession();
  const meta = useCanvasStore((state) => state.meta);
  const runInputs = useRunInputSpecs();

  // Load the stored flow once per id (after the catalog, which gives the nodes their ports).
  useEffect(() => {
    const key = flowId ?? "new";
    if (loaded.current === key || !catalog) return;
    if (flowId === null) {
      useCanvasStore.getState().load(emptyFlowDocument(), lookup);
      loaded.current = key;
    } else if (flow.data) {
      useCanvasStore.getState().load(flow.data.document, lookup);
      useCanvasStore.getState().setDiagnostics(flow.data.validation.diagnostics);
      loaded.current = key;
      // The mark tells bench/canvas_bench.mjs (and the browser's profiler) when the opened flow is framed.
      window.setTimeout(
        () =>
          void fitView(fitOptions("open")).then(() => performance.mark("rivulet:canvas-fitted")),
        50,
      );
    }
  }, [flowId, flow.data, catalog, lookup, fitView]);

  useUnsavedGuard();
  useDynamicPorts();
  useLiveValidation(loaded.current !== null);

  const applySaved = useCallback(
    (saved: FlowRead) => {
      const store = useCanvasStore.getState();
      store.markSaved(saved.document);
      store.setDiagnostics(saved.validation.diagnostics);
      client.setQueryData(flowKeys.detail(saved.summary.id), saved);
      void client.invalidateQueries({ queryKey: [...flowKeys.all, "list"] });
      void client.invalidateQueries({ queryKey: flowKeys.versions(saved.summary.id) });
      if (flowId !== saved.summary.id) {
        loaded.current = saved.summary.id;
        navigate(`/flows/${saved.summary.id}${window.location.search}`, {
          replace: true,
          force: true,
        });
      }
    },
    [client, flowId],
  );

  const save = useCallback(async (): Promise<FlowRead | null> => {
    const { meta: current } = useCanvasStore.getState();
    setSaving(true);
    try {
      const doc = currentDocument();
      const saved = current.id
        ? await saveFlow(current.id, doc, current.version || null)
        : await createFlow(doc);
      applySaved(saved);
      setNotice(`Saved version ${saved.summary.version}`);
      return saved;
    } catch (error) {
      setNotice(error instanceof Error ? error.message : String(error));
      return null;
    } finally {
      setSaving(false);
    }
  }, [applySaved]);

  /** The flow as stored, saved first when it has unsaved changes; `null` when saving failed. */
  const ensureSaved = useCallback(async (): Promise<SavedFlow | null> => {
    const state = useCanvasStore.getState();
    if (!state.dirty && state.meta.id) return { id: state.meta.id, version: state.meta.version };
    const saved = await save();
    return saved ? { id: saved.summary.id, version: saved.summary.version } : null;
  }, [save]);

  const run = useCallback(
    async (options: { from_node?: string } = {}) => {
      const target = await ensureSaved();
      if (!target) return;
      const typed = useRunStore.getState().inputs;
      const missing = runInputs.find((spec) => spec.required && !typed[spec.name]);
      if (missing) {
        useRunStore
          .getState()
          .setError(`The run input '${missing.name}' is required: fill it in under Inputs.`);
        return;
      }
      const inputs = Object.fromEntries(
        runInputs
          .filter((spec) => typed[spec.name] !== undefined && typed[spec.name] !== "")
          .map((spec) => [spec.name, inputValue(spec.type, typed[spec.name] ?? "")]),
      );
      try {
        await session.start({ flow_id: target.id, version: target.version, inputs, ...options });
      } catch (error) {
        useRunStore.getState().setError(error instanceof Error ? error.message : String(error));
      }
    },
    [ensureSaved, session, runInputs],
  );

  const restore = useCallback(
    async (version: number) => {
      if (!meta.id) return;
      if (useCanvasStore.getState().dirty && !window.confirm(UNSAVED)) return;
      try {
        const restored = await restoreFlowVersion(meta.id, version);
        useCanvasStore.getState().load(restored.document, lookup);
        applySaved(restored);
        setNotice(`Restored version ${version} as version ${restored.summary.version}`);
        setShowVersions(false);
      } catch (error) {
        setNotice(error instanceof Error ? error.message : String(error));
      }
    },
    [meta.id, lookup, applySaved],
  );

  const importFile = useCallback(
    async (file: File) => {
      try {
        const doc = parseFlowJson(await file.text());
        const { meta: current } = useCanvasStore.getState();
        useCanvasStore
          .getState()
          .load({ ...doc, id: current.id, version: current.version }, lookup);
        useCanvasStore.setState({ dirty: true });
        setNotice(`Imported ${file.name}; save to keep it.`);
        window.setTimeout(() => void fitView(fitOptions("open")), 50);
      } catch (error) {
        setNotice(`Import failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    },
    [lookup, fitView],
  );

  const addAtCentre = useCallback(
    (operator: OperatorRead) => {
      // The middle of the canvas (not of the window); the store moves it off any node already there.
      const box = document.querySelector(".editor__canvas")?.getBoundingClientRect();
      const centre = screenToFlowPosition({
        x: (box ? box.left + box.width / 2 : window.innerWidth / 2) - 110,
        y: (box ? box.top + box.height / 2 : window.innerHeight / 2) - 50,
      });
      useCanvasStore.getState().addOperator(operator, centre);
    },
    [screenToFlowPosition],
  );

  const fit = useCallback(() => void fitView({ ...fitOptions("all"), duration: 200 }), [fitView]);
  const shortcuts = useMemo(
    () => ({ save: () => void save(), run: () => void run(), fit }),
    [save, run, fit],
  );
  useEditorShortcuts(shortcuts);

  useEffect(() => {
    if (!notice) return;
    const timer = setTimeout(() => setNotice(null), 5_000);
    return () => clearTimeout(timer);
  }, [notice]);

  if (flowId && flow.error) {
    return (
      <div className="page">
        <p className="field__error" data-testid="editor-error">
          {flow.error.message}
        </p>
      </div>
    );
  }

  return (
    <div className={`editor${showPlayground ? " editor--playground" : ""}`} data-testid="editor">
      <EditorToolbar
        saving={saving}
        onSave={() => void save()}
        onRun={() => void run()}
        onCancel={session.cancel}
        onFit={fit}
        onImport={(file) => void importFile(file)}
        onExport={() => download(currentDocument())}
        onToggleVersions={() => setShowVersions(!showVersions)}
        onAddNote={(kind) =>
          useCanvasStore
            .getState()
            .addNote(kind, screenToFlowPosition({ x: window.innerWidth / 2, y: 200 }))
        }
      />
      <Palette onAdd={addAtCentre} />
      <main className="editor__canvas">
        <FlowCanvas />
        {notice ? (
          <div className="editor__notice" role="status" data-testid="editor-notice">
            {notice}
          </div>
        ) : null}
        {showVersions && meta.id ? (
          <VersionsPanel
            flowId={meta.id}
            current={meta.version}
            onRestore={(version) => void restore(version)}
            onClose={() => setShowVersions(false)}
          />
        ) : null}
      </main>
      {showPlayground ? (
        <Suspense fallback={<aside className="playground" aria-busy="true" />}>
          <Playground
            flowId={meta.id || null}
            ensureSaved={ensureSaved}
            start={session.start}
            onClose={() => setShowPlayground(false)}
          />
        </Suspense>
      ) : (
        <Inspector onRunFrom={(nodeId) => void run({ from_node: nodeId })} />
      )}
      <RunPanel
        flowId={meta.id || null}
        onOpen={(runId) => session.open(runId, meta.id || null)}
        onCancel={session.cancel}
        onClose={session.close}
        playgroundOpen={showPlayground}
        onTogglePlayground={() => setShowPlayground(!showPlayground)}
      />
    </div>
  );
}

/** `/flows/:flowId` and `/flows/new`: the canvas editor. */
export default function FlowEditorPage() {
  const { flowId } = useParams();
  const id = flowId && flowId !== "new" ? flowId : null;
  return (
    <div className="page page--editor">
      <ReactFlowProvider>
        <EditorWorkspace flowId={id} />
      </ReactFlowProvider>
    </div>
  );
}
