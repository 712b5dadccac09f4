import { Handle, type NodeProps, Position } from "@xyflow/react";
import { memo } from "react";
import { useShallow } from "zustand/react/shallow";
import { indexCatalog, type PortRead, useOperators } from "../api/operators";
import { NamedIcon, resolveIcon } from "../components/operator-icon";
import type { NodeRunState } from "../runs/run-state";
import { useRunStore } from "../runs/run-store";
import { isError, useCanvasStore } from "./canvas-store";
import type { OperatorCanvasNode } from "./canvas-types";
import { isStreamType, portColor } from "./port-colors";
import { formatPortType, type PortType } from "./port-types";
import { previewText } from "./preview-text";
import { useResolvedPorts } from "./resolved-types";

function PortRow({
  port,
  kind,
  resolved,
}: {
  readonly port: PortRead;
  readonly kind: "input" | "output";
  readonly resolved: PortType | undefined;
}) {
  // A generic port shows the type inferred from its connections (`T` → `Text`).
  const shown = resolved && /\b[A-Z]\b/.test(port.type) ? formatPortType(resolved) : port.type;
  const color = portColor(shown);
  const stream = isStreamType(port.type);
  return (
    <div className={`op-port op-port--${kind}`} title={`${port.name}: ${shown}`}>
      <Handle
        type={kind === "input" ? "target" : "source"}
        position={kind === "input" ? Position.Left : Position.Right}
        id={port.name}
        className={`op-handle${stream ? " op-handle--stream" : ""}`}
        style={{ "--port-color": color } as React.CSSProperties}
        data-testid={`handle-${kind}-${port.name}`}
      />
      <span className="op-port__name">
        {port.name}
        {kind === "input" && port.required ? <span className="op-port__required">*</span> : null}
      </span>
      <span className="op-port__type" style={{ color }}>
        {shown}
      </span>
    </div>
  );
}

function statusLabel(run: NodeRunState | undefined): string | null {
  if (!run) return null;
  if (run.status === "succeeded" && run.cached) return "cached";
  if (run.retrying) return `retry ${run.attempt}`;
  return run.status;
}

function RunDetails({ run }: { readonly run: NodeRunState }) {
  const streamed = Object.values(run.streamed).join("");
  const firstOutput = Object.entries(run.outputs)[0];
  const { progress } = run;
  const percent = progress?.max ? Math.min(100, (100 * progress.value) / progress.max) : null;
  return (
    <>
      {run.status === "running" ? (
        <div className="op-progress" data-testid="node-progress">
          <div
            className={`op-progress__bar${percent === null ? " op-progress__bar--indeterminate" : ""}`}
            style={percent === null ? undefined : { width: `${percent}%` }}
          />
        </div>
      ) : null}
      {/* Bounded boxes that scroll inside the node: the wheel scrolls them (nowheel) instead of
          zooming the canvas, and selecting their text does not drag the node (nodrag). */}
      {streamed ? (
        <pre className="op-stream op-scroll nowheel nodrag" data-testid="node-stream">
          {streamed}
        </pre>
      ) : null}
      {run.error ? (
        <div className="op-error op-scroll nowheel nodrag" data-testid="node-error">
          {run.error.message}
        </div>
      ) : null}
      {!streamed && firstOutput && run.status === "succeeded" ? (
        <div
          className="op-output op-scroll nowheel nodrag"
          data-testid="node-output"
          title={firstOutput[0]}
        >
          {previewText(firstOutput[1].preview, 2_000)}
        </div>
      ) : null}
    </>
  );
}

function OperatorNodeView({ id, data, selected }: NodeProps<OperatorCanvasNode>) {
  const { data: catalog } = useOperators();
  const operator = indexCatalog(catalog).get(data.operator);
  const category = operator?.category ?? data.operator.split(".")[0];
  const categoryIcon = catalog?.categories.find((entry) => entry.id === category)?.icon;
  const icon = resolveIcon(operator?.icon, category, categoryIcon);
  const run = useRunStore((state) => state.view?.nodes[id]);
  const resolved = useResolvedPorts(id);
  const messages = useCanvasStore(
    useShallow((state) =>
      state.diagnostics
        .filter((diagnostic) => diagnostic.node_id === id && isError(diagnostic))
        .map((diagnostic) => diagnostic.message),
    ),
  );
  const status = statusLabel(run);
  const classes = [
    "op-node",
    selected ? "op-node--selected" : "",
    messages.length ? "op-node--invalid" : "",
    run ? `op-node--${run.status}` : "",
    data.disabled ? "op-node--disabled" : "",
  ];
  return (
    <div
      className={classes.filter(Boolean).join(" ")}
      data-testid={`node-${id}`}
      data-status={status ?? "idle"}
    >
      <div className="op-node__header">
        <span className={`op-node__icon op-node__icon--${category}`} data-testid="node-icon">
          <NamedIcon name={icon} size={15} />
        </span>
        <div className="op-node__titles">
          <span className="op-node__title">{data.label || operator?.title || data.operator}</span>
          <span className="op-node__id">{id}</span>
        </div>
        {status ? (
          <span className={`status-badge status-badge--${status}`} data-testid="node-status">
            {status}
          </span>
        ) : null}
      </div>
      {!operator ? <div className="op-error">Unknown operator {data.operator}</div> : null}
      <div className="op-node__ports">
        {data.ports.inputs.map((port) => (
          <PortRow
            key={`in-${port.name}`}
            port={port}
            kind="input"
            resolved={resolved?.inputs[port.name]}
          />
        ))}
        {data.ports.outputs.map((port) => (
          <PortRow
            key={`out-${port.name}`}
            port={port}
            kind="output"
            resolved={resolved?.outputs[port.name]}
          />
        ))}
      </div>
      {messages.length ? (
        <ul className="op-diagnostics op-scroll nowheel nodrag" data-testid="node-diagnostics">
          {messages.slice(0, 3).map((message) => (
            <li key={message}>{message}</li>
          ))}
        </ul>
      ) : null}
      {run ? <RunDetails run={run} /> : null}
    </div>
  );
}

/** The one node component for every operator: ports, title and run state come from the catalog. */
export const OperatorNode = memo(OperatorNodeView);
