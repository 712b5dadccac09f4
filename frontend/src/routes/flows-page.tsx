import { EmptyState } from "../components/empty-state";
import { FlowIcon } from "../components/icons";
import { PageHeader } from "../components/page-header";
import { Link } from "./router";

export function FlowsPage() {
  return (
    <div className="page">
      <PageHeader
        title="Flows"
        description="Visual pipelines of LLM, retrieval, SQL and chart operators that you run and publish."
      />
      <EmptyState
        icon={<FlowIcon />}
        title="No flows yet"
        actions={
          <>
            <button
              type="button"
              className="button button--primary"
              disabled
              title="Creating flows arrives with the editor"
            >
              New flow
            </button>
            <Link to="/flows/new" className="button button--ghost">
              Open a blank canvas
            </Link>
          </>
        }
      >
        <p>
          Create a flow from scratch or start from a template. Flows you save will be listed here
          with their versions and published endpoints.
        </p>
      </EmptyState>
    </div>
  );
}
