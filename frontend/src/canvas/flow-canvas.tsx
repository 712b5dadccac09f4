import {
  Background,
  BackgroundVariant,
  Controls,
  MiniMap,
  type NodeTypes,
  ReactFlow,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { useShallow } from "zustand/react/shallow";
import { CanvasEmptyHint } from "./canvas-empty-hint";
import { type CanvasState, useCanvasStore } from "./canvas-store";

/**
 * Defined once at module scope so React Flow never sees a new object per render. The generic
 * `OperatorNode` (rendered from the operator catalog) registers here.
 */
const nodeTypes: NodeTypes = {};

const selectCanvas = (state: CanvasState) => ({
  nodes: state.nodes,
  edges: state.edges,
  onNodesChange: state.onNodesChange,
  onEdgesChange: state.onEdgesChange,
  onConnect: state.onConnect,
});

/** The flow editor surface: pan/zoom canvas with grid, controls and minimap. */
export function FlowCanvas() {
  const { nodes, edges, onNodesChange, onEdgesChange, onConnect } = useCanvasStore(
    useShallow(selectCanvas),
  );
  return (
    <div className="flow-canvas" data-testid="flow-canvas">
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onConnect={onConnect}
        colorMode="system"
        fitView
      >
        <Background variant={BackgroundVariant.Dots} gap={20} size={1.2} />
        <Controls position="bottom-left" />
        <MiniMap position="bottom-right" pannable zoomable />
      </ReactFlow>
      {nodes.length === 0 ? <CanvasEmptyHint /> : null}
    </div>
  );
}
