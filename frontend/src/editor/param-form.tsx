import { useQuery } from "@tanstack/react-query";
import { useEffect, useId, useState } from "react";
import { api } from "../api/client";
import type { JsonSchema } from "../canvas/param-defaults";
import { BASE_TYPES } from "../canvas/port-types";
import { type FieldKind, type FieldSpec, fieldSpecs } from "./param-schema";

/**
 * Where a picker's suggestions come from: the typed API client (`generated/schema.d.ts`), one list
 * endpoint per kind. A kind without an endpoint here requests nothing and stays a free text input;
 * so does a failed request.
 */
const PICKER_SOURCES: Partial<Record<FieldKind, (signal: AbortSignal) => Promise<string[]>>> = {
  model: async (signal) => {
    const { data } = await api.GET("/api/models", { signal });
    return data?.items.map((model) => model.name) ?? [];
  },
  secret: async (signal) => {
    const { data } = await api.GET("/api/secrets", { signal });
    return data?.items.map((secret) => secret.name) ?? [];
  },
  knowledge_space: async (signal) => {
    const { data } = await api.GET("/api/knowledge/spaces", { signal });
    return data?.items.map((space) => space.name) ?? [];
  },
  datasource: async (signal) => {
    const { data } = await api.GET("/api/datasources", { signal });
    return data?.items.map((source) => source.name) ?? [];
  },
};

const PICKER_PLACEHOLDERS: Partial<Record<FieldKind, string>> = {
  secret: "secret name",
  knowledge_space: "knowledge space",
  datasource: "data source",
};

function usePickerNames(kind: FieldKind) {
  const source = PICKER_SOURCES[kind];
  return useQuery({
    queryKey: ["picker", kind],
    queryFn: ({ signal }) => (source ? source(signal).catch(() => []) : []),
    enabled: source !== undefined,
    staleTime: 60_000,
    retry: false,
  });
}

interface FieldProps {
  readonly field: FieldSpec;
  readonly value: unknown;
  readonly onChange: (value: unknown) => void;
  readonly inputId: string;
}

function JsonField({ field, value, onChange, inputId }: FieldProps) {
  const serialised = value === undefined ? "" : JSON.stringify(value, null, 2);
  const [text, setText] = useState(serialised);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setText((current) => {
      try {
        return JSON.stringify(JSON.parse(current)) === JSON.stringify(value) ? current : serialised;
      } catch {
        return serialised;
      }
    });
  }, [serialised, value]);
  return (
    <>
      <textarea
        id={inputId}
        className="field__input field__input--code nodrag"
        rows={4}
        spellCheck={false}
        value={text}
        data-testid={`param-${field.name}`}
        onChange={(event) => {
          setText(event.target.value);
          if (!event.target.value.trim()) {
            setError(null);
            onChange(field.nullable ? null : undefined);
            return;
          }
          try {
            onChange(JSON.parse(event.target.value));
            setError(null);
          } catch (reason) {
            setError(reason instanceof Error ? reason.message : "invalid JSON");
          }
        }}
      />
      {error ? <div className="field__error">Invalid JSON: {error}</div> : null}
    </>
  );
}

function PickerField({ field, value, onChange, inputId }: FieldProps) {
  const { data: names = [] } = usePickerNames(field.kind);
  const options = field.kind === "port_type" ? BASE_TYPES : names;
  const listId = `${inputId}-options`;
  return (
    <>
      <input
        id={inputId}
        className="field__input"
        list={listId}
        value={typeof value === "string" ? value : ""}
        placeholder={PICKER_PLACEHOLDERS[field.kind] ?? field.kind}
        data-testid={`param-${field.name}`}
        onChange={(event) => onChange(event.target.value)}
      />
      <datalist id={listId}>
        {options.map((name) => (
          <option key={name} value={name} />
        ))}
      </datalist>
    </>
  );
}

function numberValue(text: string, integer: boolean, nullable: boolean): unknown {
  if (text === "") return nullable ? null : undefined;
  return integer ? Number.parseInt(text, 10) : Number(text);
}

function FieldInput(props: FieldProps) {
  const { field, value, onChange, inputId } = props;
  const testId = `param-${field.name}`;
  switch (field.kind) {
    case "boolean":
      return (
        <input
          id={inputId}
          type="checkbox"
          className="field__checkbox"
          checked={value === true}
          data-testid={testId}
          onChange={(event) => onChange(event.target.checked)}
        />
      );
    case "integer":
    case "number":
      return (
        <input
          id={inputId}
          type="number"
          className="field__input"
          value={typeof value === "number" ? value : ""}
          min={field.minimum}
          max={field.maximum}
          step={field.kind === "integer" ? 1 : "any"}
          data-testid={testId}
          onChange={(event) =>
            onChange(numberValue(event.target.value, field.kind === "integer", field.nullable))
          }
        />
      );
    case "select":
      return (
        <select
          id={inputId}
          className="field__input"
          value={value === undefined || value === null ? "" : String(value)}
          data-testid={testId}
          onChange={(event) => {
            const choice = field.choices.find((option) => String(option) === event.target.value);
            onChange(choice ?? (field.nullable ? null : undefined));
          }}
        >
          {field.nullable || value === undefined ? <option value="">—</option> : null}
          {field.choices.map((choice) => (
            <option key={String(choice)} value={String(choice)}>
              {String(choice)}
            </option>
          ))}
        </select>
      );
    case "textarea":
    case "prompt":
    case "code":
      return (
        <textarea
          id={inputId}
          className={`field__input${field.kind === "textarea" ? "" : " field__input--code"} nodrag`}
          rows={field.kind === "textarea" ? 3 : 6}
          spellCheck={field.kind === "textarea"}
          value={typeof value === "string" ? value : ""}
          data-testid={testId}
          onChange={(event) => onChange(event.target.value)}
        />
      );
    case "json":
      return <JsonField {...props} />;
    case "secret":
    case "model":
    case "datasource":
    case "knowledge_space":
    case "port_type":
      return <PickerField {...props} />;
    default:
      return (
        <input
          id={inputId}
          className="field__input"
          value={typeof value === "string" ? value : value == null ? "" : String(value)}
          data-testid={testId}
          onChange={(event) => onChange(event.target.value)}
        />
      );
  }
}

export interface ParamFormProps {
  readonly schema: JsonSchema;
  readonly values: Readonly<Record<string, unknown>>;
  /** Server diagnostics by param name. */
  readonly errors: Readonly<Record<string, string>>;
  readonly onChange: (name: string, value: unknown) => void;
}

/** A form generated from an operator's params JSON Schema and its `ui` widget hints. */
export function ParamForm({ schema, values, errors, onChange }: ParamFormProps) {
  const baseId = useId();
  const fields = fieldSpecs(schema);
  if (!fields.length) return <p className="muted">This operator has no parameters.</p>;
  return (
    <div className="param-form">
      {fields.map((field) => {
        const inputId = `${baseId}-${field.name}`;
        const error = errors[field.name];
        return (
          <div
            key={field.name}
            className={`field${error ? " field--invalid" : ""}${field.kind === "boolean" ? " field--inline" : ""}`}
            data-testid={`field-${field.name}`}
          >
            <label className="field__label" htmlFor={inputId}>
              {field.title}
              {field.required ? <span className="field__required">*</span> : null}
              {field.kind !== "text" && field.kind !== "boolean" ? (
                <span className="field__kind">{field.kind}</span>
              ) : null}
            </label>
            <FieldInput
              field={field}
              value={values[field.name]}
              inputId={inputId}
              onChange={(value) => onChange(field.name, value)}
            />
            {error ? (
              <div className="field__error" data-testid={`field-error-${field.name}`}>
                {error}
              </div>
            ) : field.description ? (
              <div className="field__hint">{field.description}</div>
            ) : null}
          </div>
        );
      })}
    </div>
  );
}
