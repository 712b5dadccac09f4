import { type ScheduleRead, useSchedules, useSetScheduleEnabled } from "../api/publishing";
import { FlowLabel, sharedNames } from "../components/flow-label";

function when(schedule: ScheduleRead["schedule"]): string {
  if (schedule.cron) return `cron ${schedule.cron} (${schedule.timezone})`;
  return `every ${schedule.interval_s} s`;
}

/** Published schedules: when they fire next, missed fires, enable/disable. */
export function ScheduleList() {
  const { data, error } = useSchedules();
  const setEnabled = useSetScheduleEnabled();
  const shared = sharedNames(
    (data ?? []).map((item) => ({ id: item.schedule.flow_id, name: item.flow_name })),
  );
  return (
    <section className="card" aria-labelledby="schedules-title">
      <h2 id="schedules-title" className="card__title">
        Schedules
      </h2>
      {error ? <p className="form-error">{error.message}</p> : null}
      {data && data.length === 0 ? (
        <p className="muted">No schedules. Add a Schedule trigger to a flow and publish it.</p>
      ) : null}
      {data && data.length > 0 ? (
        <table className="table" aria-label="Schedules">
          <thead>
            <tr>
              <th>Flow</th>
              <th>When</th>
              <th>Next fires</th>
              <th>Missed</th>
              <th>Missed-run policy</th>
              <th>Enabled</th>
            </tr>
          </thead>
          <tbody>
            {data.map(({ schedule, upcoming, missed, flow_name, flow_updated_at }) => (
              <tr key={schedule.id}>
                <td>
                  <FlowLabel
                    flow={{ id: schedule.flow_id, name: flow_name, updatedAt: flow_updated_at }}
                    shared={shared}
                  />{" "}
                  v{schedule.flow_version}
                </td>
                <td>{when(schedule)}</td>
                <td>
                  {upcoming.length
                    ? upcoming
                        .slice(0, 3)
                        .map((t) => new Date(t).toLocaleTimeString())
                        .join(", ")
                    : "—"}
                </td>
                <td>{missed}</td>
                <td>{schedule.missed_policy === "skip" ? "skip" : "run once"}</td>
                <td>
                  <input
                    type="checkbox"
                    aria-label={`Enable schedule of ${flow_name ?? schedule.flow_id}`}
                    checked={schedule.enabled}
                    onChange={(event) =>
                      setEnabled.mutate({ scheduleId: schedule.id, enabled: event.target.checked })
                    }
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}
