/** JSON Schema helpers shared by new nodes and the params form. */
export type JsonSchema = Readonly<Record<string, unknown>>;

export function schemaProperties(schema: JsonSchema): Record<string, JsonSchema> {
  const properties = schema.properties;
  return typeof properties === "object" && properties !== null
    ? (properties as Record<string, JsonSchema>)
    : {};
}

/** The params of a freshly dropped node: every property's `default`, when it declares one. */
export function defaultParams(schema: JsonSchema): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const [name, property] of Object.entries(schemaProperties(schema))) {
    if ("default" in property) params[name] = structuredClone(property.default);
  }
  return params;
}
