import { useMe } from "../api/auth";
import { useHealth } from "../api/health";
import { PageHeader } from "../components/page-header";
import { Link } from "./router";

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

interface ManageEntry {
  readonly to: string;
  readonly label: string;
  readonly hint: string;
  readonly adminOnly?: boolean;
}

const MANAGE: readonly ManageEntry[] = [
  { to: "/models", label: "Models", hint: "Chat and embedding models that flows use by name." },
  { to: "/data", label: "Data sources", hint: "Database connections for SQL and Text2SQL." },
  {
    to: "/secrets",
    label: "Secrets",
    hint: "Encrypted API keys and passwords, write-only.",
    adminOnly: true,
  },
  { to: "/publishing", label: "API keys", hint: "Keys for published endpoints (Publishing page)." },
];

/** Where each setting is managed; Secrets only for administrators (the page refuses others). */
function ManageCard() {
  const { data: me } = useMe();
  const links = MANAGE.filter((entry) => !entry.adminOnly || me?.is_admin);
  return (
    <section className="card" aria-labelledby="manage-title">
      <h2 id="manage-title" className="card__title">
        Manage
      </h2>
      <dl className="facts">
        {links.map(({ to, label, hint }) => (
          <div key={label} className="facts__row">
            <dt>
              <Link to={to} data-testid={`settings-link-${to.slice(1)}`}>
                {label}
              </Link>
            </dt>
            <dd>{hint}</dd>
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
      <ManageCard />
      <SystemCard />
    </div>
  );
}
