import { PageHeader } from "../components/page-header";
import { RunsEmptyState } from "../runs/runs-empty-state";

export function RunsPage() {
  return (
    <div className="page">
      <PageHeader title="Runs" description="History and live progress of every flow run." />
      <RunsEmptyState />
    </div>
  );
}
