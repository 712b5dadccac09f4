import { screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { Health } from "../api/health";
import { renderWithClient, stubFetchFailure, stubFetchJson } from "../test/render-with-client";
import { describeHealth, HealthPill } from "./health-pill";

const healthy: Health = {
  status: "ok",
  database: "ok",
  pgvector: "0.8.0",
  postgres: "17.2",
  version: "0.1.0",
};

describe("HealthPill", () => {
  it("shows the database and pgvector version in green when the backend is ok", async () => {
    const fetchMock = stubFetchJson(healthy);
    renderWithClient(<HealthPill />);

    const pill = await screen.findByText("Database ok · pgvector 0.8.0");
    expect(pill.closest("output")).toHaveAttribute("data-state", "ok");
    expect(pill.closest("output")).toHaveClass("health-pill--ok");
    const request = fetchMock.mock.calls[0]?.[0];
    expect(request?.method).toBe("GET");
    expect(new URL(request?.url ?? "").pathname).toBe("/api/health");
  });

  it("shows the database error in red when the backend reports degraded (503)", async () => {
    stubFetchJson(
      { status: "degraded", database: "connection refused", pgvector: null, version: "0.1.0" },
      503,
    );
    renderWithClient(<HealthPill />);

    const pill = await screen.findByText("Database: connection refused");
    expect(pill.closest("output")).toHaveAttribute("data-state", "error");
    expect(pill.closest("output")).toHaveAttribute("title", "connection refused");
  });

  it("shows the API as unreachable in red when the request fails", async () => {
    stubFetchFailure("Failed to fetch");
    renderWithClient(<HealthPill />);

    const pill = await screen.findByText("API unreachable");
    expect(pill.closest("output")).toHaveAttribute("data-state", "error");
    expect(pill.closest("output")).toHaveAttribute("title", "Failed to fetch");
  });

  it("treats an unexpected status without a health body as an error", async () => {
    stubFetchJson({ detail: "Internal Server Error" }, 500);
    renderWithClient(<HealthPill />);

    const pill = await screen.findByText("API unreachable");
    expect(pill.closest("output")).toHaveAttribute("title", expect.stringContaining("500"));
  });
});

describe("describeHealth", () => {
  it("flags a reachable database without pgvector", () => {
    const view = describeHealth({ ...healthy, status: "degraded", pgvector: null });
    expect(view).toMatchObject({ state: "error", label: "pgvector missing" });
  });
});
