import { describe, expect, it } from "vitest";
import { datasourceFixture } from "../test/data-fixture";
import { formatAge, locationOf } from "./format";

describe("data format helpers", () => {
  it("says how long ago a schema was read", () => {
    const now = Date.parse("2025-01-01T12:00:00Z");
    expect(formatAge(null, now)).toBe("never");
    expect(formatAge("2025-01-01T11:59:30Z", now)).toBe("just now");
    expect(formatAge("2025-01-01T11:50:00Z", now)).toBe("10 min ago");
    expect(formatAge("2025-01-01T09:00:00Z", now)).toBe("3 h ago");
    expect(formatAge("2024-11-02T09:00:00Z", now)).toBe("2024-11-02");
  });

  it("shows where a source lives without a credential", () => {
    expect(
      locationOf(
        datasourceFixture({
          kind: "postgres",
          config: { host: "db", port: 5432, database: "sales", user: "ro" },
        }),
      ),
    ).toBe("db:5432/sales");
    expect(locationOf(datasourceFixture())).toBe("/home/rivulet/samples/shop.sqlite");
    expect(
      locationOf(
        datasourceFixture({
          kind: "file",
          config: { files: [{ path: "/h/ds/1/sales.xlsx" }, { path: "/h/ds/1/b.csv" }] },
        }),
      ),
    ).toBe("sales.xlsx, b.csv");
  });
});
