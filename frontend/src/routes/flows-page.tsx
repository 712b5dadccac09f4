import { useState } from "react";
import { useDeleteFlow, useDuplicateFlow, useFlowList } from "../api/flows";
import { EmptyState } from "../components/empty-state";
import { FlowIcon } from "../components/icons";
import { PageHeader } from "../components/page-header";
import { Link } from "./router";

export function FlowsPage() {
  const [search, setSearch] = useState("");
  const { data: flows, isPending, error } = useFlowList(search);
  const duplicate = useDuplicateFlow();
  const remove = useDeleteFlow();
  const empty = !isPending && !error && !flows?.length && !search;
  return (
    <div className="page">
      <PageHeader
        title="Flows"
        description="Visual pipelines of LLM, retrieval, SQL and chart operators that you run and publish."
      />
      {empty ? (
        <EmptyState
          icon={<FlowIcon />}
          title="No flows yet"
          actions={
            <Link to="/flows/new" className="button button--primary" data-testid="new-flow">
              New flow
            </Link>
          }
        >
          <p>
            Create a flow from scratch or start from a template. Flows you save will be listed here
            with their versions and published endpoints.
          </p>
        </EmptyState>
      ) : (
        <div className="flow-list">
          <div className="flow-list__bar">
            <input
              type="search"
              className="field__input flow-list__search"
              placeholder="Search flows…"
              value={search}
              onChange={(event) => setSearch(event.target.value)}
              data-testid="flow-search"
              aria-label="Search flows"
            />
            <Link to="/flows/new" className="button button--primary" data-testid="new-flow">
              New flow
            </Link>
          </div>
          {error ? <p className="field__error">{error.message}</p> : null}
          {isPending ? <p className="muted">Loading…</p> : null}
          <ul className="flow-list__items" data-testid="flow-list">
            {(flows ?? []).map((flow) => (
              <li key={flow.id} className="flow-list__item card" data-testid={`flow-${flow.id}`}>
                <Link to={`/flows/${flow.id}`} className="flow-list__main">
                  <strong>{flow.name}</strong>
                  <span className="muted">
                    v{flow.version} · {flow.node_count} nodes · updated{" "}
                    {new Date(flow.updated_at).toLocaleString()}
                  </span>
                  {flow.description ? <span className="muted">{flow.description}</span> : null}
                </Link>
                <div className="flow-list__actions">
                  <button
                    type="button"
                    className="button button--ghost button--small"
                    onClick={() => duplicate.mutate(flow.id)}
                  >
                    Duplicate
                  </button>
                  <button
                    type="button"
                    className="button button--ghost button--small"
                    onClick={() => {
                      if (window.confirm(`Delete “${flow.name}”?`)) remove.mutate(flow.id);
                    }}
                  >
                    Delete
                  </button>
                </div>
              </li>
            ))}
          </ul>
          {search && flows && !flows.length ? (
            <p className="muted">No flow matches “{search}”.</p>
          ) : null}
        </div>
      )}
    </div>
  );
}
