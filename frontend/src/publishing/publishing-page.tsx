import { PageHeader } from "../components/page-header";
import { ApiKeys } from "./api-keys";
import { AppList } from "./app-list";
import { EndpointList } from "./endpoint-list";
import { PublishForm } from "./publish-form";
import { ScheduleList } from "./schedule-list";

/** Publish flows as HTTP endpoints and schedules; manage API keys. */
export function PublishingPage() {
  return (
    <div className="page">
      <PageHeader
        title="Publishing"
        description="Flows served as HTTP endpoints (/f/…), chat apps (/apps/…) and run on schedules, with API keys and call statistics."
      />
      <PublishForm />
      <EndpointList />
      <AppList />
      <ApiKeys />
      <ScheduleList />
    </div>
  );
}

export default PublishingPage;
