import type { InputHTMLAttributes, ReactNode } from "react";

interface FieldProps {
  /** The visible label; it also names the control (what `getByLabel` and screen readers read). */
  readonly label: ReactNode;
  /** Help under the control (inside the label, so it is part of the control's name). */
  readonly hint?: ReactNode;
  /** The control: an `<input>`, `<select>` or `<textarea>` (give it `className="field__input"`). */
  readonly children: ReactNode;
}

/** One form row: a label wrapping its control, with an optional hint. */
export function Field({ label, hint, children }: FieldProps) {
  return (
    // biome-ignore lint/a11y/noLabelWithoutControl: the control comes in as `children`
    <label className="field">
      <span className="field__label">{label}</span>
      {children}
      {hint ? <small className="field__hint">{hint}</small> : null}
    </label>
  );
}

type InputAttributes = Omit<
  InputHTMLAttributes<HTMLInputElement>,
  "className" | "value" | "onChange"
>;

interface InputFieldProps extends InputAttributes, Omit<FieldProps, "children"> {
  readonly value: string | number;
  /** Called with the input's new text on every change. */
  readonly onValue: (value: string) => void;
}

/** A `Field` holding a text-like `<input>`; other input attributes (type, min, required…) pass through. */
export function InputField({ label, hint, value, onValue, ...input }: InputFieldProps) {
  return (
    <Field label={label} hint={hint}>
      <input
        {...input}
        className="field__input"
        value={value}
        onChange={(event) => onValue(event.target.value)}
      />
    </Field>
  );
}
