import {
  Background,
  BackgroundVariant,
  type Connection,
  ControlButton,
  Controls,
  type Edge,
  type FinalConnectionState,
  MiniMap,
  type NodeTypes,
  ReactFlow,
  useReactFlow,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { type DragEvent, useCallback, useEffect, useMemo, useRef, useState } from "react";
import { useShallow } from "zustand/react/shallow";
import { indexCatalog, useOperators } from "../api/operators";
import { MapIcon } from "../components/operator-icon";
import { OPERATOR_MIME } from "../editor/palette";
import { useRunStore } from "../runs/run-store";
import { CanvasEmptyHint } from "./canvas-empty-hint";
import { type CanvasState, useCanvasStore } from "./canvas-store";
import type { CanvasNode } from "./canvas-types";
import { fitOptions, MINIMAP_HEIGHT, MINIMAP_WIDTH, useCanvasView } from "./canvas-view";
import { checkConnection, type ResolvedPorts, resolvePortTypes } from "./connection-rules";
import { graphShape, LARGE_FLOW } from "./large-flow";
import { NoteNode } from "./note-node";
import { OperatorNode } from "./operator-node";
import { portColor } from "./port-colors";
import { formatPortType } from "./port-types";
import { ResolvedTypesContext } from "./resolved-types";

/** Defined once at module scope so React Flow never sees a new object per render. */
const nodeTypes: NodeTypes = { operator: OperatorNode, note: NoteNode };

const selectCanvas = (state: CanvasState) => ({
  nodes: state.nodes,
  edges: state.edges,
  onNodesChange: state.onNodesChange,
  onEdgesChange: state.onEdgesChange,
  onConnect: state.onConnect,
  addOperator: state.addOperator,
  refusal: state.refusal,
  refuse: state.refuse,
});

const STATUS_COLORS: Readonly<Record<string, string>> = {
  running: "#3b82f6",
  succeeded: "#22c55e",
  failed: "#ef4444",
  cancelled: "#f59e0b",
  skipped: "#f59e0b",
};

/** Minimap nodes show the run status (notes are pale yellow, idle nodes grey). */
function minimapColor(node: CanvasNode): string {
  if (node.type === "note") return node.data.kind === "group" ? "transparent" : "#fde68a";
  const status = useRunStore.getState().view?.nodes[node.id]?.status;
  return (status && STATUS_COLORS[status]) || "#d4d4d8";
}

/** Edges take the colour of the type they carry, and animate while their target runs. */
function useStyledEdges(
  edges: readonly Edge[],
  resolved: ReadonlyMap<string, ResolvedPorts>,
): Edge[] {
  const running = useRunStore(
    useShallow((state) =>
      Object.entries(state.view?.nodes ?? {})
        .filter(([, node]) => node.status === "running")
        .map(([id]) => id)
        .join(","),
    ),
  );
  return useMemo(() => {
    const active = new Set(running.split(","));
    return edges.map((edge) => {
      const type = resolved.get(edge.source)?.outputs[edge.sourceHandle ?? ""];
      return {
        ...edge,
        animated: active.has(edge.target),
        style: { stroke: type ? portColor(formatPortType(type)) : undefined, strokeWidth: 2 },
      };
    });
  }, [edges, resolved, running]);
}

/** Pointer position while a connection is being drawn (for the refusal tooltip). */
function usePointer(active: boolean) {
  const [pointer, setPointer] = useState({ x: 0, y: 0 });
  useEffect(() => {
    if (!active) return;
    const move = (event: PointerEvent) => setPointer({ x: event.clientX, y: event.clientY });
    window.addEventListener("pointermove", move);
    return () => window.removeEventListener("pointermove", move);
  }, [active]);
  return pointer;
}

/** The flow editor surface: pan/zoom canvas with grid, controls, minimap and operator drops. */
export function FlowCanvas() {
  const { nodes, edges, onNodesChange, onEdgesChange, onConnect, addOperator, refusal, refuse } =
    useCanvasStore(useShallow(selectCanvas));
  const { data: catalog } = useOperators();
  const { screenToFlowPosition } = useReactFlow();
  const [connecting, setConnecting] = useState(false);
  const [hover, setHover] = useState<string | null>(null);
  const lastVerdict = useRef<string | null>(null);
  const pointer = usePointer(connecting);
  // Recomputed when ports or connections change, not when a node moves.
  const shape = graphShape(nodes, edges);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `shape` stands for nodes and edges.
  const resolved = useMemo(() => resolvePortTypes(nodes, edges), [shape]);
  const styledEdges = useStyledEdges(edges, resolved);
  const [toast, setToast] = useState<string | null>(null);
  const minimap = useCanvasView((state) => state.minimap);
  const toggleMinimap = useCanvasView((state) => state.toggleMinimap);

  const isValidConnection = useCallback((connection: Connection | Edge) => {
    const { nodes: current, edges: currentEdges } = useCanvasStore.getState();
    const verdict = checkConnection(connection, current, currentEdges);
    const reason = verdict.ok ? null : verdict.reason;
    lastVerdict.current = reason;
    setHover((previous) => (previous === reason ? previous : reason));
    return verdict.ok;
  }, []);

  const onConnectEnd = useCallback(
    (_event: MouseEvent | TouchEvent, state: FinalConnectionState) => {
      setConnecting(false);
      setHover(null);
      if (state.toHandle && !state.isValid && lastVerdict.current) refuse(lastVerdict.current);
      lastVerdict.current = null;
    },
    [refuse],
  );

  useEffect(() => {
    if (!refusal) return;
    setToast(refusal.reason);
    const timer = setTimeout(() => setToast(null), 4_000);
    return () => clearTimeout(timer);
  }, [refusal]);

  const onDrop = (event: DragEvent<HTMLDivElement>) => {
    const operatorId = event.dataTransfer.getData(OPERATOR_MIME);
    const operator = indexCatalog(catalog).get(operatorId);
    if (!operator) return;
    event.preventDefault();
    addOperator(operator, screenToFlowPosition({ x: event.clientX - 90, y: event.clientY - 20 }));
  };

  return (
    <ResolvedTypesContext.Provider value={resolved}>
      {/* biome-ignore lint/a11y/noStaticElementInteractions: the drop target for palette drags; keyboard users add operators by double-click/Enter in the palette. */}
      <div
        className="flow-canvas"
        data-testid="flow-canvas"
        onDragOver={(event) => {
          if (event.dataTransfer.types.includes(OPERATOR_MIME)) {
            event.preventDefault();
            event.dataTransfer.dropEffect = "copy";
          }
        }}
        onDrop={onDrop}
      >
        <ReactFlow
          nodes={nodes}
          edges={styledEdges}
          nodeTypes={nodeTypes}
          onNodesChange={onNodesChange}
          onEdgesChange={onEdgesChange}
          onConnect={onConnect}
          isValidConnection={isValidConnection}
          onConnectStart={() => setConnecting(true)}
          onConnectEnd={onConnectEnd}
          deleteKeyCode={["Delete", "Backspace"]}
          multiSelectionKeyCode={["Meta", "Control"]}
          selectionOnDrag={false}
          colorMode="system"
          minZoom={0.1}
          onlyRenderVisibleElements={nodes.length >= LARGE_FLOW}
          proOptions={{ hideAttribution: true }}
        >
          <Background variant={BackgroundVariant.Dots} gap={20} size={1.2} />
          <Controls
            position="bottom-left"
            orientation="horizontal"
            fitViewOptions={fitOptions("all", minimap)}
          >
            <ControlButton
              onClick={toggleMinimap}
              title={minimap ? "Hide the minimap" : "Show the minimap"}
              aria-label={minimap ? "Hide the minimap" : "Show the minimap"}
              aria-pressed={minimap}
              data-testid="toggle-minimap"
            >
              <MapIcon />
            </ControlButton>
          </Controls>
          {minimap ? (
            <MiniMap
              position="bottom-right"
              pannable
              zoomable
              nodeColor={minimapColor}
              nodeStrokeWidth={3}
              style={{ width: MINIMAP_WIDTH, height: MINIMAP_HEIGHT }}
            />
          ) : null}
        </ReactFlow>
        {nodes.length === 0 ? <CanvasEmptyHint /> : null}
        {connecting && hover ? (
          <div
            className="connection-tooltip"
            role="tooltip"
            data-testid="connection-refusal"
            style={{ left: pointer.x + 14, top: pointer.y + 14 }}
          >
            {hover}
          </div>
        ) : null}
        {toast ? (
          <div className="canvas-toast" role="alert" data-testid="connection-refused">
            Connection refused: {toast}
          </div>
        ) : null}
      </div>
    </ResolvedTypesContext.Provider>
  );
}
