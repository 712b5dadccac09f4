/** Shown over an empty canvas; ignores the pointer so panning still works underneath. */
export function CanvasEmptyHint() {
  return (
    <div className="canvas-empty-hint">
      <p className="canvas-empty-hint__title">This canvas is empty</p>
      <p>Operators will be added from the palette. Scroll to zoom, drag to pan.</p>
    </div>
  );
}
