import { type JsonSchema, schemaProperties } from "../canvas/param-defaults";

/** How a param is edited; from the `ui.widget` hint, else from the JSON type. */
export type FieldKind =
  | "text"
  | "textarea"
  | "prompt"
  | "code"
  | "json"
  | "number"
  | "integer"
  | "boolean"
  | "select"
  | "secret"
  | "model"
  | "datasource"
  | "knowledge_space"
  | "port_type";

export interface FieldSpec {
  readonly name: string;
  readonly kind: FieldKind;
  readonly title: string;
  readonly description: string;
  readonly required: boolean;
  readonly nullable: boolean;
  readonly choices: readonly (string | number)[];
  readonly minimum: number | undefined;
  readonly maximum: number | undefined;
  readonly defaultValue: unknown;
  /** Widget options (`language`, `kind`, …). */
  readonly options: Readonly<Record<string, unknown>>;
}

const PICKERS = new Set(["secret", "model", "datasource", "knowledge_space", "port_type"]);
const TEXTS = new Set(["textarea", "prompt", "code", "json", "expression", "text"]);

function resolveRef(schema: JsonSchema, root: JsonSchema): JsonSchema {
  const ref = schema.$ref;
  if (typeof ref !== "string" || !ref.startsWith("#/")) return schema;
  let target: unknown = root;
  for (const part of ref.slice(2).split("/")) {
    target = (target as Record<string, unknown> | undefined)?.[part];
  }
  return typeof target === "object" && target !== null
    ? { ...(target as JsonSchema), ...schema, $ref: undefined }
    : schema;
}

/** `anyOf: [X, {type: null}]` (an Optional field) becomes X, flagged nullable. */
function unwrapOptional(schema: JsonSchema, root: JsonSchema): [JsonSchema, boolean] {
  const variants = schema.anyOf;
  if (!Array.isArray(variants)) return [resolveRef(schema, root), false];
  const others = (variants as JsonSchema[]).filter((variant) => variant.type !== "null");
  const nullable = others.length < variants.length;
  if (others.length === 1 && others[0]) {
    const { anyOf: _drop, ...rest } = schema;
    return [{ ...resolveRef(others[0], root), ...rest }, nullable];
  }
  return [schema, nullable];
}

function kindOf(schema: JsonSchema): FieldKind {
  const ui = schema.ui as { widget?: unknown } | undefined;
  const widget = typeof ui?.widget === "string" ? ui.widget : "";
  if (PICKERS.has(widget)) return widget as FieldKind;
  if (widget === "select" || Array.isArray(schema.enum)) return "select";
  if (widget === "expression") return "text";
  if (TEXTS.has(widget)) return widget as FieldKind;
  switch (schema.type) {
    case "string":
      return "text";
    case "integer":
      return "integer";
    case "number":
      return "number";
    case "boolean":
      return "boolean";
    default:
      return "json";
  }
}

const sentenceCase = (name: string) => {
  const words = name.replaceAll("_", " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
};

const asNumber = (value: unknown) => (typeof value === "number" ? value : undefined);

/** The form's fields, in the schema's property order. */
export function fieldSpecs(schema: JsonSchema): FieldSpec[] {
  const required = Array.isArray(schema.required) ? (schema.required as string[]) : [];
  return Object.entries(schemaProperties(schema)).map(([name, raw]) => {
    const [property, nullable] = unwrapOptional(raw, schema);
    const ui = (property.ui ?? {}) as Record<string, unknown>;
    const { widget: _widget, ...options } = ui;
    return {
      name,
      kind: kindOf(property),
      title: typeof property.title === "string" ? property.title : sentenceCase(name),
      description: typeof property.description === "string" ? property.description : "",
      required: required.includes(name),
      nullable,
      choices: Array.isArray(property.enum) ? (property.enum as (string | number)[]) : [],
      minimum: asNumber(property.minimum) ?? asNumber(property.exclusiveMinimum),
      maximum: asNumber(property.maximum) ?? asNumber(property.exclusiveMaximum),
      defaultValue: property.default,
      options,
    };
  });
}

/** The diagnostic path's param name: `$.nodes[2].params.top_k[0]` → `top_k`. */
export function paramOfPath(path: string): string | null {
  const match = /\.params\.([A-Za-z_][A-Za-z0-9_]*)/.exec(path);
  return match?.[1] ?? null;
}
