import { useEffect, useRef, useState } from "react";
import { type RunEvent, useRunList } from "../api/runs";
import { previewText } from "../canvas/preview-text";
import { Link } from "../routes/router";
import { CitationScope } from "../runs/citation-scope";
import { isRunActive } from "../runs/run-state";
import { useRunStore } from "../runs/run-store";
import { OutputView } from "./output-view";
import { RunInputs, useRememberedRunInputs } from "./run-inputs";

function describeEvent(event: RunEvent): string {
  switch (event.type) {
    case "run_started":
      return `run started (version ${event.flow_version}, ${event.node_ids.length} nodes)`;
    case "node_started":
      return `${event.node_id} started${event.attempt > 1 ? ` (attempt ${event.attempt})` : ""}`;
    case "node_progress":
      return `${event.node_id} progress ${event.value}${event.max ? `/${event.max}` : ""}`;
    case "node_chunk":
      return `${event.node_id}.${event.port} ⟶ ${previewText(event.data, 80)}`;
    case "node_output":
      return `${event.node_id}.${event.port} = ${previewText(event.preview, 120)}`;
    case "node_succeeded":
      return `${event.node_id} ${event.cached ? "cached" : "succeeded"} in ${event.duration_ms.toFixed(1)} ms`;
    case "node_failed":
      return `${event.node_id} failed: ${event.error.message}${event.retrying ? " (retrying)" : ""}`;
    case "node_skipped":
      return `${event.node_id} skipped: ${event.reason}`;
    case "run_cancelled":
      return `cancel requested${event.reason ? `: ${event.reason}` : ""}`;
    case "run_finished":
      return `run ${event.status} in ${event.duration_ms.toFixed(0)} ms`;
    default:
      return "";
  }
}

function EventLog({ events }: { readonly events: readonly RunEvent[] }) {
  // Chunks are folded into one line per node and port so that a token stream stays readable.
  const lines: { key: string; seq: number; type: string; text: string }[] = [];
  for (const event of events) {
    const last = lines.at(-1);
    if (event.type === "node_chunk" && last?.key === `${event.node_id}.${event.port}`) {
      last.text += typeof event.data === "string" ? event.data : JSON.stringify(event.data);
      continue;
    }
    lines.push({
      key: event.type === "node_chunk" ? `${event.node_id}.${event.port}` : `${event.seq}`,
      seq: event.seq,
      type: event.type,
      text:
        event.type === "node_chunk"
          ? `${event.node_id}.${event.port} ⟶ ${typeof event.data === "string" ? event.data : JSON.stringify(event.data)}`
          : describeEvent(event),
    });
  }
  const end = useRef<HTMLLIElement>(null);
  // Follow the newest event, like a terminal.
  // biome-ignore lint/correctness/useExhaustiveDependencies: scrolls whenever an event arrives.
  useEffect(() => {
    // Braces matter: Chromium's scrollIntoView returns a promise, which is no effect cleanup.
    end.current?.scrollIntoView({ block: "nearest" });
  }, [events.length]);
  return (
    <ol className="event-log" data-testid="event-log">
      {lines.map((line) => (
        <li key={line.seq} className={`event-log__line event-log__line--${line.type}`}>
          <span className="event-log__seq">{line.seq}</span>
          <span>{line.text}</span>
        </li>
      ))}
      <li ref={end} aria-hidden="true" />
    </ol>
  );
}

function RunHistory({
  flowId,
  onOpen,
}: {
  readonly flowId: string;
  readonly onOpen: (runId: string) => void;
}) {
  const { data, isPending } = useRunList(flowId);
  const current = useRunStore((state) => state.view?.runId);
  const runs = data ?? [];
  if (isPending) return <p className="muted">Loading runs…</p>;
  if (!runs.length) return <p className="muted">No runs of this flow yet.</p>;
  return (
    <ul className="run-history" data-testid="run-history">
      {runs.map((run) => (
        <li key={run.id}>
          <button
            type="button"
            className={`run-history__item${run.id === current ? " run-history__item--current" : ""}`}
            onClick={() => onOpen(run.id)}
            data-testid={`run-history-${run.id}`}
            title="Replay this run's events"
          >
            <span className={`status-badge status-badge--${run.status}`}>{run.status}</span>
            <span>v{run.flow_version}</span>
            <span className="muted">{new Date(run.created_at).toLocaleString()}</span>
            <span className="muted">{run.trigger}</span>
          </button>
        </li>
      ))}
    </ul>
  );
}

type Tab = "inputs" | "log" | "output" | "history";

/** The bottom panel: the shown run's status, event log and outputs, and the flow's run history. */
export function RunPanel({
  flowId,
  onOpen,
  onCancel,
  onClose,
  playgroundOpen,
  onTogglePlayground,
}: {
  readonly flowId: string | null;
  readonly onOpen: (runId: string) => void;
  readonly onCancel: () => void;
  readonly onClose: () => void;
  /** The chat Playground next to the run panel (shown in the inspector's column). */
  readonly playgroundOpen?: boolean;
  readonly onTogglePlayground?: () => void;
}) {
  const view = useRunStore((state) => state.view);
  const connection = useRunStore((state) => state.connection);
  const attempt = useRunStore((state) => state.reconnectAttempt);
  const error = useRunStore((state) => state.error);
  useRememberedRunInputs(flowId);
  const [tab, setTab] = useState<Tab>("log");
  const [collapsed, setCollapsed] = useState(false);
  const active = view ? isRunActive(view.status) : false;
  const finished = view ? Object.values(view.nodes) : [];
  const done = finished.filter((node) => !["queued", "running"].includes(node.status)).length;
  const tabs: [Tab, string][] = [
    ["inputs", "Inputs"],
    ["log", "Events"],
    ["output", "Outputs"],
    ["history", "History"],
  ];
  return (
    <section
      className={`run-panel${collapsed ? " run-panel--collapsed" : ""}`}
      data-testid="run-panel"
    >
      <header className="run-panel__header">
        <div className="tabs" role="tablist">
          {tabs.map(([id, label]) => (
            <button
              key={id}
              type="button"
              role="tab"
              aria-selected={tab === id}
              className={`tab${tab === id ? " tab--active" : ""}`}
              onClick={() => {
                setTab(id);
                setCollapsed(false);
              }}
              data-testid={`run-tab-${id}`}
            >
              {label}
            </button>
          ))}
        </div>
        {view ? (
          <div className="run-panel__summary">
            <span className={`status-badge status-badge--${view.status}`} data-testid="run-status">
              {view.status}
            </span>
            <span className="muted" data-testid="run-progress">
              {done}/{view.nodeIds.length} nodes
              {view.durationMs !== null ? ` · ${view.durationMs.toFixed(0)} ms` : ""}
            </span>
            <code className="run-panel__id" title="Run id">
              {view.runId.slice(0, 12)}
            </code>
            <Link
              to={`/runs/${view.runId}`}
              className="button button--ghost button--small"
              data-testid="run-trace-link"
              title="Node timings, cache hits, model calls and tokens of this run"
            >
              Trace
            </Link>
            {active ? (
              <button
                type="button"
                className="button button--danger button--small"
                onClick={onCancel}
                disabled={view.cancelRequested}
                data-testid="cancel-run-panel"
              >
                {view.cancelRequested ? "Cancelling…" : "Cancel"}
              </button>
            ) : (
              <button
                type="button"
                className="button button--ghost button--small"
                onClick={onClose}
              >
                Clear
              </button>
            )}
          </div>
        ) : (
          <span className="muted run-panel__summary">No run shown</span>
        )}
        {onTogglePlayground ? (
          <button
            type="button"
            className={`button button--small${playgroundOpen ? " button--primary" : ""}`}
            onClick={onTogglePlayground}
            aria-pressed={playgroundOpen}
            data-testid="playground-toggle"
            title="Chat with this flow"
          >
            Playground
          </button>
        ) : null}
        <span
          className={`connection connection--${connection}`}
          data-testid="ws-connection"
          title="Live connection to the server"
        >
          {connection === "reconnecting" ? `reconnecting (${attempt})` : connection}
        </span>
        <button
          type="button"
          className="button button--ghost button--small"
          onClick={() => setCollapsed(!collapsed)}
          aria-label={collapsed ? "Expand run panel" : "Collapse run panel"}
        >
          {collapsed ? "▴" : "▾"}
        </button>
      </header>
      {collapsed ? null : (
        <div className="run-panel__body">
          {error ? (
            <div className="field__error" data-testid="run-error">
              {error}
            </div>
          ) : null}
          {view?.error ? (
            <div className="op-error" data-testid="run-failure">
              {view.error.node_id ? `${view.error.node_id}: ` : ""}
              {view.error.message}
            </div>
          ) : null}
          {tab === "log" ? (
            view ? (
              <EventLog events={view.events} />
            ) : (
              <p className="muted">Press Run (Ctrl-Enter) to execute the flow.</p>
            )
          ) : null}
          {tab === "inputs" ? <RunInputs /> : null}
          {tab === "output" ? (
            view && Object.keys(view.outputs).length ? (
              <div className="run-outputs" data-testid="run-outputs">
                <CitationScope values={Object.values(view.outputs)}>
                  {Object.entries(view.outputs).map(([name, value]) => (
                    <div key={name} className="inspector__port">
                      <div className="inspector__port-name">{name}</div>
                      <OutputView value={value} type="" />
                    </div>
                  ))}
                </CitationScope>
              </div>
            ) : (
              <p className="muted">The run's outputs appear here when it finishes.</p>
            )
          ) : null}
          {tab === "history" ? (
            flowId ? (
              <RunHistory flowId={flowId} onOpen={onOpen} />
            ) : (
              <p className="muted">Save the flow to run it.</p>
            )
          ) : null}
        </div>
      )}
    </section>
  );
}
