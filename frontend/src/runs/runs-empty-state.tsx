import { EmptyState } from "../components/empty-state";
import { RunIcon } from "../components/icons";

export function RunsEmptyState() {
  return (
    <EmptyState icon={<RunIcon />} title="No runs yet">
      <p>
        Every run of a flow (from the editor, a published endpoint or a schedule) appears here with
        its live events, outputs and timings.
      </p>
    </EmptyState>
  );
}
