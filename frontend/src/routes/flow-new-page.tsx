import { FlowCanvas } from "../canvas/flow-canvas";
import { Link } from "./router";

/** `/flows/new`: an empty canvas until the editor (palette, inspector, runs) lands. */
export default function FlowNewPage() {
  return (
    <div className="page page--full">
      <div className="canvas-toolbar">
        <nav className="breadcrumbs" aria-label="Breadcrumb">
          <Link to="/flows">Flows</Link>
          <span aria-hidden="true">/</span>
          <span aria-current="page">Untitled flow</span>
        </nav>
        <span className="badge">Draft</span>
      </div>
      <FlowCanvas />
    </div>
  );
}
