import { type FormEvent, useState } from "react";
import {
  type Datasource,
  type DatasourceKind,
  type DatasourceSpec,
  useCreateDatasource,
  useUploadSpreadsheets,
} from "../api/datasources";
import { Field, InputField } from "../components/field";

export const KINDS: readonly { value: DatasourceKind; label: string }[] = [
  { value: "postgres", label: "PostgreSQL" },
  { value: "mysql", label: "MySQL / MariaDB" },
  { value: "sqlite", label: "SQLite file" },
  { value: "duckdb", label: "DuckDB file" },
  { value: "file", label: "Spreadsheet or data file (upload)" },
];

const DEFAULT_PORTS: Partial<Record<DatasourceKind, number>> = { postgres: 5432, mysql: 3306 };
const NAME_PATTERN = "[A-Za-z0-9][A-Za-z0-9_.\\-]{0,63}";

/** The spec sent for a server/file kind: only the fields that kind has (the password write-only). */
export function specOf(
  kind: DatasourceKind,
  values: {
    name: string;
    description: string;
    host: string;
    port: string;
    database: string;
    user: string;
    password: string;
    path: string;
  },
): DatasourceSpec {
  const base = { name: values.name.trim(), kind, description: values.description };
  if (kind === "postgres" || kind === "mysql") {
    return {
      ...base,
      host: values.host.trim(),
      port: values.port ? Number.parseInt(values.port, 10) : (DEFAULT_PORTS[kind] ?? null),
      database: values.database.trim(),
      user: values.user.trim(),
      ...(values.password ? { password: values.password } : {}),
    };
  }
  return { ...base, path: values.path.trim() };
}

interface DatasourceDialogProps {
  readonly onCreated: (source: Datasource) => void;
  readonly onClose: () => void;
}

/** A new data source; the fields follow its kind (server, file path, or an upload). */
export function DatasourceDialog({ onCreated, onClose }: DatasourceDialogProps) {
  const create = useCreateDatasource();
  const upload = useUploadSpreadsheets();
  const [kind, setKind] = useState<DatasourceKind>("postgres");
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [host, setHost] = useState("localhost");
  const [port, setPort] = useState("");
  const [database, setDatabase] = useState("");
  const [user, setUser] = useState("");
  const [password, setPassword] = useState("");
  const [path, setPath] = useState("");
  const [files, setFiles] = useState<File[]>([]);
  const server = kind === "postgres" || kind === "mysql";
  const pending = create.isPending || upload.isPending;
  const ready =
    name.trim() !== "" &&
    (server ? host.trim() !== "" : kind === "file" ? files.length > 0 : path.trim() !== "");

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!ready || pending) return;
    if (kind === "file") {
      upload.mutate({ files, name: name.trim() }, { onSuccess: onCreated });
      return;
    }
    create.mutate(specOf(kind, { name, description, host, port, database, user, password, path }), {
      onSuccess: onCreated,
    });
  };

  const error = create.error ?? upload.error;
  return (
    <div className="dialog-backdrop">
      <form className="dialog" role="dialog" aria-label="New data source" onSubmit={submit}>
        <h2 className="dialog__title">New data source</h2>
        <Field label="Kind">
          <select
            className="field__input"
            value={kind}
            onChange={(event) => setKind(event.target.value as DatasourceKind)}
          >
            {KINDS.map((option) => (
              <option key={option.value} value={option.value}>
                {option.label}
              </option>
            ))}
          </select>
        </Field>
        <InputField
          label="Name"
          hint="Flows name the source by it (letters, digits, _ . -)."
          required
          pattern={NAME_PATTERN}
          maxLength={64}
          autoFocus
          value={name}
          onValue={setName}
        />
        <InputField label="Description" value={description} onValue={setDescription} />
        {server ? (
          <>
            <div className="dialog__row">
              <InputField label="Host" required value={host} onValue={setHost} />
              <InputField
                label="Port"
                type="number"
                min={1}
                max={65535}
                placeholder={String(DEFAULT_PORTS[kind] ?? "")}
                value={port}
                onValue={setPort}
              />
            </div>
            <InputField label="Database" value={database} onValue={setDatabase} />
            <div className="dialog__row">
              <InputField label="User" autoComplete="off" value={user} onValue={setUser} />
              <InputField
                label="Password"
                hint="Stored as a secret; never shown again."
                type="password"
                autoComplete="new-password"
                value={password}
                onValue={setPassword}
              />
            </div>
          </>
        ) : null}
        {kind === "sqlite" || kind === "duckdb" ? (
          <InputField
            label="Path"
            hint="The database file on the server; opened read-only."
            required
            placeholder={kind === "sqlite" ? "/data/shop.sqlite" : "/data/warehouse.duckdb"}
            value={path}
            onValue={setPath}
          />
        ) : null}
        {kind === "file" ? (
          <Field label="Files" hint="csv, tsv, xlsx (one table per sheet), parquet, json, jsonl">
            <input
              type="file"
              multiple
              className="field__input"
              accept=".csv,.tsv,.xlsx,.parquet,.json,.jsonl"
              onChange={(event) => setFiles([...(event.target.files ?? [])])}
            />
          </Field>
        ) : null}
        {error ? <p role="alert">{error.message}</p> : null}
        <div className="dialog__actions">
          <button type="button" className="button button--ghost" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button button--primary" disabled={pending || !ready}>
            {pending ? "Adding…" : "Add data source"}
          </button>
        </div>
      </form>
    </div>
  );
}
