import { lazy, Suspense, useRef, useState } from "react";
import { useShallow } from "zustand/react/shallow";
import { autoLayout } from "../canvas/auto-layout";
import { isError, useCanvasStore } from "../canvas/canvas-store";
import { Link } from "../routes/router";
import { isRunActive } from "../runs/run-state";
import { useRunStore } from "../runs/run-store";

/** Loaded when first opened (the publishing forms stay out of the editor's first load). */
const PublishDialog = lazy(() =>
  import("../publishing/publish-dialog").then((m) => ({ default: m.PublishDialog })),
);

export interface EditorToolbarProps {
  readonly saving: boolean;
  readonly onSave: () => void;
  readonly onRun: () => void;
  readonly onCancel: () => void;
  readonly onFit: () => void;
  readonly onImport: (file: File) => void;
  readonly onExport: () => void;
  readonly onToggleVersions: () => void;
  readonly onAddNote: (kind: "note" | "group") => void;
}

/** Flow name, history (undo/redo), layout, import/export, versions, save and run. */
export function EditorToolbar(props: EditorToolbarProps) {
  const { meta, dirty, canUndo, canRedo, errors } = useCanvasStore(
    useShallow((state) => ({
      meta: state.meta,
      dirty: state.dirty,
      canUndo: state.past.length > 0,
      canRedo: state.future.length > 0,
      errors: state.diagnostics.filter((item) => isError(item)).length,
    })),
  );
  const runStatus = useRunStore((state) => state.view?.status);
  const running = runStatus ? isRunActive(runStatus) : false;
  const fileInput = useRef<HTMLInputElement>(null);
  const [publishing, setPublishing] = useState(false);
  const layout = async () => {
    const { nodes, edges, applyPositions } = useCanvasStore.getState();
    applyPositions(await autoLayout(nodes, edges));
    window.setTimeout(props.onFit, 30);
  };
  return (
    <div className="editor__toolbar" data-testid="editor-toolbar">
      <nav className="breadcrumbs" aria-label="Breadcrumb">
        <Link to="/flows">Flows</Link>
        <span aria-hidden="true">/</span>
      </nav>
      <input
        className="editor__name"
        value={meta.name}
        aria-label="Flow name"
        data-testid="flow-name"
        onChange={(event) => useCanvasStore.getState().setMeta({ name: event.target.value })}
      />
      <span className="badge" data-testid="flow-version">
        {meta.id ? `v${meta.version}` : "new"}
      </span>
      {dirty ? (
        <span className="badge badge--warn" data-testid="dirty-badge">
          Unsaved
        </span>
      ) : null}
      {errors ? (
        <span className="badge badge--error" data-testid="diagnostics-badge">
          {errors} {errors === 1 ? "problem" : "problems"}
        </span>
      ) : null}
      <div className="toolbar-group">
        <button
          type="button"
          className="icon-button"
          onClick={() => useCanvasStore.getState().undo()}
          disabled={!canUndo}
          title="Undo (Ctrl-Z)"
          data-testid="undo"
        >
          ↶
        </button>
        <button
          type="button"
          className="icon-button"
          onClick={() => useCanvasStore.getState().redo()}
          disabled={!canRedo}
          title="Redo (Ctrl-Shift-Z)"
          data-testid="redo"
        >
          ↷
        </button>
      </div>
      <div className="toolbar-group">
        <button
          type="button"
          className="icon-button"
          onClick={() => void layout()}
          title="Auto-layout (elk)"
          data-testid="auto-layout"
        >
          Layout
        </button>
        <button type="button" className="icon-button" onClick={props.onFit} title="Zoom to fit (F)">
          Fit
        </button>
        <button
          type="button"
          className="icon-button"
          onClick={() => props.onAddNote("note")}
          title="Add a sticky note"
          data-testid="add-note"
        >
          Note
        </button>
        <button
          type="button"
          className="icon-button"
          onClick={() => props.onAddNote("group")}
          title="Add a group frame"
        >
          Group
        </button>
      </div>
      <div className="toolbar-group">
        <button
          type="button"
          className="icon-button"
          onClick={() => fileInput.current?.click()}
          title="Import a flow JSON file"
          data-testid="import"
        >
          Import
        </button>
        <input
          ref={fileInput}
          type="file"
          accept="application/json,.json"
          hidden
          data-testid="import-file"
          onChange={(event) => {
            const file = event.target.files?.[0];
            if (file) props.onImport(file);
            event.target.value = "";
          }}
        />
        <button
          type="button"
          className="icon-button"
          onClick={props.onExport}
          title="Download the flow as JSON"
          data-testid="export"
        >
          Export
        </button>
        <button
          type="button"
          className="icon-button"
          onClick={props.onToggleVersions}
          disabled={!meta.id}
          title="Version history"
          data-testid="versions"
        >
          History
        </button>
      </div>
      <div className="editor__actions">
        <button
          type="button"
          className="button button--ghost"
          onClick={() => setPublishing(true)}
          disabled={!meta.id}
          title={meta.id ? "Publish as an endpoint or a chat app" : "Save the flow first"}
          data-testid="publish"
        >
          Publish
        </button>
        <button
          type="button"
          className="button button--ghost"
          onClick={props.onSave}
          disabled={props.saving}
          title="Save a new version (Ctrl-S)"
          data-testid="save"
        >
          {props.saving ? "Saving…" : "Save"}
        </button>
        {running ? (
          <button
            type="button"
            className="button button--danger"
            onClick={props.onCancel}
            data-testid="cancel-run"
          >
            Cancel run
          </button>
        ) : (
          <button
            type="button"
            className="button button--primary"
            onClick={props.onRun}
            title="Run the flow (Ctrl-Enter)"
            data-testid="run"
          >
            ▶ Run
          </button>
        )}
      </div>
      {publishing && meta.id ? (
        <Suspense fallback={null}>
          <PublishDialog
            flowId={meta.id}
            flowName={meta.name}
            onClose={() => setPublishing(false)}
          />
        </Suspense>
      ) : null}
    </div>
  );
}
