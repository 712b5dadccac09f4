import { useQuery } from "@tanstack/react-query";
import { Fragment, useState } from "react";
import { api } from "../api/client";
import { apiFailure } from "../api/flows";
import { fetchRunEvents, type RunDetail, runKeys } from "../api/runs";
import { PageHeader } from "../components/page-header";
import { OutputView } from "../editor/output-view";
import { Link, useParams } from "../routes/router";
import { CitationScope } from "./citation-scope";
import { isRunActive } from "./run-state";
import { formatMs, type ModelCall, traceRows } from "./run-trace";
import "./run-trace.css";

const POLL_MS = 1_000;

function useTrace(runId: string) {
  const detail = useQuery({
    queryKey: [...runKeys.all, "trace", runId],
    queryFn: async ({ signal }): Promise<RunDetail> => {
      const { data, error, response } = await api.GET("/api/runs/{run_id}", {
        params: { path: { run_id: runId } },
        signal,
      });
      if (!data) throw apiFailure("Loading the run failed", error, response.status);
      return data;
    },
    refetchInterval: (query) =>
      query.state.data && isRunActive(query.state.data.run.status) ? POLL_MS : false,
  });
  const seq = detail.data?.last_seq ?? 0;
  const events = useQuery({
    queryKey: [...runKeys.events(runId), seq],
    enabled: detail.data !== undefined,
    queryFn: () => fetchRunEvents(runId),
  });
  // Any reader of the run may list its model calls; a failure (no such log) only hides them.
  const calls = useQuery({
    queryKey: ["models", "calls", runId, seq],
    enabled: detail.data !== undefined,
    retry: false,
    queryFn: async ({ signal }): Promise<ModelCall[] | null> => {
      const { data } = await api.GET("/api/models/calls", {
        params: { query: { run_id: runId, limit: 1000 } },
        signal,
      });
      return data ? data.items : null;
    },
  });
  const run = detail.data?.run;
  const document = useQuery({
    queryKey: ["flows", "version", run?.flow_id, run?.flow_version],
    enabled: run !== undefined,
    retry: false,
    queryFn: async ({ signal }) => {
      const { data } = await api.GET("/api/flows/{flow_id}/versions/{version}", {
        params: { path: { flow_id: run?.flow_id ?? "", version: run?.flow_version ?? 0 } },
        signal,
      });
      return data?.document ?? null;
    },
  });
  return { detail, events, calls, document };
}

function Values({
  values,
  empty,
}: {
  readonly values: Record<string, unknown>;
  readonly empty: string;
}) {
  const entries = Object.entries(values);
  if (!entries.length) return <p className="muted">{empty}</p>;
  return (
    <CitationScope values={Object.values(values)}>
      {entries.map(([name, value]) => (
        <div key={name} className="inspector__port">
          <div className="inspector__port-name">{name}</div>
          <OutputView value={value} type="" />
        </div>
      ))}
    </CitationScope>
  );
}

function CallsTable({ calls }: { readonly calls: readonly ModelCall[] }) {
  if (!calls.length) return <p className="muted">This run called no model.</p>;
  return (
    <table className="trace-table" data-testid="trace-calls">
      <thead>
        <tr>
          <th>Node</th>
          <th>Model</th>
          <th>Status</th>
          <th className="num">Prompt</th>
          <th className="num">Completion</th>
          <th className="num">Latency</th>
          <th className="num">First token</th>
        </tr>
      </thead>
      <tbody>
        {[...calls].reverse().map((call, index) => (
          <tr key={call.id ?? index}>
            <td>
              <code>{call.node_id ?? "—"}</code>
            </td>
            <td>
              {call.model} <span className="muted">({call.provider})</span>
            </td>
            <td>
              {call.status}
              {call.error ? <span className="muted"> · {call.error}</span> : null}
            </td>
            <td className="num">{call.prompt_tokens}</td>
            <td className="num">{call.completion_tokens}</td>
            <td className="num">{formatMs(call.latency_ms)}</td>
            <td className="num">{formatMs(call.ttft_ms)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** `/runs/:runId`: one run's trace — nodes with status, timings, cache hits, streamed chunks and model calls. */
export default function RunTracePage() {
  const { runId = "" } = useParams();
  const { detail, events, calls, document } = useTrace(runId);
  const [open, setOpen] = useState<string | null>(null);
  if (detail.error) {
    return (
      <div className="page">
        <PageHeader title="Run trace" />
        <p className="field__error" data-testid="trace-error">
          {detail.error.message}
        </p>
      </div>
    );
  }
  if (!detail.data) {
    return (
      <div className="page">
        <PageHeader title="Run trace" />
        <p className="muted">Loading…</p>
      </div>
    );
  }
  const { run, nodes } = detail.data;
  const modelCalls = calls.data ?? [];
  const rows = traceRows(nodes, events.data ?? [], modelCalls, document.data?.nodes ?? []);
  const duration =
    run.started_at && run.finished_at
      ? Date.parse(run.finished_at) - Date.parse(run.started_at)
      : null;
  const tokens = modelCalls.reduce(
    (sum, call) => sum + call.prompt_tokens + call.completion_tokens,
    0,
  );
  return (
    <div className="page run-trace" data-testid="run-trace">
      <PageHeader
        title="Run trace"
        description={`${document.data?.name ?? run.flow_id} · version ${run.flow_version}`}
      />
      <div className="run-trace__summary">
        <span className={`status-badge status-badge--${run.status}`} data-testid="trace-status">
          {run.status}
        </span>
        <code>{run.id}</code>
        <span className="muted">{run.trigger}</span>
        <span className="muted">{new Date(run.created_at).toLocaleString()}</span>
        {duration !== null ? <span>{formatMs(duration)}</span> : null}
        {calls.data ? (
          <span data-testid="trace-tokens">
            {modelCalls.length} model {modelCalls.length === 1 ? "call" : "calls"} · {tokens} tokens
          </span>
        ) : null}
        <Link to={`/flows/${run.flow_id}?run=${run.id}`} data-testid="trace-open-editor">
          Open in the editor
        </Link>
      </div>
      {run.error ? (
        <div className="op-error" role="alert">
          {run.error.node_id ? `${run.error.node_id}: ` : ""}
          {run.error.message}
        </div>
      ) : null}
      <section className="run-trace__section" aria-label="Nodes">
        <h2>Nodes</h2>
        <table className="trace-table" data-testid="trace-nodes">
          <thead>
            <tr>
              <th>Node</th>
              <th>Status</th>
              <th className="num">Duration</th>
              <th className="num">Chunks</th>
              <th className="num">Model calls</th>
              <th className="num">Tokens (prompt / completion)</th>
              <th className="num">First token</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => {
              const id = row.node.node_id;
              const expanded = open === id;
              return (
                <Fragment key={id}>
                  <tr data-testid={`trace-node-${id}`} data-status={row.node.status}>
                    <td>
                      <button
                        type="button"
                        className="trace-table__toggle"
                        aria-expanded={expanded}
                        onClick={() => setOpen(expanded ? null : id)}
                      >
                        {expanded ? "▾" : "▸"} <code>{id}</code>
                      </button>
                      {row.operator ? (
                        <span className="muted"> {row.label || row.operator}</span>
                      ) : null}
                    </td>
                    <td>
                      <span
                        className={`status-badge status-badge--${row.node.cached ? "cached" : row.node.status}`}
                      >
                        {row.node.cached ? "cached" : row.node.status}
                      </span>
                      {row.node.attempts > 1 ? (
                        <span className="muted"> · {row.node.attempts} attempts</span>
                      ) : null}
                    </td>
                    <td className="num">{formatMs(row.node.duration_ms)}</td>
                    <td className="num">{row.chunks || ""}</td>
                    <td className="num">{row.calls || ""}</td>
                    <td className="num">
                      {row.calls ? `${row.promptTokens} / ${row.completionTokens}` : ""}
                    </td>
                    <td className="num">{formatMs(row.ttftMs)}</td>
                  </tr>
                  {expanded ? (
                    <tr className="trace-table__detail">
                      <td colSpan={7}>
                        {row.node.error ? (
                          <div className="op-error">{row.node.error.message}</div>
                        ) : null}
                        <div className="run-trace__io">
                          <div>
                            <h3>Inputs</h3>
                            <Values values={row.node.inputs_preview ?? {}} empty="No inputs." />
                          </div>
                          <div>
                            <h3>Outputs</h3>
                            <Values values={row.node.outputs_preview ?? {}} empty="No outputs." />
                          </div>
                        </div>
                      </td>
                    </tr>
                  ) : null}
                </Fragment>
              );
            })}
          </tbody>
        </table>
      </section>
      <section className="run-trace__section" aria-label="Model calls">
        <h2>Model calls</h2>
        {calls.data === null || calls.error ? (
          <p className="muted">The model call log is not available.</p>
        ) : (
          <CallsTable calls={modelCalls} />
        )}
      </section>
      <div className="run-trace__io">
        <section className="run-trace__section" aria-label="Run inputs">
          <h2>Inputs</h2>
          <Values values={run.inputs ?? {}} empty="No run inputs." />
        </section>
        <section className="run-trace__section" aria-label="Run outputs">
          <h2>Outputs</h2>
          <Values values={run.outputs ?? {}} empty="No outputs." />
        </section>
      </div>
    </div>
  );
}
