import { useQuery } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { type AppCreate, type AppRead, useCreateApp, useUpdateApp } from "../api/apps";
import { type FlowDocumentBody, flowQueryOptions, useFlowList } from "../api/flows";
import { Field, InputField } from "../components/field";

/** Select values that are not input names. */
const AUTO = "__auto";
const NONE = "__none";

/** The run inputs a flow reads: its `core.input` names and its `trigger.http` fields. */
export function flowRunInputs(document: FlowDocumentBody | undefined): string[] {
  const names: string[] = [];
  for (const node of document?.nodes ?? []) {
    const params = (node.params ?? {}) as Record<string, unknown>;
    if (node.operator === "core.input" && typeof params.name === "string") names.push(params.name);
    if (node.operator === "trigger.http" && Array.isArray(params.fields)) {
      for (const field of params.fields as { name?: unknown }[]) {
        if (typeof field.name === "string") names.push(field.name);
      }
    }
  }
  return [...new Set(names)];
}

/** What the server picks when no input is named (publishing/apps.py detects the same way). */
const MESSAGE_NAMES = ["message", "question", "query", "user_input", "input", "prompt", "text"];
const SESSION_NAMES = ["session_id", "conversation_id", "conversation_uid"];

export function detectedInputs(names: readonly string[]): {
  message: string | null;
  session: string | null;
} {
  const session = SESSION_NAMES.find((name) => names.includes(name)) ?? null;
  const others = names.filter((name) => !SESSION_NAMES.includes(name));
  const message =
    MESSAGE_NAMES.find((name) => names.includes(name)) ?? (others.length === 1 ? others[0] : null);
  return { message: message ?? null, session };
}

/** A slug made from a title: lower case, dashes, at most 63 characters. */
export function slugify(text: string): string {
  return text
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63)
    .replace(/-+$/, "");
}

const questionLines = (text: string) =>
  text
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);

interface AppFormProps {
  /** Edit this app; absent: create one. */
  readonly app?: AppRead;
  /** Create for this flow (no flow picker). */
  readonly flowId?: string;
  /** A title to start from when creating (e.g. the flow's name). */
  readonly defaultTitle?: string;
  readonly onDone?: (app: AppRead) => void;
  readonly onCancel?: () => void;
}

function InputSelect({
  label,
  value,
  names,
  detected,
  allowNone,
  onValue,
}: {
  readonly label: string;
  readonly value: string;
  readonly names: readonly string[];
  /** What "Detect" would pick, when known. */
  readonly detected: string | null | undefined;
  readonly allowNone?: boolean;
  readonly onValue: (value: string) => void;
}) {
  const options =
    value && value !== AUTO && value !== NONE ? [...new Set([value, ...names])] : names;
  return (
    <Field label={label}>
      <select className="field__input" value={value} onChange={(e) => onValue(e.target.value)}>
        <option value={AUTO}>
          {detected === undefined ? "Detect" : `Detect (${detected ?? "none"})`}
        </option>
        {allowNone ? <option value={NONE}>None (no memory)</option> : null}
        {options.map((name) => (
          <option key={name} value={name}>
            {name}
          </option>
        ))}
      </select>
    </Field>
  );
}

/** Create a chat app for a flow, or change one: page address, title, text, questions and inputs. */
export function AppForm({ app, flowId: fixedFlow, defaultTitle, onDone, onCancel }: AppFormProps) {
  const flows = useFlowList("");
  const create = useCreateApp();
  const update = useUpdateApp();
  const [flowId, setFlowId] = useState(app?.flow_id ?? fixedFlow ?? "");
  const [title, setTitle] = useState(app?.title ?? defaultTitle ?? "");
  const [slug, setSlug] = useState(app?.slug ?? slugify(defaultTitle ?? ""));
  const [slugTouched, setSlugTouched] = useState(Boolean(app));
  const [description, setDescription] = useState(app?.description ?? "");
  const [questions, setQuestions] = useState((app?.suggested_questions ?? []).join("\n"));
  const [messageInput, setMessageInput] = useState(app?.message_input ?? AUTO);
  const [sessionInput, setSessionInput] = useState(app ? (app.session_input ?? NONE) : AUTO);
  // Before the app exists, its inputs come from the flow's document (the server detects the same).
  const flow = useQuery({ ...flowQueryOptions(flowId), enabled: Boolean(flowId) && !app });
  const names = app?.inputs.length
    ? app.inputs.map((input) => input.name)
    : flowRunInputs(flowId ? flow.data?.document : undefined);
  const detected = names.length ? detectedInputs(names) : undefined;
  const pending = create.isPending || update.isPending;
  const error = create.error ?? update.error;

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const common = {
      slug,
      title,
      description,
      suggested_questions: questionLines(questions),
      message_input: messageInput === AUTO ? null : messageInput,
      session_input: sessionInput === AUTO ? null : sessionInput === NONE ? "" : sessionInput,
    };
    if (app) {
      update.mutate({ appId: app.id, body: common }, { onSuccess: onDone });
    } else {
      const body: AppCreate = { flow_id: flowId, ...common };
      create.mutate(body, { onSuccess: onDone });
    }
  };

  return (
    <form
      className="app-form"
      onSubmit={submit}
      aria-label={app ? `Edit ${app.title}` : "New chat app"}
    >
      {app || fixedFlow ? null : (
        <Field label="Flow">
          <select
            className="field__input"
            value={flowId}
            onChange={(event) => setFlowId(event.target.value)}
            required
          >
            <option value="">Choose a flow…</option>
            {(flows.data ?? []).map((item) => (
              <option key={item.id} value={item.id}>
                {item.name}
              </option>
            ))}
          </select>
        </Field>
      )}
      <InputField
        label="Title"
        value={title}
        required
        maxLength={200}
        onValue={(value) => {
          setTitle(value);
          if (!slugTouched) setSlug(slugify(value));
        }}
      />
      <InputField
        label="Slug"
        hint={`The page: /apps/${slug || "…"}`}
        value={slug}
        required
        pattern="[a-z0-9][a-z0-9\-]{0,62}"
        onValue={(value) => {
          setSlugTouched(true);
          setSlug(value);
        }}
      />
      <Field label="Description">
        <textarea
          className="field__input"
          rows={2}
          value={description}
          maxLength={5000}
          onChange={(event) => setDescription(event.target.value)}
        />
      </Field>
      <Field label="Suggested questions" hint="One per line, shown on an empty chat.">
        <textarea
          className="field__input"
          rows={3}
          value={questions}
          onChange={(event) => setQuestions(event.target.value)}
        />
      </Field>
      <div className="app-form__inputs">
        <InputSelect
          label="Message input"
          value={messageInput}
          names={names}
          detected={detected?.message}
          onValue={setMessageInput}
        />
        <InputSelect
          label="Session input"
          value={sessionInput}
          names={names}
          detected={detected === undefined ? undefined : detected.session}
          allowNone
          onValue={setSessionInput}
        />
      </div>
      {error ? (
        <p className="form-error" role="alert">
          {error.message}
        </p>
      ) : null}
      <div className="app-form__actions">
        {onCancel ? (
          <button type="button" className="button button--ghost" onClick={onCancel}>
            Cancel
          </button>
        ) : null}
        <button
          type="submit"
          className="button button--primary"
          disabled={pending || !flowId || !title || !slug}
        >
          {app ? "Save" : "Create app"}
        </button>
      </div>
    </form>
  );
}
