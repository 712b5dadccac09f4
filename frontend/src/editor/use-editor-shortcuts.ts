import { useEffect } from "react";
import { indexCatalog, useOperators } from "../api/operators";
import { useCanvasStore } from "../canvas/canvas-store";
import { copyFragment, parseFragment } from "../canvas/clipboard-fragment";

/** Where a copied fragment is also kept, so paste works across tabs without clipboard permission. */
const CLIPBOARD_KEY = "rivulet.clipboard";

export interface ShortcutActions {
  readonly save: () => void;
  readonly run: () => void;
  readonly fit: () => void;
}

function isTyping(target: EventTarget | null): boolean {
  const element = target as HTMLElement | null;
  if (!element) return false;
  return (
    element.isContentEditable ||
    element.tagName === "INPUT" ||
    element.tagName === "TEXTAREA" ||
    element.tagName === "SELECT"
  );
}

export async function copySelection(): Promise<number> {
  const { nodes, edges } = useCanvasStore.getState();
  const fragment = copyFragment(nodes, edges);
  if (!fragment.nodes.length && !fragment.notes.length) return 0;
  const text = JSON.stringify(fragment);
  window.localStorage.setItem(CLIPBOARD_KEY, text);
  await navigator.clipboard?.writeText(text).catch(() => undefined);
  return fragment.nodes.length + fragment.notes.length;
}

async function readFragment() {
  const system = await navigator.clipboard?.readText().catch(() => null);
  return (
    (system ? parseFragment(system) : null) ??
    parseFragment(window.localStorage.getItem(CLIPBOARD_KEY) ?? "")
  );
}

/**
 * Editor keyboard shortcuts (docs/editor.md): undo/redo, copy/cut/paste (through the system
 * clipboard, so between flows too), select all, save, run and fit. Ignored while typing in a field.
 */
export function useEditorShortcuts(actions: ShortcutActions): void {
  const { data: catalog } = useOperators();
  useEffect(() => {
    const lookup = (id: string) => indexCatalog(catalog).get(id);
    const onKeyDown = (event: KeyboardEvent) => {
      const mod = event.ctrlKey || event.metaKey;
      const key = event.key.toLowerCase();
      if (mod && key === "s") {
        event.preventDefault();
        actions.save();
        return;
      }
      if (mod && key === "enter") {
        event.preventDefault();
        actions.run();
        return;
      }
      if (isTyping(event.target)) return;
      const store = useCanvasStore.getState();
      if (mod && key === "z") {
        event.preventDefault();
        if (event.shiftKey) store.redo();
        else store.undo();
      } else if (mod && key === "y") {
        event.preventDefault();
        store.redo();
      } else if (mod && key === "a") {
        event.preventDefault();
        store.selectAll();
      } else if (mod && (key === "c" || key === "x")) {
        void copySelection().then((count) => {
          if (count && key === "x") useCanvasStore.getState().deleteSelected();
        });
      } else if (mod && key === "v") {
        event.preventDefault();
        void readFragment().then((fragment) => {
          if (fragment) useCanvasStore.getState().paste(fragment, lookup);
        });
      } else if (!mod && key === "f") {
        actions.fit();
      }
    };
    window.addEventListener("keydown", onKeyDown);
    return () => window.removeEventListener("keydown", onKeyDown);
  }, [actions, catalog]);
}
