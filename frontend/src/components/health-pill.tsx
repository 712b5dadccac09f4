import { type Health, useHealth } from "../api/health";

type PillState = "pending" | "ok" | "error";

interface PillView {
  readonly state: PillState;
  readonly label: string;
  readonly detail: string;
}

/** What the pill says for a health report: short label, full detail in the tooltip. */
export function describeHealth(health: Health): PillView {
  if (health.status === "ok") {
    const pgvector = health.pgvector ? `pgvector ${health.pgvector}` : "pgvector";
    const postgres = health.postgres ? `PostgreSQL ${health.postgres}, ` : "";
    return {
      state: "ok",
      label: `Database ok · ${pgvector}`,
      detail: `${postgres}${pgvector}, Rivulet ${health.version}`,
    };
  }
  if (health.database !== "ok") {
    return { state: "error", label: `Database: ${health.database}`, detail: health.database };
  }
  return {
    state: "error",
    label: "pgvector missing",
    detail: "The database answers but the pgvector extension is not installed.",
  };
}

function useHealthView(): PillView {
  const { data, error, isPending } = useHealth();
  if (data) return describeHealth(data);
  if (error) return { state: "error", label: "API unreachable", detail: error.message };
  if (isPending) return { state: "pending", label: "Checking…", detail: "Contacting the backend" };
  return { state: "error", label: "Unknown", detail: "" };
}

/** Top-bar status fed by `GET /api/health`. */
export function HealthPill() {
  const { state, label, detail } = useHealthView();
  return (
    <output
      className={`health-pill health-pill--${state}`}
      data-state={state}
      title={detail}
      aria-live="polite"
      aria-label={`Backend status: ${label}`}
    >
      <span className="health-pill__dot" aria-hidden="true" />
      <span className="health-pill__label">{label}</span>
    </output>
  );
}
