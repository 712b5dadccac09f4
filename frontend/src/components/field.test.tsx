import { fireEvent, render, screen } from "@testing-library/react";
import { useState } from "react";
import { describe, expect, it, vi } from "vitest";
import { Field, InputField } from "./field";

function Controlled({ onValue }: { readonly onValue: (value: string) => void }) {
  const [value, setValue] = useState("");
  return (
    <InputField
      label="Calls per minute"
      type="number"
      min={1}
      placeholder="unlimited"
      value={value}
      onValue={(next) => {
        setValue(next);
        onValue(next);
      }}
    />
  );
}

describe("Field", () => {
  it("labels its control, the hint being part of the label", () => {
    render(
      <Field label="Flow" hint="the one to publish">
        <select className="field__input">
          <option>a</option>
        </select>
      </Field>,
    );
    const select = screen.getByRole("combobox", { name: /^Flow/ });
    expect(select.closest("label")).toHaveClass("field");
    expect(screen.getByText("the one to publish")).toHaveClass("field__hint");
    expect(screen.getByText("Flow")).toHaveClass("field__label");
  });

  it("renders no hint when there is none", () => {
    const { container } = render(
      <Field label="Name">
        <input />
      </Field>,
    );
    expect(screen.getByRole("textbox", { name: "Name" })).toBeInTheDocument();
    expect(container.querySelector(".field__hint")).toBeNull();
  });
});

describe("InputField", () => {
  it("passes input attributes through and reports each new value", () => {
    const onValue = vi.fn();
    render(<Controlled onValue={onValue} />);
    const input = screen.getByRole("spinbutton", { name: "Calls per minute" });
    expect(input).toHaveAttribute("placeholder", "unlimited");
    expect(input).toHaveAttribute("min", "1");
    expect(input).toHaveClass("field__input");
    fireEvent.change(input, { target: { value: "12" } });
    expect(onValue).toHaveBeenCalledWith("12");
    expect(input).toHaveValue(12);
  });
});
