import { describe, expect, it } from "vitest";
import {
  type Bindings,
  checkCompatible,
  erase,
  formatPortType,
  parsePortType,
  substitute,
  unify,
} from "./port-types";

const t = parsePortType;
const fits = (source: string, target: string) => checkCompatible(t(source), t(target));

describe("parsePortType", () => {
  it("parses nested wrappers and generic variables", () => {
    expect(formatPortType(t("List[Optional[Text]]"))).toBe("List[Optional[Text]]");
    expect(t("T")).toMatchObject({ name: "T", variable: true });
  });

  it("rejects unknown names and arguments on base types, like the backend", () => {
    expect(() => t("Txt")).toThrow(/unknown port type 'Txt'/);
    expect(() => t("Text[Int]")).toThrow(/takes no type argument/);
    expect(() => t("List[Text")).toThrow(/expected '\]'/);
  });
});

describe("checkCompatible mirrors rivulet.sdk.ports.check_compatible", () => {
  it.each([
    ["Text", "Text"],
    ["Int", "Any"],
    ["Any", "Table"],
    ["Text", "Json"],
    ["Bool", "Json"],
    ["Text", "Optional[Text]"],
    ["Optional[Text]", "Optional[Text]"],
    ["List[Text]", "List[Json]"],
    ["Stream[Text]", "Stream[Json]"],
  ])("%s fits %s", (source, target) => {
    expect(fits(source, target)).toMatchObject({ ok: true, coercion: null });
  });

  it("collects a stream into a value or a list", () => {
    expect(fits("Stream[Text]", "Text").coercion).toBe("collect");
    expect(fits("Stream[Chunk]", "List[Chunk]").coercion).toBe("collect");
  });

  it.each([
    ["Text", "Int"],
    ["Json", "Text"],
    ["Table", "Json"],
    ["Optional[Text]", "Text"],
    ["List[Text]", "Text"],
    ["Text", "Stream[Text]"],
    ["Stream[Int]", "Text"],
  ])("%s does not fit %s", (source, target) => {
    const verdict = fits(source, target);
    expect(verdict.ok).toBe(false);
    expect(verdict.reason).toBe(`${source} cannot connect to ${target}`);
  });
});

describe("generic inference mirrors the compiler's unify/substitute", () => {
  it("binds a variable from the first connection and erases unbound ones to Any", () => {
    const bindings: Bindings = {};
    unify(t("List[T]"), t("List[Chunk]"), bindings);
    unify(t("T"), t("Text"), bindings);
    expect(formatPortType(substitute(t("T"), bindings))).toBe("Chunk");
    expect(formatPortType(erase(substitute(t("Optional[U]"), bindings)))).toBe("Optional[Any]");
  });

  it("looks through Optional and streams", () => {
    const bindings: Bindings = {};
    unify(t("Optional[T]"), t("Int"), bindings);
    const streamed: Bindings = {};
    unify(t("List[T]"), t("Stream[Text]"), streamed);
    expect(bindings.T?.name).toBe("Int");
    expect(streamed.T).toBeUndefined();
    unify(t("T"), t("Stream[Text]"), streamed);
    expect(formatPortType(streamed.T ?? t("Any"))).toBe("Stream[Text]");
  });
});
