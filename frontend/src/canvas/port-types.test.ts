import { describe, expect, it } from "vitest";
import cases from "../../../tests/fixtures/port-compat-cases.json";
import {
  type Bindings,
  checkCompatible,
  erase,
  formatPortType,
  parsePortType,
  substitute,
  unify,
} from "./port-types";

/**
 * The cases live in `tests/fixtures/port-compat-cases.json`; the backend's
 * `tests/unit/sdk/test_port_cases_shared.py` checks the same file against `rivulet.sdk.ports` and the
 * compiler's inference, so a rule changed on one side only fails one of the two suites.
 */
const t = parsePortType;

interface CompatibleCase {
  readonly source: string;
  readonly target: string;
  readonly ok: boolean;
  readonly coercion: "collect" | null;
  readonly reason?: string;
}

interface ParseCase {
  readonly text: string;
  readonly formatted?: string;
  readonly variable?: boolean;
  readonly error?: string;
}

interface InferenceCase {
  readonly connections: readonly (readonly string[])[];
  readonly resolved: Readonly<Record<string, string>>;
}

const compatible: readonly CompatibleCase[] = cases.compatible as CompatibleCase[];
const parsing: readonly ParseCase[] = cases.parse;
const inference: readonly InferenceCase[] = cases.inference as InferenceCase[];

describe("checkCompatible agrees with rivulet.sdk.ports.check_compatible", () => {
  it.each(compatible)("$source → $target", (entry) => {
    expect(checkCompatible(t(entry.source), t(entry.target))).toEqual({
      ok: entry.ok,
      coercion: entry.coercion,
      reason: entry.reason ?? "",
    });
  });
});

describe("parsePortType agrees with rivulet.sdk.ports.parse_port_type", () => {
  it.each(parsing)("'$text'", (entry) => {
    if (entry.error !== undefined) {
      expect(() => t(entry.text)).toThrow(entry.error);
      return;
    }
    const parsed = t(entry.text);
    expect(formatPortType(parsed)).toBe(entry.formatted);
    expect(parsed.variable).toBe(entry.variable ?? false);
  });
});

describe("generic inference agrees with the compiler's unify/substitute/erase", () => {
  it.each(inference)("$connections", (entry) => {
    const bindings: Bindings = {};
    for (const [pattern = "", concrete = ""] of entry.connections) {
      unify(t(pattern), t(concrete), bindings);
    }
    const resolved = Object.fromEntries(
      Object.keys(entry.resolved).map((text) => [
        text,
        formatPortType(erase(substitute(t(text), bindings))),
      ]),
    );
    expect(resolved).toEqual(entry.resolved);
  });
});
