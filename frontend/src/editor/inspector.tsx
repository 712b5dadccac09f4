import { useState } from "react";
import { useShallow } from "zustand/react/shallow";
import { indexCatalog, useOperators } from "../api/operators";
import { useRunDetail } from "../api/runs";
import { useCanvasStore } from "../canvas/canvas-store";
import type { OperatorCanvasNode } from "../canvas/canvas-types";
import { CitationScope } from "../runs/citation-scope";
import { useRunStore } from "../runs/run-store";
import { OutputView } from "./output-view";
import { ParamForm } from "./param-form";
import { paramOfPath } from "./param-schema";

function ParamsTab({ node }: { readonly node: OperatorCanvasNode }) {
  const { data: catalog } = useOperators();
  const operator = indexCatalog(catalog).get(node.data.operator);
  const updateParams = useCanvasStore((state) => state.updateParams);
  const updateNode = useCanvasStore((state) => state.updateNode);
  const diagnostics = useCanvasStore(
    useShallow((state) => state.diagnostics.filter((item) => item.node_id === node.id)),
  );
  const errors: Record<string, string> = {};
  const general: string[] = [];
  for (const diagnostic of diagnostics) {
    const param = paramOfPath(diagnostic.path);
    if (param && !errors[param]) errors[param] = diagnostic.message;
    else general.push(diagnostic.message);
  }
  return (
    <div className="inspector__section">
      {operator ? <p className="inspector__description">{operator.description}</p> : null}
      {operator?.docs ? (
        <details className="inspector__docs">
          <summary>About {operator.title}</summary>
          <pre>{operator.docs}</pre>
        </details>
      ) : null}
      <div className="field">
        <label className="field__label" htmlFor="node-label">
          Label
        </label>
        <input
          id="node-label"
          className="field__input"
          value={node.data.label ?? ""}
          placeholder={operator?.title ?? node.data.operator}
          data-testid="node-label-input"
          onChange={(event) => updateNode(node.id, { label: event.target.value || null })}
        />
      </div>
      {general.length ? (
        <ul className="inspector__diagnostics" data-testid="inspector-diagnostics">
          {general.map((message) => (
            <li key={message}>{message}</li>
          ))}
        </ul>
      ) : null}
      {operator ? (
        <ParamForm
          schema={operator.params_schema}
          values={node.data.params}
          errors={errors}
          onChange={(name, value) => updateParams(node.id, { [name]: value })}
        />
      ) : (
        <p className="field__error">Operator {node.data.operator} is not installed.</p>
      )}
      <label className="field field--inline">
        <input
          type="checkbox"
          className="field__checkbox"
          checked={node.data.disabled}
          onChange={(event) => updateNode(node.id, { disabled: event.target.checked })}
        />
        <span className="field__label">Disabled (skipped in runs)</span>
      </label>
    </div>
  );
}

function PreviewBlock({
  title,
  values,
  types,
}: {
  readonly title: string;
  readonly values: Readonly<Record<string, unknown>>;
  readonly types: Readonly<Record<string, string>>;
}) {
  const entries = Object.entries(values);
  return (
    <section className="inspector__block">
      <h4>{title}</h4>
      {entries.length ? null : <p className="muted">None</p>}
      <CitationScope values={Object.values(values)}>
        {entries.map(([port, value]) => (
          <div
            key={port}
            className="inspector__port"
            data-testid={`${title.toLowerCase()}-${port}`}
          >
            <div className="inspector__port-name">
              {port}
              <span className="muted">{types[port] ?? ""}</span>
            </div>
            <OutputView value={value} type={types[port] ?? ""} />
          </div>
        ))}
      </CitationScope>
    </section>
  );
}

function RunTab({ node }: { readonly node: OperatorCanvasNode }) {
  const view = useRunStore((state) => state.view);
  const run = view?.nodes[node.id];
  const finished = run ? !["queued", "running"].includes(run.status) : false;
  const { data: detail } = useRunDetail(
    view && finished ? view.runId : null,
    finished ? (view?.lastSeq ?? 0) : 0,
  );
  if (!view || !run) return <p className="muted">Run the flow to inspect this node.</p>;
  const record = detail?.nodes.find((item) => item.node_id === node.id);
  const outputs = Object.fromEntries(
    Object.entries(run.outputs).map(([port, output]) => [port, output.preview]),
  );
  const typeOf = (ports: readonly { name: string; type: string }[]) =>
    Object.fromEntries(ports.map((port) => [port.name, port.type]));
  const streamed = Object.entries(run.streamed);
  return (
    <div className="inspector__section" data-testid="inspector-run">
      <dl className="facts">
        <div className="facts__row">
          <dt>Status</dt>
          <dd data-testid="inspector-status">
            {run.status}
            {run.cached ? " (cached)" : ""}
          </dd>
        </div>
        <div className="facts__row">
          <dt>Duration</dt>
          <dd>{run.durationMs === null ? "—" : `${run.durationMs.toFixed(1)} ms`}</dd>
        </div>
        <div className="facts__row">
          <dt>Attempt</dt>
          <dd>{run.attempt || "—"}</dd>
        </div>
        {run.reason ? (
          <div className="facts__row">
            <dt>Skipped</dt>
            <dd>{run.reason}</dd>
          </div>
        ) : null}
      </dl>
      {run.error ? (
        <section className="inspector__block">
          <h4>Error</h4>
          <div className="op-error" data-testid="inspector-error">
            <strong>{run.error.code}</strong>: {run.error.message}
          </div>
          {run.error.details && Object.keys(run.error.details).length ? (
            <pre className="output-json">{JSON.stringify(run.error.details, null, 2)}</pre>
          ) : null}
        </section>
      ) : null}
      {streamed.length ? (
        <section className="inspector__block">
          <h4>Streamed</h4>
          {streamed.map(([port, text]) => (
            <pre key={port} className="op-stream op-stream--large">
              {text}
            </pre>
          ))}
        </section>
      ) : null}
      <PreviewBlock
        title="Inputs"
        values={record?.inputs_preview ?? {}}
        types={typeOf(node.data.ports.inputs)}
      />
      <PreviewBlock
        title="Outputs"
        values={Object.keys(outputs).length ? outputs : (record?.outputs_preview ?? {})}
        types={typeOf(node.data.ports.outputs)}
      />
    </div>
  );
}

/** The right-hand panel: the selected node's params (generated form) and its run details. */
export function Inspector({ onRunFrom }: { readonly onRunFrom: (nodeId: string) => void }) {
  const selected = useCanvasStore(
    useShallow((state) =>
      state.nodes.filter(
        (node): node is OperatorCanvasNode => node.type === "operator" && node.selected === true,
      ),
    ),
  );
  const [tab, setTab] = useState<"params" | "run">("params");
  const { data: catalog } = useOperators();
  const node = selected.length === 1 ? selected[0] : undefined;
  if (!node) {
    return (
      <aside className="inspector inspector--empty" data-testid="inspector">
        <p className="muted">
          {selected.length > 1
            ? `${selected.length} nodes selected.`
            : "Select a node to edit its parameters and inspect its run."}
        </p>
      </aside>
    );
  }
  return (
    <aside className="inspector" data-testid="inspector" aria-label="Node inspector">
      <header className="inspector__header">
        <div>
          <div className="inspector__title">
            {node.data.label ||
              indexCatalog(catalog).get(node.data.operator)?.title ||
              node.data.operator}
          </div>
          <div className="muted">
            {node.id} · {node.data.operator} v{node.data.operatorVersion}
          </div>
        </div>
        <button
          type="button"
          className="button button--ghost button--small"
          onClick={() => onRunFrom(node.id)}
          title="Run this node and everything downstream of it"
          data-testid="run-from-node"
        >
          Run from here
        </button>
      </header>
      <div className="tabs" role="tablist">
        <button
          type="button"
          role="tab"
          aria-selected={tab === "params"}
          className={`tab${tab === "params" ? " tab--active" : ""}`}
          onClick={() => setTab("params")}
          data-testid="inspector-tab-params"
        >
          Parameters
        </button>
        <button
          type="button"
          role="tab"
          aria-selected={tab === "run"}
          className={`tab${tab === "run" ? " tab--active" : ""}`}
          onClick={() => setTab("run")}
          data-testid="inspector-tab-run"
        >
          Run
        </button>
      </div>
      {tab === "params" ? <ParamsTab node={node} /> : <RunTab node={node} />}
    </aside>
  );
}
