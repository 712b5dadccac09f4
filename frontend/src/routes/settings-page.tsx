import { useHealth } from "../api/health";
import { PageHeader } from "../components/page-header";

function SystemCard() {
  const { data, error } = useHealth();
  const rows: [string, string][] = [
    ["Rivulet", data?.version ?? "—"],
    ["Database", data?.database ?? error?.message ?? "—"],
    ["PostgreSQL", data?.postgres ?? "—"],
    ["pgvector", data?.pgvector ?? "not installed"],
  ];
  return (
    <section className="card" aria-labelledby="system-title">
      <h2 id="system-title" className="card__title">
        System
      </h2>
      <dl className="facts">
        {rows.map(([term, value]) => (
          <div key={term} className="facts__row">
            <dt>{term}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}

export function SettingsPage() {
  return (
    <div className="page">
      <PageHeader title="Settings" description="Models, data sources, secrets and API keys." />
      <SystemCard />
    </div>
  );
}
