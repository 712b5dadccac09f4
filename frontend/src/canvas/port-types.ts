/**
 * Port types and their connection rules, mirroring the backend exactly:
 * `rivulet.sdk.ports` (`parse_port_type`, `check_compatible`) and the compiler's generic inference
 * (`rivulet.compiler.passes.check_types`: `unify`, `substitute`, erase). The vocabulary (base type
 * names, wrappers, what `Json` accepts) comes from `schemas/types.json`; nothing here invents a rule
 * of its own. `tests/fixtures/port-compat-cases.json` holds the cases both this module's tests and the
 * backend's (`tests/unit/sdk/test_port_cases_shared.py`) check, so the two cannot drift apart.
 */
import typeRules from "../../../schemas/types.json";

export interface PortType {
  readonly name: string;
  readonly args: readonly PortType[];
  /** A generic variable (`T`), bound by the first connection into the node. */
  readonly variable: boolean;
}

export interface Compatibility {
  readonly ok: boolean;
  /** `collect`: the compiler inserts a collect step (Stream[T] → T or List[T]). */
  readonly coercion: "collect" | null;
  readonly reason: string;
}

export const BASE_TYPES: readonly string[] = typeRules.base_types;
export const WRAPPERS: readonly string[] = typeRules.wrappers;
/** The base types a `Json` port accepts (besides `Any`). */
const JSON_SOURCES: readonly string[] = typeRules.json_sources;
/** The human-readable rules, as exported by the backend (shown in the editor's help). */
export const TYPE_RULES: readonly { readonly id: string; readonly text: string }[] =
  typeRules.rules;

const ANY: PortType = { name: "Any", args: [], variable: false };

export function formatPortType(type: PortType): string {
  return type.args.length ? `${type.name}[${type.args.map(formatPortType).join(", ")}]` : type.name;
}

/** Parses `List[Optional[Text]]`; a single upper-case letter (`T`) is a generic variable. */
export function parsePortType(text: string): PortType {
  const tokens = text.match(/[A-Za-z_][A-Za-z0-9_]*|\[|\]|,/g) ?? [];
  let pos = 0;
  const parse = (): PortType => {
    const name = tokens[pos++];
    if (name === undefined) throw new Error(`unexpected end of port type '${text}'`);
    if (tokens[pos] === "[") {
      pos++;
      const inner = parse();
      if (tokens[pos] !== "]") throw new Error(`expected ']' in port type '${text}'`);
      pos++;
      if (!WRAPPERS.includes(name))
        throw new Error(`'${name}' takes no type argument in '${text}'`);
      return { name, args: [inner], variable: false };
    }
    if (BASE_TYPES.includes(name)) return { name, args: [], variable: false };
    if (/^[A-Z]$/.test(name)) return { name, args: [], variable: true };
    throw new Error(`unknown port type '${name}' in '${text}'; known: ${BASE_TYPES.join(", ")}`);
  };
  const result = parse();
  if (pos !== tokens.length) throw new Error(`trailing text in port type '${text}'`);
  return result;
}

function equal(a: PortType, b: PortType): boolean {
  return (
    a.name === b.name &&
    a.variable === b.variable &&
    a.args.length === b.args.length &&
    a.args.every((arg, index) => {
      const other = b.args[index];
      return other !== undefined && equal(arg, other);
    })
  );
}

const ok = (coercion: "collect" | null = null): Compatibility => ({
  ok: true,
  coercion,
  reason: "",
});

/** `check_compatible` of `rivulet.sdk.ports`, for concrete (variable-free) types. */
export function checkCompatible(source: PortType, target: PortType): Compatibility {
  if (equal(source, target) || target.name === "Any" || source.name === "Any") return ok();
  if (target.name === "Json" && JSON_SOURCES.includes(source.name)) return ok();
  const [targetArg] = target.args;
  const [sourceArg] = source.args;
  if (target.name === "Optional" && targetArg) {
    if (source.name === "Optional" && sourceArg) return checkCompatible(sourceArg, targetArg);
    return checkCompatible(source, targetArg);
  }
  if (target.name === "List" && source.name === "List" && sourceArg && targetArg) {
    return checkCompatible(sourceArg, targetArg);
  }
  if (source.name === "Stream" && target.name !== "Stream" && sourceArg) {
    const candidates = [target, target.name === "List" ? targetArg : undefined];
    for (const candidate of candidates) {
      if (candidate && checkCompatible(sourceArg, candidate).ok) return ok("collect");
    }
  }
  if (source.name === "Stream" && target.name === "Stream" && sourceArg && targetArg) {
    return checkCompatible(sourceArg, targetArg);
  }
  return {
    ok: false,
    coercion: null,
    reason: `${formatPortType(source)} cannot connect to ${formatPortType(target)}`,
  };
}

export type Bindings = Record<string, PortType>;

/** Replaces bound variables; unbound ones stay variables. */
export function substitute(type: PortType, bindings: Bindings): PortType {
  if (type.variable) return bindings[type.name] ?? type;
  if (!type.args.length) return type;
  return { ...type, args: type.args.map((arg) => substitute(arg, bindings)) };
}

/** Binds the variables of `pattern` from `concrete` (the first binding wins). */
export function unify(pattern: PortType, concrete: PortType, bindings: Bindings): void {
  const [patternArg] = pattern.args;
  if (pattern.variable) {
    bindings[pattern.name] ??= concrete;
  } else if (pattern.name === "Optional" && concrete.name !== "Optional" && patternArg) {
    unify(patternArg, concrete, bindings);
  } else if (
    pattern.args.length &&
    pattern.name === concrete.name &&
    pattern.args.length === concrete.args.length
  ) {
    pattern.args.forEach((arg, index) => {
      const other = concrete.args[index];
      if (other) unify(arg, other, bindings);
    });
  } else if (pattern.args.length && concrete.name === "Stream" && pattern.name !== "Stream") {
    const [inner] = concrete.args;
    if (inner) unify(pattern, inner, bindings);
  }
}

/** Unbound variables become `Any`. */
export function erase(type: PortType): PortType {
  if (type.variable) return ANY;
  if (!type.args.length) return type;
  return { ...type, args: type.args.map(erase) };
}

/** Parses leniently: an unparsable type string (a port of an unknown pack) is treated as `Any`. */
export function safeParsePortType(text: string): PortType {
  try {
    return parsePortType(text);
  } catch {
    return ANY;
  }
}
