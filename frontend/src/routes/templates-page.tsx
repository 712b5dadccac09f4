import { PageHeader } from "../components/page-header";
import { TemplatesEmptyState } from "../templates/templates-empty-state";

export function TemplatesPage() {
  return (
    <div className="page">
      <PageHeader
        title="Templates"
        description="Start a flow from a packaged, versioned example."
      />
      <TemplatesEmptyState />
    </div>
  );
}
