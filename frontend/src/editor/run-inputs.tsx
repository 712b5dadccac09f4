import { useMemo } from "react";
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

/** A typed input's text as the value sent: Text as is, anything else parsed as JSON when it parses. */
export function inputValue(type: string, text: string): unknown {
  if (type === "Text" || type === "Optional[Text]") return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The values the next run starts with, one field per `core.input` node. */
export function RunInputs() {
  const specs = useRunInputSpecs();
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
      {specs.map((spec) => (
        <label key={spec.name} className="field">
          <span className="field__label">
            {spec.name}
            {spec.required ? <span className="field__required">*</span> : null}
            <span className="field__kind">{spec.type}</span>
          </span>
          <input
            className="field__input"
            value={values[spec.name] ?? ""}
            placeholder={spec.type === "Text" ? "text" : "JSON value"}
            data-testid={`run-input-${spec.name}`}
            onChange={(event) => setInput(spec.name, event.target.value)}
          />
          {spec.description ? <span className="field__hint">{spec.description}</span> : null}
        </label>
      ))}
    </div>
  );
}
