import { describe, expect, it } from "vitest";
import { fieldSpecs, paramOfPath } from "./param-schema";

/** Shaped like `GET /api/operators` params schemas (msgspec output with `ui` hints). */
const schema = {
  title: "Params",
  type: "object",
  properties: {
    template: { ui: { widget: "prompt" }, type: "string", default: "" },
    mode: { description: "How to read it.", enum: ["all", "first"], default: "first" },
    count: { type: "integer", minimum: 2, maximum: 16, default: 2 },
    seconds: { type: "number", minimum: 0 },
    deep: { type: "boolean", default: true },
    value: { ui: { widget: "json" }, default: null },
    api_key: { ui: { widget: "secret" }, type: "string", minLength: 1 },
    model: { ui: { widget: "model", kind: "chat" }, type: "string" },
    type: { ui: { widget: "port_type" }, type: "string" },
    timeout_s: { anyOf: [{ type: "number", minimum: 1 }, { type: "null" }], default: null },
    condition: { $ref: "#/$defs/Condition" },
    expression: { ui: { widget: "expression" }, type: "string" },
  },
  required: ["api_key"],
  $defs: { Condition: { type: "object", properties: {} } },
};

describe("fieldSpecs", () => {
  const fields = Object.fromEntries(fieldSpecs(schema).map((field) => [field.name, field]));

  it("picks the widget from the ui hint, else from the JSON type", () => {
    expect(Object.fromEntries(Object.entries(fields).map(([name, f]) => [name, f.kind]))).toEqual({
      template: "prompt",
      mode: "select",
      count: "integer",
      seconds: "number",
      deep: "boolean",
      value: "json",
      api_key: "secret",
      model: "model",
      type: "port_type",
      timeout_s: "number",
      condition: "json",
      expression: "text",
    });
  });

  it("keeps choices, bounds, required, nullability and widget options", () => {
    expect(fields.mode?.choices).toEqual(["all", "first"]);
    expect(fields.mode?.description).toBe("How to read it.");
    expect([fields.count?.minimum, fields.count?.maximum]).toEqual([2, 16]);
    expect(fields.api_key?.required).toBe(true);
    expect(fields.count?.required).toBe(false);
    expect(fields.timeout_s).toMatchObject({ nullable: true, minimum: 1 });
    expect(fields.model?.options).toEqual({ kind: "chat" });
    expect(fields.api_key?.title).toBe("Api key");
  });
});

describe("paramOfPath", () => {
  it("finds the param a diagnostic points at", () => {
    expect(paramOfPath("$.nodes[2].params.top_k")).toBe("top_k");
    expect(paramOfPath("$.nodes[0].params.conditions[1].port")).toBe("conditions");
    expect(paramOfPath("$.edges[3]")).toBeNull();
  });
});
