import { type FormEvent, useState } from "react";
import { useApiKeys, useCreateApiKey, useRevokeApiKey } from "../api/publishing";
import { InputField } from "../components/field";
import { CopyButton } from "./copy-button";

/** Create (secret shown once), list and revoke API keys for published endpoints. */
export function ApiKeys() {
  const keys = useApiKeys();
  const create = useCreateApiKey();
  const revoke = useRevokeApiKey();
  const [name, setName] = useState("");
  const [scope, setScope] = useState("");
  const [rate, setRate] = useState("");

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const endpoints = scope
      .split(",")
      .map((slug) => slug.trim())
      .filter(Boolean);
    create.mutate(
      { name, endpoints, rate_limit_per_minute: rate ? Number(rate) : null },
      { onSuccess: () => setName("") },
    );
  };

  return (
    <section className="card" aria-labelledby="keys-title">
      <h2 id="keys-title" className="card__title">
        API keys
      </h2>
      <form className="inline-form" onSubmit={submit}>
        <InputField label="Key name" value={name} onValue={setName} required />
        <InputField
          label="Endpoints (slugs, comma-separated; empty = all)"
          value={scope}
          onValue={setScope}
        />
        <InputField
          label="Calls per minute"
          type="number"
          min={1}
          placeholder="unlimited"
          value={rate}
          onValue={setRate}
        />
        <button className="button button--primary" type="submit" disabled={create.isPending}>
          Create key
        </button>
      </form>
      {create.error ? (
        <p className="form-error" role="alert">
          {create.error.message}
        </p>
      ) : null}
      {create.data ? (
        <div className="secret" role="status">
          <p>Copy this key now: it is not shown again.</p>
          <code className="secret__value">{create.data.secret}</code>
          <CopyButton text={create.data.secret} label="Copy key" />
        </div>
      ) : null}
      <table className="table" aria-label="API keys">
        <thead>
          <tr>
            <th>Name</th>
            <th>Key</th>
            <th>Endpoints</th>
            <th>Rate limit</th>
            <th>Status</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {(keys.data ?? []).map((key) => (
            <tr key={key.id}>
              <td>{key.name}</td>
              <td>
                <code>{key.prefix}…</code>
              </td>
              <td>{key.endpoints.length ? key.endpoints.join(", ") : "all"}</td>
              <td>{key.rate_limit_per_minute ? `${key.rate_limit_per_minute}/min` : "—"}</td>
              <td>{key.revoked_at ? "revoked" : "active"}</td>
              <td className="table__actions">
                {key.revoked_at ? null : (
                  <button
                    type="button"
                    className="button button--ghost"
                    onClick={() => revoke.mutate(key.id)}
                    aria-label={`Revoke ${key.name}`}
                  >
                    Revoke
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
