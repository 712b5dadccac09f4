/** Shown over an empty canvas; ignores the pointer so panning still works underneath. */
export function CanvasEmptyHint() {
  return (
    <div className="canvas-empty-hint">
      <p className="canvas-empty-hint__title">This canvas is empty</p>
      <p>Drag operators from the palette on the left. Scroll to zoom, drag to pan.</p>
    </div>
  );
}
