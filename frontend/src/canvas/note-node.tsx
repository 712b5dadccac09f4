import { type NodeProps, NodeResizer } from "@xyflow/react";
import { memo } from "react";
import { useCanvasStore } from "./canvas-store";
import type { NoteCanvasNode } from "./canvas-types";

function NoteNodeView({ id, data, selected }: NodeProps<NoteCanvasNode>) {
  const updateNote = useCanvasStore((state) => state.updateNote);
  const group = data.kind === "group";
  return (
    <div className={`note-node note-node--${data.kind}`} data-testid={`note-${id}`}>
      <NodeResizer isVisible={selected} minWidth={140} minHeight={60} />
      {group ? (
        <input
          className="note-node__title nodrag"
          value={data.text}
          aria-label="Group title"
          onChange={(event) => updateNote(id, event.target.value)}
        />
      ) : (
        <textarea
          className="note-node__text nodrag nowheel"
          value={data.text}
          placeholder="Write a note…"
          aria-label="Note"
          onChange={(event) => updateNote(id, event.target.value)}
        />
      )}
    </div>
  );
}

/** Sticky notes and group frames (they never run; saved in the document's `notes`). */
export const NoteNode = memo(NoteNodeView);
