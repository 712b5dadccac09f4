import { type FormEvent, useState } from "react";
import {
  type Datasource,
  type DatasourceUpdate,
  type Text2SQLExample,
  useUpdateDatasource,
} from "../api/datasources";
import { Field, InputField } from "../components/field";

interface Values {
  readonly description: string;
  readonly host: string;
  readonly port: string;
  readonly database: string;
  readonly user: string;
  readonly password: string;
  readonly path: string;
  readonly examples: readonly Text2SQLExample[];
}

function text(config: Datasource["config"], key: string): string {
  const value = config?.[key];
  return typeof value === "string" || typeof value === "number" ? String(value) : "";
}

/** The form's starting values: what the data source has now (never a password). */
export function valuesOf(source: Datasource): Values {
  const config = source.config ?? {};
  return {
    description: source.description ?? "",
    host: text(config, "host"),
    port: text(config, "port"),
    database: text(config, "database"),
    user: text(config, "user"),
    password: "",
    path: text(config, "path"),
    examples: source.example_pairs ?? [],
  };
}

/**
 * The `PATCH` body: only what changed (a new connection drops the cached schema, so unchanged
 * connection fields are not sent); an empty password keeps the stored one; examples whose question
 * or SQL is blank are left out.
 */
export function updateOf(source: Datasource, values: Values): DatasourceUpdate {
  const before = valuesOf(source);
  const update: DatasourceUpdate = {};
  if (values.description !== before.description) update.description = values.description;
  if (source.kind === "postgres" || source.kind === "mysql") {
    if (values.host.trim() !== before.host) update.host = values.host.trim();
    if (values.port.trim() !== before.port && values.port.trim() !== "") {
      update.port = Number.parseInt(values.port, 10);
    }
    if (values.database.trim() !== before.database) update.database = values.database.trim();
    if (values.user.trim() !== before.user) update.user = values.user.trim();
    if (values.password !== "") update.password = values.password;
  }
  if (
    (source.kind === "sqlite" || source.kind === "duckdb") &&
    values.path.trim() !== before.path
  ) {
    update.path = values.path.trim();
  }
  const examples = values.examples
    .map((example) => ({ question: example.question.trim(), sql: example.sql.trim() }))
    .filter((example) => example.question !== "" && example.sql !== "");
  if (JSON.stringify(examples) !== JSON.stringify(before.examples)) update.examples = examples;
  return update;
}

function ExamplesEditor({
  examples,
  onChange,
}: {
  readonly examples: readonly Text2SQLExample[];
  readonly onChange: (examples: readonly Text2SQLExample[]) => void;
}) {
  const set = (index: number, patch: Partial<Text2SQLExample>) =>
    onChange(examples.map((example, at) => (at === index ? { ...example, ...patch } : example)));
  return (
    <fieldset className="data-examples">
      <legend className="field__label">Few-shot examples</legend>
      <p className="muted data-examples__hint">
        Questions with the SQL that answers them: the closest ones go into the model's prompt.
      </p>
      <ol className="data-examples__list" aria-label="Examples">
        {examples.map((example, index) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: rows have no identity but their place
          <li key={index} className="data-examples__item">
            <InputField
              label={`Question ${index + 1}`}
              value={example.question}
              onValue={(question) => set(index, { question })}
            />
            <Field label={`SQL ${index + 1}`}>
              <textarea
                className="field__input field__input--code"
                rows={2}
                spellCheck={false}
                value={example.sql}
                onChange={(event) => set(index, { sql: event.target.value })}
              />
            </Field>
            <button
              type="button"
              className="button button--ghost button--small"
              aria-label={`Remove example ${index + 1}`}
              onClick={() => onChange(examples.filter((_, at) => at !== index))}
            >
              Remove
            </button>
          </li>
        ))}
      </ol>
      <button
        type="button"
        className="button button--ghost button--small"
        onClick={() => onChange([...examples, { question: "", sql: "" }])}
      >
        Add example
      </button>
    </fieldset>
  );
}

/** Administrators change a data source: description, connection, a new password, examples. */
export function DatasourceEditDialog({
  source,
  onClose,
}: {
  readonly source: Datasource;
  readonly onClose: () => void;
}) {
  const update = useUpdateDatasource(source.name);
  const [values, setValues] = useState<Values>(() => valuesOf(source));
  const field = (key: keyof Omit<Values, "examples">) => (value: string) =>
    setValues((current) => ({ ...current, [key]: value }));
  const server = source.kind === "postgres" || source.kind === "mysql";
  const changes = updateOf(source, values);
  const changed = Object.keys(changes).length > 0;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!changed || update.isPending) return;
    update.mutate(changes, { onSuccess: onClose });
  };

  return (
    <div className="dialog-backdrop">
      <form
        className="dialog data-edit"
        role="dialog"
        aria-label={`Edit ${source.name}`}
        onSubmit={submit}
      >
        <h2 className="dialog__title">Edit {source.name}</h2>
        <InputField
          label="Description"
          hint="Helps the model and people pick this source."
          value={values.description}
          onValue={field("description")}
        />
        {server ? (
          <>
            <div className="data-edit__row">
              <InputField label="Host" required value={values.host} onValue={field("host")} />
              <InputField
                label="Port"
                type="number"
                min={1}
                max={65535}
                value={values.port}
                onValue={field("port")}
              />
            </div>
            <InputField label="Database" value={values.database} onValue={field("database")} />
            <div className="data-edit__row">
              <InputField
                label="User"
                autoComplete="off"
                value={values.user}
                onValue={field("user")}
              />
              <InputField
                label="New password"
                hint={
                  source.has_password ? "Empty keeps the stored password." : "Empty: no password."
                }
                type="password"
                autoComplete="new-password"
                value={values.password}
                onValue={field("password")}
              />
            </div>
          </>
        ) : null}
        {source.kind === "sqlite" || source.kind === "duckdb" ? (
          <InputField
            label="Path"
            hint="The database file on the server; opened read-only."
            required
            value={values.path}
            onValue={field("path")}
          />
        ) : null}
        <ExamplesEditor
          examples={values.examples}
          onChange={(examples) => setValues((current) => ({ ...current, examples }))}
        />
        {update.error ? <p role="alert">{update.error.message}</p> : null}
        <div className="dialog__actions">
          <button type="button" className="button button--ghost" onClick={onClose}>
            Cancel
          </button>
          <button
            type="submit"
            className="button button--primary"
            disabled={update.isPending || !changed}
          >
            {update.isPending ? "Saving…" : "Save"}
          </button>
        </div>
      </form>
    </div>
  );
}
