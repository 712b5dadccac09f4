import { useCallback, useEffect, useMemo, useRef } from "react";
import { useCanvasStore } from "../canvas/canvas-store";
import { useRunStore } from "../runs/run-store";

export interface RunInputSpec {
  readonly name: string;
  readonly type: string;
  readonly required: boolean;
  readonly description: string;
}

/** The run inputs a flow reads: one per `core.input` node (its `name`, `type` and `required`). */
export function useRunInputSpecs(): RunInputSpec[] {
  // Selected as one string so that the selection is stable between unrelated store updates.
  const key = useCanvasStore((state) =>
    JSON.stringify(
      state.nodes.flatMap((node) => {
        if (node.type !== "operator" || node.data.operator !== "core.input") return [];
        const params = node.data.params;
        return [
          {
            name: typeof params.name === "string" ? params.name : "input",
            type: typeof params.type === "string" ? params.type : "Text",
            required: params.required !== false,
            description: typeof params.description === "string" ? params.description : "",
          },
        ];
      }),
    ),
  );
  return useMemo(() => JSON.parse(key) as RunInputSpec[], [key]);
}

/** Names that hold credentials: such run inputs are masked and never remembered. */
const SECRET_NAME =
  /pass(word|wd|phrase)?|secret|token|api[_-]?key|apikey|credential|private[_-]?key/i;

/**
 * Whether a run input holds a secret: its type says so, its name looks like a credential, or the flow
 * declares a `secret` variable of that name. Secret inputs are never written to the browser's storage.
 */
export function isSecretInput(name: string, type: string, secretVariables: ReadonlySet<string>) {
  return /secret/i.test(type) || SECRET_NAME.test(name) || secretVariables.has(name);
}

/** The names of the flow's `secret` variables, as one stable selection. */
function useSecretVariables(): ReadonlySet<string> {
  const key = useCanvasStore((state) =>
    (state.meta.variables ?? [])
      .filter((variable) => variable.type === "secret")
      .map((variable) => variable.name)
      .join("\n"),
  );
  return useMemo(() => new Set(key ? key.split("\n") : []), [key]);
}

export const REMEMBERED_PREFIX = "rivulet.run-inputs.";

/** The run inputs remembered for a flow (`null`: none), secret ones left out even if found. */
export function readRememberedInputs(
  flowId: string,
  isSecret: (name: string) => boolean,
): Record<string, string> | null {
  try {
    const raw = window.localStorage.getItem(REMEMBERED_PREFIX + flowId);
    if (!raw) return null;
    const parsed: unknown = JSON.parse(raw);
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return null;
    return Object.fromEntries(
      Object.entries(parsed).filter(
        ([name, value]) => typeof value === "string" && !isSecret(name),
      ),
    ) as Record<string, string>;
  } catch {
    return null; // storage disabled or a damaged entry: start empty
  }
}

/** Remembers a flow's typed run inputs (without the secret ones; nothing left: the entry goes). */
export function writeRememberedInputs(
  flowId: string,
  inputs: Readonly<Record<string, string>>,
  isSecret: (name: string) => boolean,
): void {
  const kept = Object.entries(inputs).filter(([name, value]) => value !== "" && !isSecret(name));
  try {
    if (kept.length === 0) window.localStorage.removeItem(REMEMBERED_PREFIX + flowId);
    else
      window.localStorage.setItem(
        REMEMBERED_PREFIX + flowId,
        JSON.stringify(Object.fromEntries(kept)),
      );
  } catch {
    // storage full or disabled: the inputs simply are not remembered
  }
}

/** Which flow the run store's typed inputs belong to (they are one set for the whole editor). */
let inputsOwner: string | null = null;

/**
 * Keeps the editor's run inputs per flow across reloads (`localStorage`, keyed by flow id): opening a
 * flow restores what was typed for it last, typing stores it; another flow starts empty. Inputs typed in
 * a new flow are kept when it is first saved. Secret inputs (see `isSecretInput`) are never stored.
 */
export function useRememberedRunInputs(flowId: string | null) {
  const specs = useRunInputSpecs();
  const secretVariables = useSecretVariables();
  const types = useMemo(() => new Map(specs.map((spec) => [spec.name, spec.type])), [specs]);
  const isSecret = useCallback(
    (name: string) => isSecretInput(name, types.get(name) ?? "", secretVariables),
    [types, secretVariables],
  );
  const latest = useRef(isSecret);
  latest.current = isSecret;

  useEffect(() => {
    if (!flowId) {
      // a new, unsaved flow: start empty; what is typed is kept when it is first saved
      if (inputsOwner !== null) useRunStore.setState({ inputs: {} });
      inputsOwner = null;
      return;
    }
    const check = (name: string) => latest.current(name);
    const stored = readRememberedInputs(flowId, check);
    if (stored) useRunStore.setState({ inputs: stored });
    else if (inputsOwner !== null && inputsOwner !== flowId) useRunStore.setState({ inputs: {} });
    else writeRememberedInputs(flowId, useRunStore.getState().inputs, check);
    inputsOwner = flowId;
    return useRunStore.subscribe((state, previous) => {
      if (state.inputs !== previous.inputs) writeRememberedInputs(flowId, state.inputs, check);
    });
  }, [flowId]);

  // A secret variable or a credential-like input added after values were stored: drop them now.
  useEffect(() => {
    if (flowId) writeRememberedInputs(flowId, useRunStore.getState().inputs, isSecret);
  }, [flowId, isSecret]);
}

/** A typed input's text as the value sent: Text as is, anything else parsed as JSON when it parses. */
export function inputValue(type: string, text: string): unknown {
  if (type === "Text" || type === "Optional[Text]") return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The values the next run starts with, one field per `core.input` node (remembered per flow). */
export function RunInputs() {
  const specs = useRunInputSpecs();
  const secretVariables = useSecretVariables();
  const values = useRunStore((state) => state.inputs);
  const setInput = useRunStore((state) => state.setInput);
  if (!specs.length) {
    return (
      <p className="muted">
        This flow reads no run inputs. Add an <strong>Input</strong> operator to ask for one.
      </p>
    );
  }
  return (
    <div className="run-inputs" data-testid="run-inputs">
      {specs.map((spec) => {
        const secret = isSecretInput(spec.name, spec.type, secretVariables);
        return (
          <label key={spec.name} className="field">
            <span className="field__label">
              {spec.name}
              {spec.required ? <span className="field__required">*</span> : null}
              <span className="field__kind">{spec.type}</span>
            </span>
            <input
              className="field__input"
              type={secret ? "password" : "text"}
              autoComplete={secret ? "off" : undefined}
              value={values[spec.name] ?? ""}
              placeholder={spec.type === "Text" ? "text" : "JSON value"}
              data-testid={`run-input-${spec.name}`}
              data-secret={secret ? "true" : undefined}
              onChange={(event) => setInput(spec.name, event.target.value)}
            />
            {spec.description ? <span className="field__hint">{spec.description}</span> : null}
            {secret ? (
              <span className="field__hint">A secret: not remembered after a reload.</span>
            ) : null}
          </label>
        );
      })}
    </div>
  );
}
