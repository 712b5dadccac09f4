import { useModels } from "../api/models";

/** A select of the chat models (`/api/models`); `default` is always offered. */
export function ModelPicker({
  value,
  onChange,
}: {
  readonly value: string;
  readonly onChange: (model: string) => void;
}) {
  const { data: models } = useModels();
  const names = (models ?? []).filter((model) => model.kind === "chat").map((model) => model.name);
  const options = names.includes(value) ? names : [value, ...names];
  return (
    <label className="field data-model">
      <span className="field__label">Model</span>
      <select
        className="field__input"
        value={value}
        onChange={(event) => onChange(event.target.value)}
      >
        {options.map((name) => (
          <option key={name} value={name}>
            {name}
          </option>
        ))}
      </select>
    </label>
  );
}
