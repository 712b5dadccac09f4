import { type FormEvent, useRef, useState } from "react";
import { useMe } from "../api/auth";
import { ApiError } from "../api/client";
import { type ModelConfig, useModels } from "../api/models";
import { type SecretInfo, useDeleteSecret, useSecrets, useSetSecret } from "../api/secrets";
import { Field, InputField } from "../components/field";
import { PageHeader } from "../components/page-header";
import "./secrets.css";

/** What the backend accepts as a secret name (`PUT /api/secrets/{name}`). */
export const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/;

/**
 * What uses each secret, as far as the page can tell: models naming it in a `*_secret` param (their API
 * key) and the data source whose password it holds (`datasource.<name>.password`). Flows read secrets
 * by name at run time and are not listed.
 */
export function secretUsage(
  secrets: readonly SecretInfo[],
  models: readonly ModelConfig[],
): Map<string, string[]> {
  const usage = new Map<string, string[]>(secrets.map((secret) => [secret.name, []]));
  for (const model of models) {
    for (const [key, value] of Object.entries(model.params ?? {})) {
      if (key.endsWith("_secret") && typeof value === "string")
        usage.get(value)?.push(`model ${model.name}`);
    }
  }
  for (const secret of secrets) {
    const source = /^datasource\.(.+)\.password$/.exec(secret.name);
    if (source) usage.get(secret.name)?.push(`data source ${source[1]}`);
  }
  return usage;
}

function when(stamp: string): string {
  return new Date(stamp).toLocaleString();
}

function Forbidden() {
  return (
    <section className="card secrets-forbidden" data-testid="secrets-forbidden" role="alert">
      <h2 className="card__title">Administrators only</h2>
      <p className="muted">
        Secrets are managed by administrators. Flows you write can still use them by name (a
        variable of type <code>secret</code>); ask an administrator to add one.
      </p>
    </section>
  );
}

function SecretRow({
  secret,
  usedBy,
  onReplace,
}: {
  readonly secret: SecretInfo;
  readonly usedBy: readonly string[];
  readonly onReplace: (name: string) => void;
}) {
  const remove = useDeleteSecret();
  const [confirming, setConfirming] = useState(false);
  return (
    <tr data-testid="secret-row" data-secret={secret.name}>
      <th scope="row">
        <code>{secret.name}</code>
      </th>
      <td>
        <span className="secrets__masked" title="Values are write-only">
          ••••••••
        </span>
      </td>
      <td title={`created ${when(secret.created_at)}`}>{when(secret.updated_at)}</td>
      <td data-testid="secret-usage">{usedBy.length ? usedBy.join(", ") : "—"}</td>
      <td className="table__actions">
        {confirming ? (
          <span className="secrets__confirm" data-testid="secret-confirm">
            <span>Delete {secret.name}? Flows that read it will fail.</span>
            <button
              type="button"
              className="button button--danger button--small"
              disabled={remove.isPending}
              onClick={() => remove.mutate(secret.name, { onSuccess: () => setConfirming(false) })}
            >
              Delete
            </button>
            <button
              type="button"
              className="button button--ghost button--small"
              onClick={() => setConfirming(false)}
            >
              Cancel
            </button>
          </span>
        ) : (
          <>
            <button
              type="button"
              className="button button--ghost"
              aria-label={`Replace ${secret.name}`}
              onClick={() => onReplace(secret.name)}
            >
              Replace value
            </button>
            <button
              type="button"
              className="button button--ghost"
              aria-label={`Delete ${secret.name}`}
              onClick={() => setConfirming(true)}
            >
              Delete
            </button>
          </>
        )}
        {remove.error ? <p className="form-error">{remove.error.message}</p> : null}
      </td>
    </tr>
  );
}

/** Set a secret: the name and a write-only value (cleared once saved, never read back). */
function SecretForm({
  name,
  onName,
  replacing,
  valueRef,
}: {
  readonly name: string;
  readonly onName: (name: string) => void;
  readonly replacing: boolean;
  readonly valueRef: React.RefObject<HTMLInputElement | null>;
}) {
  const save = useSetSecret();
  const [value, setValue] = useState("");
  const [saved, setSaved] = useState<string | null>(null);
  const nameOk = SECRET_NAME.test(name);
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (!nameOk || !value) return;
    setSaved(null);
    save.mutate(
      { name, value },
      {
        onSuccess: (info) => {
          setValue("");
          onName("");
          setSaved(info.name);
        },
      },
    );
  };
  return (
    <section className="card" aria-labelledby="secret-form-title">
      <h2 id="secret-form-title" className="card__title">
        {replacing ? `Replace the value of ${name}` : "Add a secret"}
      </h2>
      <form className="inline-form" onSubmit={submit} autoComplete="off">
        <InputField
          label="Name"
          value={name}
          onValue={onName}
          required
          placeholder="OPENAI_API_KEY"
          hint={
            name && !nameOk
              ? "Letters, digits, '_', '.', '-'; start with a letter or '_'."
              : "Flows read it by this name."
          }
          aria-invalid={name !== "" && !nameOk}
          data-testid="secret-name"
        />
        <Field label="Value" hint="Write-only: it is encrypted and never shown again.">
          <input
            ref={valueRef}
            className="field__input"
            type="password"
            autoComplete="new-password"
            value={value}
            required
            data-testid="secret-value"
            onChange={(event) => setValue(event.target.value)}
          />
        </Field>
        <button
          className="button button--primary"
          type="submit"
          disabled={!nameOk || !value || save.isPending}
        >
          {replacing ? "Replace" : "Save secret"}
        </button>
      </form>
      {save.error ? (
        <p className="form-error" role="alert">
          {save.error.message}
        </p>
      ) : null}
      {saved ? (
        <p className="muted" role="status" data-testid="secret-saved">
          Saved {saved}. Its value is stored encrypted and cannot be read back.
        </p>
      ) : null}
    </section>
  );
}

/** `/secrets`: administrators list, set, replace and delete secrets; values are never displayed. */
export function SecretsPage() {
  const me = useMe();
  const isAdmin = me.data?.is_admin === true;
  const secrets = useSecrets(isAdmin);
  const [name, setName] = useState("");
  const valueRef = useRef<HTMLInputElement | null>(null);
  const listed = secrets.data ?? [];
  const models = useModels();
  const usage = secretUsage(listed, isAdmin ? (models.data ?? []) : []);
  const forbidden =
    (me.data && !isAdmin) || (secrets.error instanceof ApiError && secrets.error.status === 403);
  const replace = (secretName: string) => {
    setName(secretName);
    valueRef.current?.focus();
  };
  return (
    <div className="page">
      <PageHeader
        title="Secrets"
        description="Encrypted values that flows and models use by name (API keys, passwords). Values are write-only: they are never displayed or returned."
      />
      {forbidden ? <Forbidden /> : null}
      {isAdmin && !forbidden ? (
        <>
          <SecretForm
            name={name}
            onName={setName}
            replacing={listed.some((s) => s.name === name)}
            valueRef={valueRef}
          />
          <section className="card" aria-labelledby="secrets-title">
            <h2 id="secrets-title" className="card__title">
              Stored secrets
            </h2>
            {secrets.error ? <p className="form-error">{secrets.error.message}</p> : null}
            {secrets.isPending ? <p className="muted">Loading…</p> : null}
            {secrets.data && listed.length === 0 ? <p className="muted">No secrets yet.</p> : null}
            {listed.length > 0 ? (
              <table className="table" aria-label="Secrets">
                <thead>
                  <tr>
                    <th>Name</th>
                    <th>Value</th>
                    <th>Updated</th>
                    <th>Used by</th>
                    <th />
                  </tr>
                </thead>
                <tbody>
                  {listed.map((secret) => (
                    <SecretRow
                      key={secret.name}
                      secret={secret}
                      usedBy={usage.get(secret.name) ?? []}
                      onReplace={replace}
                    />
                  ))}
                </tbody>
              </table>
            ) : null}
          </section>
        </>
      ) : null}
    </div>
  );
}

export default SecretsPage;
