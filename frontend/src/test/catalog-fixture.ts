import type { OperatorCatalog, OperatorRead, PortRead } from "../api/operators";

const port = (name: string, type: string, required = true): PortRead => ({
  name,
  type,
  required,
  description: "",
});

function operator(
  id: string,
  inputs: PortRead[],
  outputs: PortRead[],
  properties: Record<string, unknown> = {},
  extra: Partial<OperatorRead> = {},
): OperatorRead {
  return {
    id,
    version: 1,
    latest: true,
    category: "core",
    title: id.split(".")[1] ?? id,
    description: `The ${id} operator.`,
    icon: "box",
    tags: [],
    cacheable: true,
    params_schema: { type: "object", properties, required: [] },
    inputs,
    outputs,
    dynamic_inputs: false,
    dynamic_outputs: false,
    docs: "",
    source: "",
    input_rules: [],
    ...extra,
  };
}

/** A small catalog shaped like the backend's core pack (types as `GET /api/operators` gives them). */
export const catalogFixture: OperatorCatalog = {
  categories: [{ id: "core", title: "Core", description: "Core operators", icon: "box", count: 6 }],
  types: {},
  operators: [
    operator("core.constant", [], [port("value", "Json")], {
      value: { ui: { widget: "json" }, default: null },
      type: { ui: { widget: "port_type" }, type: "string", default: "Json" },
    }),
    operator("core.output", [port("value", "T")], [port("value", "T")], {
      name: { type: "string", default: "result" },
    }),
    operator(
      "core.template",
      [],
      [port("text", "Text")],
      {
        template: { ui: { widget: "prompt" }, type: "string", default: "" },
      },
      { dynamic_inputs: true },
    ),
    operator("core.delay", [port("value", "T")], [port("value", "T")], {
      seconds: { type: "number", minimum: 0, maximum: 3600, default: 1 },
    }),
    operator(
      "core.http_request",
      [port("url", "Optional[Text]", false)],
      [port("response", "HttpResponse"), port("status", "Int")],
    ),
    operator("test.stream", [], [port("tokens", "Stream[Text]")]),
    operator("test.table", [port("table", "Table")], [port("chart", "ChartSpec")]),
  ],
};

export const lookupFixture = (id: string) => catalogFixture.operators.find((op) => op.id === id);

export function fixtureOperator(id: string): OperatorRead {
  const found = lookupFixture(id);
  if (!found) throw new Error(`no fixture operator ${id}`);
  return found;
}
