import { type FormEvent, useState } from "react";
import type { ModelConfig, ModelProvider, ModelUpdate } from "../api/models";
import { Field, InputField } from "../components/field";

const PROVIDERS: readonly { value: ModelProvider; label: string; kinds: readonly string[] }[] = [
  { value: "openai_compatible", label: "OpenAI-compatible API", kinds: ["chat", "embedding"] },
  { value: "local_llamacpp", label: "Local GGUF (llama.cpp)", kinds: ["chat"] },
  {
    value: "local_sentence_transformers",
    label: "Local sentence-transformers",
    kinds: ["embedding"],
  },
  { value: "vllm", label: "vLLM in process (GPU)", kinds: ["chat"] },
];

export interface ModelFormValues {
  readonly name: string;
  readonly body: ModelUpdate;
}

interface ModelFormProps {
  readonly initial?: ModelConfig;
  readonly busy?: boolean;
  readonly error?: string | null;
  readonly onSubmit: (values: ModelFormValues) => void;
  readonly onCancel: () => void;
}

function paramsText(model: ModelConfig | undefined): string {
  const params = { ...(model?.params ?? {}) };
  for (const key of ["base_url", "model", "api_key_secret"]) delete params[key];
  return Object.keys(params).length ? JSON.stringify(params, null, 2) : "";
}

function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

/** Add or edit a model: common fields, the OpenAI-compatible fields, and other params as JSON. */
export function ModelForm({ initial, busy, error, onSubmit, onCancel }: ModelFormProps) {
  const [name, setName] = useState(initial?.name ?? "");
  const [provider, setProvider] = useState<ModelProvider>(initial?.provider ?? "openai_compatible");
  const [kind, setKind] = useState<ModelConfig["kind"]>(initial?.kind ?? "chat");
  const [baseUrl, setBaseUrl] = useState(text(initial?.params?.base_url));
  const [remoteModel, setRemoteModel] = useState(text(initial?.params?.model));
  const [apiKeySecret, setApiKeySecret] = useState(text(initial?.params?.api_key_secret));
  const [extra, setExtra] = useState(paramsText(initial));
  const [concurrency, setConcurrency] = useState(initial?.concurrency ?? 4);
  const [timeout, setTimeoutS] = useState(initial?.timeout_s ?? 120);
  const [fallbacks, setFallbacks] = useState((initial?.fallbacks ?? []).join(", "));
  const [isDefault, setIsDefault] = useState(initial?.is_default ?? false);
  const [allowPrivate, setAllowPrivate] = useState(initial?.allow_private_network ?? false);
  const [localError, setLocalError] = useState<string | null>(null);
  const kinds = PROVIDERS.find((p) => p.value === provider)?.kinds ?? ["chat"];
  const remote = provider === "openai_compatible";

  const submit = (event: FormEvent) => {
    event.preventDefault();
    let params: Record<string, unknown> = {};
    try {
      params = extra.trim() ? (JSON.parse(extra) as Record<string, unknown>) : {};
    } catch {
      setLocalError("Other params must be a JSON object");
      return;
    }
    if (remote) {
      params = { ...params, base_url: baseUrl, model: remoteModel };
      if (apiKeySecret) params.api_key_secret = apiKeySecret;
    } else if (provider === "vllm" && remoteModel) {
      params = { ...params, model: remoteModel };
    }
    setLocalError(null);
    onSubmit({
      name: name.trim(),
      body: {
        provider,
        kind: kinds.includes(kind) ? kind : (kinds[0] as ModelConfig["kind"]),
        params,
        concurrency,
        timeout_s: timeout,
        fallbacks: fallbacks
          .split(",")
          .map((f) => f.trim())
          .filter(Boolean),
        is_default: isDefault,
        allow_private_network: allowPrivate,
        description: initial?.description ?? "",
      },
    });
  };

  return (
    <form className="card model-form" onSubmit={submit} aria-label="Model">
      <h2 className="card__title">{initial ? `Edit ${initial.name}` : "Add a model"}</h2>
      <InputField
        label="Name"
        value={name}
        onValue={setName}
        required
        pattern="[a-z0-9][a-z0-9_.:\-]{0,99}"
        disabled={Boolean(initial)}
        placeholder="gpt-4o-mini"
      />
      <Field label="Provider">
        <select
          className="field__input"
          value={provider}
          onChange={(e) => setProvider(e.target.value as ModelProvider)}
        >
          {PROVIDERS.map((p) => (
            <option key={p.value} value={p.value}>
              {p.label}
            </option>
          ))}
        </select>
      </Field>
      <Field label="Kind">
        <select
          className="field__input"
          value={kind}
          onChange={(e) => setKind(e.target.value as ModelConfig["kind"])}
        >
          {kinds.map((k) => (
            <option key={k} value={k}>
              {k}
            </option>
          ))}
        </select>
      </Field>
      {remote && (
        <>
          <InputField
            label="Base URL"
            value={baseUrl}
            onValue={setBaseUrl}
            required
            placeholder="https://api.openai.com/v1"
          />
          <InputField
            label="API key secret (name)"
            value={apiKeySecret}
            onValue={setApiKeySecret}
            placeholder="openai"
          />
        </>
      )}
      {(remote || provider === "vllm") && (
        <InputField
          label="Model name on the server"
          value={remoteModel}
          onValue={setRemoteModel}
          required
          placeholder="gpt-4o-mini"
        />
      )}
      <Field label="Other params (JSON)">
        <textarea
          className="field__input field__input--code"
          value={extra}
          onChange={(e) => setExtra(e.target.value)}
          rows={3}
          placeholder={provider === "local_llamacpp" ? '{"model_path": "/models/x.gguf"}' : "{}"}
        />
      </Field>
      <InputField
        label="Concurrency"
        type="number"
        min={1}
        value={concurrency}
        onValue={(v) => setConcurrency(Number(v))}
      />
      <InputField
        label="Timeout (s)"
        type="number"
        min={1}
        value={timeout}
        onValue={(v) => setTimeoutS(Number(v))}
      />
      <InputField
        label="Fallbacks (comma-separated)"
        value={fallbacks}
        onValue={setFallbacks}
        placeholder="default"
      />
      <label className="model-form__check">
        <input
          type="checkbox"
          checked={isDefault}
          onChange={(e) => setIsDefault(e.target.checked)}
        />
        Default model of its kind
      </label>
      {remote && (
        <label className="model-form__check">
          <input
            type="checkbox"
            checked={allowPrivate}
            onChange={(e) => setAllowPrivate(e.target.checked)}
          />
          Allow a private or loopback address (local servers)
        </label>
      )}
      {(localError ?? error) && (
        <p role="alert" className="model-form__error">
          {localError ?? error}
        </p>
      )}
      <div className="model-form__actions">
        <button type="submit" className="button button--primary" disabled={busy}>
          Save
        </button>
        <button type="button" className="button button--ghost" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
